/**
 * The engine: validates a call's options, resolves its input, plans the job(s), runs them on the
 * pool, and commits or rolls back outputs. Every public call takes an AbortSignal, progress
 * listener and per-call limits.
 */
import { basename, extname, join } from 'node:path';
import { type MediaInput, type ResolvedInput, resolveInput } from './call/input.js';
import { OutputSet } from './call/outputs.js';
import { AbortedError, InputError, InternalError, LimitError, OptionsError, SandcodecError } from './errors.js';
import type { JobLimits, JobResult, OutputSink, Plan } from './model/plan.js';
import { AUDIO_PRESET_NAMES, type AudioPreset, getAudioPreset } from './model/presets.js';
import { type ProbeResult, parseProbe, primaryAudio } from './model/probe-result.js';
import { type AnalysisResult, analyzeInput, type CallJobs, publicAnalysis } from './ops/analyze.js';
import { type GenerateOptions, generatePlan, resolveGenerate } from './ops/generate.js';
import { GENERATE_VIDEO_KEYS, type GenerateVideoOptions, generateVideoPlan, resolveGenerateVideo } from './ops/generate-video.js';
import { type ImageTarget, TARGET_KEYS } from './ops/image.js';
import {
  IMAGE_SET_OPTION_KEYS,
  type ImageSetOptions,
  type ImageSetResult,
  imageSetCall,
  imageStem,
  RESIZE_OPTION_KEYS,
  type ResizeImageOptions,
  type ResizeResult,
  resizeCall,
} from './ops/image-call.js';
import { ladderPlan, type RenditionTarget } from './ops/ladder.js';
import type { Loudness } from './ops/loudness.js';
import {
  type AlbumNormalizeOptions,
  type AlbumNormalizeResult,
  type NormalizeOptions,
  type NormalizeResult,
  normalizeAlbum,
  normalizeTrack,
} from './ops/normalize.js';
import { PACKAGE_OPTION_KEYS, type PackageOptions, type PackageResult, packageInput } from './ops/package.js';
import type { PeaksOptions, Waveform } from './ops/peaks.js';
import { resolvePeaks } from './ops/peaks.js';
import { decodePlan, probePlan } from './ops/probe.js';
import { THUMBNAIL_OPTION_KEYS, type ThumbnailOptions, type ThumbnailResult, thumbnailsInput } from './ops/thumbnails.js';
import { type EngineOptions, type Limits, type ResolvedEngineOptions, resolveEngineOptions, resolveLimits } from './options.js';
import { JobPool } from './pool/pool.js';
import { type ProgressListener, ProgressTracker } from './progress.js';

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Overrides of the engine's limits for this call. */
  limits?: Partial<Limits>;
}

export interface ProbeOptions extends CallOptions {
  /** Also decode the first audio (else video) stream and report `decodedDuration`. */
  decode?: boolean;
}

export interface TranscodeOptions extends CallOptions {
  preset: string;
  /** Host path to write; without it the rendition comes back as `bytes`. */
  output?: string;
}

export interface LadderOptions extends CallOptions {
  /** Directory for the renditions; without it they come back as `bytes`. */
  outputDir?: string;
  /** File name stem of the renditions (default: the input's, or `audio`). */
  baseName?: string;
}

export interface Rendition {
  preset: string;
  codec: string;
  /** Where it was written, when an output path or directory was given. */
  path?: string;
  bytes?: Uint8Array;
  size: number;
  /** Average bit/s over the source duration. */
  bitrate: number | null;
}

export interface LadderResult {
  source: ProbeResult;
  renditions: Rendition[];
  /** Wall time of the encode job, ms. */
  elapsedMs: number;
  /** Source seconds encoded per wall second (all renditions together). */
  realtimeFactor: number | null;
}

export interface TranscodeResult extends Rendition {
  source: ProbeResult;
  elapsedMs: number;
  realtimeFactor: number | null;
}

export interface GenerateResult {
  path?: string;
  bytes?: Uint8Array;
  size: number;
  seconds: number;
}

export interface AnalyzeOptions extends CallOptions {
  /** Measure loudness (default true). */
  loudness?: boolean;
  /** Also compute waveform peaks, from the same decode. */
  peaks?: PeaksOptions;
}

export class Engine {
  private constructor(
    private readonly pool: JobPool,
    readonly options: ResolvedEngineOptions,
  ) {}

  static async create(options?: EngineOptions): Promise<Engine> {
    const resolved = resolveEngineOptions(options);
    const pool = await JobPool.create({
      workers: resolved.workers,
      maxQueue: resolved.maxQueue,
      recycleHeapBytes: 256 * 1024 ** 2,
      terminateGraceMs: 50,
    });
    return new Engine(pool, resolved);
  }

  get workers(): number {
    return this.pool.workers;
  }

  /** Jobs running or waiting. */
  get inFlight(): number {
    return this.pool.inFlight;
  }

  async probe(input: MediaInput, options: ProbeOptions = {}): Promise<ProbeResult> {
    checkCallOptions(options, ['decode']);
    const limits = this.limitsFor(options);
    const resolved = await resolveInput(input, limits.maxInputBytes, options.signal);
    try {
      const probe = await this.probeResolved(resolved, limits, options);
      const plan = options.decode ? decodePlan(resolved, probe, jobLimits(limits)) : undefined;
      if (plan) {
        const tracker = new ProgressTracker(options.onProgress);
        const decoded = await this.run(plan, limits, options, tracker.phase('decode', probe.duration));
        probe.decodedDuration = decoded.mediaSeconds ?? 0;
        // The worker throttles its reports and may drop the last one: close the phase here.
        tracker.emit('decode', 1, probe.decodedDuration, undefined);
      }
      return probe;
    } finally {
      await resolved.release();
    }
  }

  async transcode(input: MediaInput, options: TranscodeOptions): Promise<TranscodeResult> {
    checkCallOptions(options, ['preset', 'output']);
    const preset = presetOption('preset', options.preset);
    if (options.output !== undefined && (typeof options.output !== 'string' || !options.output)) {
      throw new OptionsError('output', 'must be a non-empty path');
    }
    const destinations = options.output ? [options.output] : undefined;
    const result = await this.encode('transcode', input, [preset], destinations, options);
    const [rendition] = result.renditions;
    return { ...rendition!, source: result.source, elapsedMs: result.elapsedMs, realtimeFactor: result.realtimeFactor };
  }

  async ladder(input: MediaInput, presets: string[], options: LadderOptions = {}): Promise<LadderResult> {
    checkCallOptions(options, ['outputDir', 'baseName']);
    if (!Array.isArray(presets) || presets.length === 0) throw new OptionsError('presets', 'must be a non-empty array of preset names');
    const resolvedPresets = presets.map((p, i) => presetOption(`presets[${i}]`, p));
    if (new Set(presets).size !== presets.length) throw new OptionsError('presets', 'must not name a preset twice');
    let destinations: string[] | undefined;
    if (options.outputDir !== undefined) {
      if (typeof options.outputDir !== 'string' || !options.outputDir) throw new OptionsError('outputDir', 'must be a non-empty path');
      const stem = options.baseName ?? inputStem(input);
      if (!/^[^/\\\0]+$/.test(stem)) throw new OptionsError('baseName', 'must be a file name without slashes');
      destinations = resolvedPresets.map((p) => join(options.outputDir!, `${stem}.${p.name}.${p.extension}`));
    }
    return this.encode('ladder', input, resolvedPresets, destinations, options);
  }

  /** Makes sample audio inside the sandbox (see `GenerateOptions`). */
  async generate(options: GenerateOptions & CallOptions & { output?: string }): Promise<GenerateResult> {
    checkCallOptions(options, ['kind', 'seconds', 'sampleRate', 'channels', 'frequency', 'amplitude', 'preset', 'output']);
    const g = resolveGenerate(options);
    return this.generateWith((sink, limits) => generatePlan(g, sink, limits), g.seconds, options);
  }

  /** BS.1770-4 / EBU R128 loudness of the first audio stream, from one streamed decode. */
  async loudness(input: MediaInput, options: CallOptions = {}): Promise<Loudness> {
    checkCallOptions(options, []);
    const result = await this.analyze(input, options);
    return result.loudness!;
  }

  /** Waveform peaks of the first audio stream (audiowaveform JSON, version 2). */
  async peaks(input: MediaInput, options: PeaksOptions & CallOptions = {}): Promise<Waveform> {
    checkCallOptions(options, ['pixelsPerSecond', 'samplesPerPixel', 'bits', 'splitChannels']);
    const { signal, onProgress, limits, ...peaks } = options;
    const result = await this.analyze(input, { signal, onProgress, limits, loudness: false, peaks } as AnalyzeOptions);
    return result.peaks!;
  }

  /** Loudness and/or waveform peaks from one decode pass. */
  async analyze(input: MediaInput, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
    checkCallOptions(options, ['loudness', 'peaks']);
    if (options.loudness !== undefined && typeof options.loudness !== 'boolean') throw new OptionsError('loudness', 'must be a boolean');
    const loudness = options.loudness ?? true;
    const peaks = options.peaks === undefined ? undefined : resolvePeaks(options.peaks);
    if (!loudness && !peaks) throw new OptionsError('loudness', 'is false and no peaks were asked: nothing to measure');
    return this.withInput(input, options, async (resolved, jobs) => {
      const result = await analyzeInput(jobs, resolved, { loudness, ...(peaks ? { peaks } : {}) });
      // A measurement has no side effects: an abort raised by its last progress event still counts.
      if (options.signal?.aborted) throw new AbortedError();
      return publicAnalysis(result);
    });
  }

  /** Measures, then writes `preset` with the gain (and limiter) that brings the track to the target. */
  async normalize(input: MediaInput, options: NormalizeOptions & CallOptions): Promise<NormalizeResult> {
    checkCallOptions(options, ['target', 'truePeak', 'policy', 'preset', 'output']);
    return this.withInput(input, options, (resolved, jobs) => normalizeTrack(jobs, resolved, options));
  }

  /** One gain for a set of tracks from their combined gated loudness; one output per track. */
  async normalizeAlbum(inputs: MediaInput[], options: AlbumNormalizeOptions & CallOptions): Promise<AlbumNormalizeResult> {
    checkCallOptions(options, ['target', 'truePeak', 'policy', 'preset', 'outputs']);
    if (!Array.isArray(inputs) || inputs.length === 0) throw new OptionsError('inputs', 'must be a non-empty array of inputs');
    const limits = this.limitsFor(options);
    const resolved: ResolvedInput[] = [];
    try {
      for (const input of inputs) resolved.push(await resolveInput(input, limits.maxInputBytes, options.signal));
      return await normalizeAlbum(this.jobsFor(limits, options), resolved, options);
    } finally {
      await Promise.all(resolved.map((r) => r.release()));
    }
  }

  /** Decodes an image, resizes it (fit, kernel) and encodes it (JPEG, PNG, WebP), in one job. */
  async resize(input: MediaInput, options: ResizeImageOptions & CallOptions): Promise<ResizeResult> {
    checkCallOptions(options, [...TARGET_KEYS, ...RESIZE_OPTION_KEYS]);
    const { signal, onProgress, limits, ...rest } = options;
    return this.withInput(input, options, (resolved, jobs) => resizeCall(jobs, resolved, rest));
  }

  /** Many sizes and formats of one image from one decode, in one job (cover art: 640, 300, 64 px). */
  async imageSet(input: MediaInput, targets: ImageTarget[], options: ImageSetOptions & CallOptions = {}): Promise<ImageSetResult> {
    checkCallOptions(options, IMAGE_SET_OPTION_KEYS);
    return this.withInput(input, options, (resolved, jobs) => imageSetCall(jobs, resolved, targets, options, imageStem(input)));
  }

  /** H.264 ladder and/or audio renditions as CMAF segments, with HLS and DASH manifests over them. */
  async package(input: MediaInput, options: PackageOptions & CallOptions): Promise<PackageResult> {
    checkCallOptions(options, PACKAGE_OPTION_KEYS);
    return this.withInput(input, options, (resolved, jobs) => packageInput(jobs, resolved, options));
  }

  /** A poster frame, a JPEG every N seconds and storyboard sprite sheets with their WebVTT track. */
  async thumbnails(input: MediaInput, options: ThumbnailOptions & CallOptions): Promise<ThumbnailResult> {
    checkCallOptions(options, THUMBNAIL_OPTION_KEYS);
    return this.withInput(input, options, (resolved, jobs) => thumbnailsInput(jobs, resolved, options));
  }

  /** Makes a test video (testsrc2 and a tone, H.264 + AAC in MP4) inside the sandbox. */
  async generateVideo(options: GenerateVideoOptions & CallOptions & { output?: string } = {}): Promise<GenerateResult> {
    checkCallOptions(options, [...GENERATE_VIDEO_KEYS, 'output']);
    const g = resolveGenerateVideo(options);
    return this.generateWith((sink, limits) => generateVideoPlan(g, sink, limits), g.seconds, options);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Runs one sample-media plan to `output` (or to bytes), committing or rolling back the file. */
  private async generateWith(
    plan: (sink: OutputSink, limits: JobLimits) => Plan,
    seconds: number,
    options: CallOptions & { output?: string },
  ): Promise<GenerateResult> {
    const limits = this.limitsFor(options);
    const outputs = new OutputSet();
    let sink: OutputSink = { type: 'bytes' };
    if (options.output !== undefined) {
      if (typeof options.output !== 'string' || !options.output) throw new OptionsError('output', 'must be a non-empty path');
      sink = { type: 'path', path: (await outputs.add(options.output)).tempPath };
    }
    const tracker = new ProgressTracker(options.onProgress);
    try {
      const result = await this.run(plan(sink, jobLimits(limits)), limits, options, tracker.phase('generate', seconds));
      await outputs.commit();
      tracker.emit('generate', 1, seconds, undefined);
      const out = result.outputs[0]!;
      return { ...(options.output ? { path: outputs.files[0]!.finalPath } : { bytes: out.bytes! }), size: out.size, seconds };
    } catch (err) {
      await outputs.rollback();
      throw err;
    }
  }

  private limitsFor(options: CallOptions): Limits {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new OptionsError('options', 'must be an object');
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new OptionsError('signal', 'must be an AbortSignal');
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new OptionsError('onProgress', 'must be a function');
    return resolveLimits(this.options.limits, options.limits);
  }

  private async withInput<T>(input: MediaInput, options: CallOptions, body: (resolved: ResolvedInput, jobs: CallJobs) => Promise<T>): Promise<T> {
    const limits = this.limitsFor(options);
    const resolved = await resolveInput(input, limits.maxInputBytes, options.signal);
    try {
      return await body(resolved, this.jobsFor(limits, options));
    } finally {
      await resolved.release();
    }
  }

  /** The engine's job runner bound to one call's limits, signal and progress listener. */
  private jobsFor(limits: Limits, options: CallOptions): CallJobs {
    return {
      limits,
      jobLimits: jobLimits(limits),
      tracker: new ProgressTracker(options.onProgress),
      probe: (input) => this.probeResolved(input, limits, options),
      run: (plan, onStats) => this.run(plan, limits, options, onStats),
    };
  }

  private async probeResolved(input: ResolvedInput, limits: Limits, options: CallOptions): Promise<ProbeResult> {
    const result = await this.run(probePlan(input, jobLimits(limits)), limits, options);
    const probe = parseProbe(result.probe);
    probe.size = input.size;
    return probe;
  }

  private async encode(
    phase: 'transcode' | 'ladder',
    input: MediaInput,
    presets: AudioPreset[],
    destinations: string[] | undefined,
    options: CallOptions,
  ): Promise<LadderResult> {
    const limits = this.limitsFor(options);
    const tracker = new ProgressTracker(options.onProgress);
    const resolved = await resolveInput(input, limits.maxInputBytes, options.signal);
    const outputs = new OutputSet();
    try {
      const source = await this.probeResolved(resolved, limits, options);
      if (source.duration !== null && source.duration > limits.maxDurationSeconds) {
        throw new LimitError(
          'maxDurationSeconds',
          `the input plays ${source.duration.toFixed(1)} s, longer than maxDurationSeconds (${limits.maxDurationSeconds} s)`,
          {
            max: limits.maxDurationSeconds,
            actual: source.duration,
          },
        );
      }
      tracker.emit('probe', 0, 0, undefined);
      const targets: RenditionTarget[] = [];
      for (const [i, preset] of presets.entries()) {
        const sink: OutputSink = destinations ? { type: 'path', path: (await outputs.add(destinations[i]!)).tempPath } : { type: 'bytes' };
        targets.push({ preset, sink });
      }
      const plan = ladderPlan(phase, resolved, source, targets, jobLimits(limits));
      const started = performance.now();
      const result = await this.run(plan, limits, options, tracker.phase(phase, source.duration));
      checkComplete(source, result.mediaSeconds);
      const elapsedMs = performance.now() - started;
      await outputs.commit();
      tracker.emit(phase, 1, source.duration ?? 0, undefined);
      const renditions = presets.map((preset, i): Rendition => {
        const out = result.outputs[i]!;
        return {
          preset: preset.name,
          codec: preset.codec,
          ...(destinations ? { path: outputs.files[i]!.finalPath } : { bytes: out.bytes! }),
          size: out.size,
          bitrate: source.duration ? Math.round((out.size * 8) / source.duration) : null,
        };
      });
      const realtimeFactor = source.duration ? source.duration / (elapsedMs / 1000) : null;
      return { source, renditions, elapsedMs, realtimeFactor };
    } catch (err) {
      await outputs.rollback();
      throw err;
    } finally {
      await resolved.release();
    }
  }

  private async run(plan: Plan, limits: Limits, options: CallOptions, onStats?: ReturnType<ProgressTracker['phase']>): Promise<JobResult> {
    try {
      const result = await this.pool.run(plan, { signal: options.signal, timeoutMs: limits.timeoutMs, onEvent: onStats });
      // An abort that lands as the job finishes still wins: nothing is committed after it.
      if (options.signal?.aborted) throw new AbortedError();
      return result;
    } catch (err) {
      if (err instanceof SandcodecError) throw err;
      throw new InternalError(`unexpected failure: ${(err as Error)?.message ?? String(err)}`, {}, { cause: err });
    }
  }
}

/**
 * AIFF states its exact length (the COMM frame count) over uncompressed PCM, so decoding clearly
 * less than it states means the file was cut; cut at a frame boundary, FFmpeg says nothing.
 * Other containers' durations can be estimates, so they are not held to this.
 */
function checkComplete(source: ProbeResult, decodedSeconds: number | null): void {
  const audio = primaryAudio(source);
  if (source.format !== 'aiff' || !audio?.codec.startsWith('pcm_') || source.duration === null || decodedSeconds === null) return;
  if (decodedSeconds < source.duration - 0.25) {
    throw new InputError(`the input is truncated: its header says ${source.duration.toFixed(2)} s, it holds ${decodedSeconds.toFixed(2)} s`, {
      max: source.duration,
      actual: decodedSeconds,
    });
  }
}

function jobLimits(limits: Limits): JobLimits {
  return {
    maxOutputBytes: limits.maxOutputBytes,
    maxReturnedBytes: limits.maxReturnedBytes,
    maxHeapBytes: limits.maxHeapBytes,
    maxDurationSeconds: limits.maxDurationSeconds,
  };
}

function presetOption(option: string, name: unknown): AudioPreset {
  const preset = typeof name === 'string' ? getAudioPreset(name) : undefined;
  if (!preset) throw new OptionsError(option, `unknown preset ${JSON.stringify(name)} (known: ${AUDIO_PRESET_NAMES.join(', ')})`);
  return preset;
}

const COMMON_OPTIONS = ['signal', 'onProgress', 'limits'];

function checkCallOptions(options: unknown, own: string[]): void {
  if (typeof options !== 'object' || options === null) throw new OptionsError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!COMMON_OPTIONS.includes(key) && !own.includes(key)) {
      throw new OptionsError(key, `is not an option of this call (known: ${[...own, ...COMMON_OPTIONS].join(', ')})`);
    }
  }
}

function inputStem(input: MediaInput): string {
  const named = input as { path?: unknown; name?: unknown };
  const name = typeof named.path === 'string' ? named.path : typeof named.name === 'string' ? named.name : '';
  const stem = basename(name, extname(name));
  return stem || 'audio';
}

/** Creates an engine: compiles the FFmpeg core once and starts the worker pool. */
export function createEngine(options?: EngineOptions): Promise<Engine> {
  return Engine.create(options);
}
