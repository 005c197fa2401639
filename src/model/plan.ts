/**
 * Plans: what the main thread asks a worker to do, as plain data. A plan names every file the
 * job's FFmpeg may touch and where its bytes come from or go; the worker builds exactly those
 * nodes and nothing else. Plans can be logged and tested without running them.
 */
import type { ImageJobInfo, ImageSpec } from './image-spec.js';
import type { LoudnessMeasure } from './loudness.js';

/** Where a job input's bytes come from. `shared` bytes are read in place, never copied. */
export type InputSource = { type: 'path'; path: string } | { type: 'shared'; buffer: SharedArrayBuffer; byteLength: number };

/**
 * Where a job output's bytes go: a host file (a temporary name the engine commits) or back.
 * A `bytes` sink may be given the buffer to fill (`into`, for outputs of a known size made in
 * the worker, like a decoded frame): the output is exactly that buffer, and cannot outgrow it.
 */
export type OutputSink = { type: 'path'; path: string } | { type: 'bytes'; into?: Uint8Array } | { type: 'analysis' };

/** A piece of the file a job input presents: a byte range of its source, or bytes of its own. */
export type InputPiece = { from: number; to: number } | { bytes: Uint8Array };

/** The directory a job's FFmpeg sees; it holds only the plan's inputs and outputs. */
export const JOB_DIR = '/job';

/** A plan file's path as FFmpeg opens it. */
export function jobPath(name: string): string {
  return `${JOB_DIR}/${name}`;
}

export interface PlanInput {
  /** File name inside the job directory, e.g. `in0.flac`. */
  name: string;
  source: InputSource;
  /**
   * The file FFmpeg sees, when it is not the source as it is: these pieces in order. The image
   * pipeline hands the decoder only the parts of a file it decodes (no metadata chunks, nothing
   * after the image) or patches a byte, without copying the source.
   */
  view?: InputPiece[];
}

export interface PlanOutput {
  name: string;
  sink: OutputSink;
}

export interface JobLimits {
  maxOutputBytes: number;
  /** Total of the job's `bytes` outputs, which are held in memory as they grow. */
  maxReturnedBytes: number;
  maxHeapBytes: number;
  /** Stop the run when FFmpeg's `time=` passes this (a lying header cannot get past it). */
  maxDurationSeconds: number;
}

export interface FFmpegPlan {
  op: 'ffmpeg';
  /** What the job is, for progress events and error messages (`probe`, `ladder`, …). */
  phase: string;
  inputs: PlanInput[];
  outputs: PlanOutput[];
  /** FFmpeg arguments, referring to inputs and outputs by their `/job/<name>` paths. */
  args: string[];
  limits: JobLimits;
  /** Threads the run's encoders and decoders use (the args say so too): above 1, it runs on the engine's multithreaded core. */
  threads?: number;
}

export interface ProbePlan {
  op: 'probe';
  phase: 'probe';
  inputs: [PlanInput];
  outputs: [];
  limits: JobLimits;
}

/**
 * Decodes to interleaved f32 PCM written to the plan's one `analysis` output, which the worker
 * measures chunk by chunk as FFmpeg writes it (loudness, waveform peaks): the PCM is never stored.
 */
export interface AnalyzePlan extends Omit<FFmpegPlan, 'op'> {
  op: 'analyze';
  analysis: AnalysisSpec;
}

export interface AnalysisSpec {
  /** Of the PCM FFmpeg writes (the args force these). */
  sampleRate: number;
  channels: number;
  /** BS.1770 weight per channel; omitted: no loudness measurement. */
  weights?: number[];
  /** `maxColumns` bounds the result as it grows (it comes back in memory: `maxReturnedBytes`). */
  peaks?: { samplesPerPixel: number; bits: 8 | 16; splitChannels: boolean; maxColumns: number };
}

/** What the worker measured, as plain data. */
export interface AnalysisData {
  frames: number;
  loudness?: LoudnessMeasure & { gating: { bins: number[]; counts: number[]; energies: number[] } };
  /** Min/max per pixel column, channel-interleaved per column. */
  /** `overflow`: columns past the spec's `maxColumns`, dropped (the result is refused). */
  peaks?: { data: Int16Array; length: number; channels: number; overflow: number };
}

/** Decode one image, resize it to each target and encode them, all in one worker task. */
export interface ImagePlan {
  op: 'image';
  phase: string;
  inputs: [PlanInput];
  outputs: PlanOutput[];
  limits: JobLimits;
  image: ImageSpec;
}

export type Plan = FFmpegPlan | ProbePlan | AnalyzePlan | ImagePlan;

/** What a worker sends back on its progress port while a job runs. */
export type WorkerEvent = { type: 'started' } | { type: 'stats'; seconds: number; speed: number | undefined };

export interface JobOutputResult {
  name: string;
  size: number;
  /** Present for `bytes` sinks. */
  bytes?: Uint8Array;
}

export interface JobResult {
  outputs: JobOutputResult[];
  /** Measurements of analyze plans. */
  analysis?: AnalysisData;
  /** What an image plan decoded and wrote. */
  image?: ImageJobInfo;
  /** ffprobe's JSON, for probe plans. */
  probe?: unknown;
  /** The last FFmpeg log lines, for reports and debugging. */
  log: string[];
  /** The last `time=` FFmpeg reported: media seconds it processed (decoded duration). */
  mediaSeconds: number | null;
  /** Time spent in the core, ms (excludes queueing and instantiation). */
  execMs: number;
  /** Time spent creating the core for this job, 0 when a warm instance was reused. */
  instantiateMs: number;
}

/** The cancel flag's values: why the main thread (or the worker itself) stopped a job. */
export const CANCEL = { none: 0, abort: 1, timeout: 2, duration: 3 } as const;
