/**
 * `ladder` (and `transcode`, a ladder of one): one FFmpeg run decodes the source once and
 * encodes every rendition from the same decoded audio, each to its own output.
 */

import { join } from 'node:path';
import { inputStem, type MediaInput, type ResolvedInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import { asKind, type OutputStream, resolveStream, type StreamKind, type StreamOption } from '../call/stream-output.js';
import * as v from '../call/validate.js';
import { InputError, OptionsError, UnsupportedError } from '../errors.js';
import type { FFmpegPlan, JobLimits, OutputSink } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import { type AudioPreset, audioPreset, encoderArgs } from '../model/presets.js';
import { type ProbeResult, primaryAudio } from '../model/probe-result.js';

export interface TranscodeOptions {
  preset: string;
  /** Host path to write; without it the rendition comes back as `bytes`. */
  output?: string;
  /** Replace an existing file at `output` (default false: an existing file is refused). */
  overwrite?: boolean;
  /**
   * The rendition as a stream instead of bytes: `true` a Node Readable, `'web'` a web
   * ReadableStream. Spooled to a private file while it is made, never held in memory.
   */
  stream?: StreamOption;
}

export interface LadderOptions {
  /** Directory for the renditions (added to it, never emptied); without it they come back as `bytes`. */
  outputDir?: string;
  /** File name stem of the renditions (default: the input's, or `audio`). */
  baseName?: string;
  /** Replace existing files of the same names (default false: they are refused). */
  overwrite?: boolean;
}

export interface Rendition {
  preset: string;
  codec: string;
  /** Where it was written, when an output path or directory was given. */
  path?: string;
  bytes?: Uint8Array;
  /** With `stream` (transcode): the rendition, to be read once. */
  stream?: OutputStream;
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

export const TRANSCODE_KEYS = ['preset', 'output', 'overwrite', 'stream'] as const;
export const LADDER_KEYS = ['outputDir', 'baseName', 'overwrite'] as const;

/** What an encode call writes: each preset, to a path (and the option that named it) or to bytes. */
export interface ResolvedEncode {
  phase: 'transcode' | 'ladder';
  presets: AudioPreset[];
  destinations?: Array<{ path: string; option: string }>;
  /** transcode with `stream`: the one rendition comes back as a stream of this kind. */
  stream?: StreamKind;
}

export function resolveTranscode(o: TranscodeOptions): ResolvedEncode {
  const preset = audioPreset('preset', o.preset);
  const stream = resolveStream(o.stream, o.output);
  const output = v.optional(o.output, undefined, (x) => v.path('output', x));
  return { phase: 'transcode', presets: [preset], ...(output ? { destinations: [{ path: output, option: 'output' }] } : {}), ...(stream ? { stream } : {}) };
}

export function resolveLadder(presets: unknown, o: LadderOptions, input: MediaInput): ResolvedEncode {
  if (!Array.isArray(presets) || presets.length === 0) throw new OptionsError('presets', 'must be a non-empty array of preset names');
  const resolved = presets.map((p, i) => audioPreset(`presets[${i}]`, p));
  if (new Set(presets).size !== presets.length) throw new OptionsError('presets', 'must not name a preset twice');
  if (o.outputDir === undefined) return { phase: 'ladder', presets: resolved };
  const dir = v.path('outputDir', o.outputDir);
  const stem = v.fileName('baseName', o.baseName ?? inputStem(input, 'audio'));
  return {
    phase: 'ladder',
    presets: resolved,
    destinations: resolved.map((p) => ({ path: join(dir, `${stem}.${p.name}.${p.extension}`), option: 'outputDir' })),
  };
}

export async function encodeCall(call: Call, media: MediaInput, r: ResolvedEncode): Promise<LadderResult> {
  const input = await call.input(media);
  const source = await call.probe(input);
  call.tracker.emit('probe', 0, 0, undefined);
  const targets: RenditionTarget[] = [];
  const staged: Array<{ finalPath: string } | undefined> = [];
  const streams: Array<OutputStream | undefined> = [];
  for (const [i, preset] of r.presets.entries()) {
    const dest = r.destinations?.[i];
    const file = dest ? await call.outputs.file(dest.path, dest.option) : undefined;
    const streamed = r.stream && !file ? call.streamOutput() : undefined;
    staged.push(file);
    streams.push(streamed && asKind(streamed.stream, r.stream!));
    const sink: OutputSink = file ? { type: 'path', path: file.tempPath } : streamed ? { type: 'path', path: streamed.tempPath } : { type: 'bytes' };
    targets.push({ preset, sink });
  }
  const plan = ladderPlan(r.phase, input, source, targets, call.jobLimits);
  const started = performance.now();
  const result = await call.run(plan, call.tracker.phase(r.phase, source.duration));
  checkComplete(source, result.mediaSeconds);
  const elapsedMs = performance.now() - started;
  call.tracker.emit(r.phase, 1, source.duration ?? 0, undefined);
  const renditions = r.presets.map((preset, i): Rendition => {
    const out = result.outputs[i]!;
    const file = staged[i];
    return {
      preset: preset.name,
      codec: preset.codec,
      ...(file ? { path: file.finalPath } : streams[i] ? { stream: streams[i] } : { bytes: out.bytes! }),
      size: out.size,
      bitrate: source.duration ? Math.round((out.size * 8) / source.duration) : null,
    };
  });
  const realtimeFactor = source.duration ? source.duration / (elapsedMs / 1000) : null;
  return { source, renditions, elapsedMs, realtimeFactor };
}

export interface RenditionTarget {
  preset: AudioPreset;
  sink: OutputSink;
}

export function outputName(preset: AudioPreset, index: number): string {
  return `out${index}.${preset.extension}`;
}

export function ladderPlan(phase: string, input: ResolvedInput, probe: ProbeResult, targets: RenditionTarget[], limits: JobLimits): FFmpegPlan {
  const audio = primaryAudio(probe);
  if (!audio) throw new UnsupportedError(`the input has no audio stream (found: ${probe.streams.map((s) => s.type).join(', ') || 'nothing'})`);
  const inPlan = planInput(input);
  const args = ['-i', jobPath(inPlan.name)];
  targets.forEach((t, i) => {
    args.push('-map', `0:${audio.index}`, ...encoderArgs(t.preset, audio), '-map_metadata', '0', '-f', t.preset.format);
    if (t.preset.format === 'ipod') args.push('-movflags', '+faststart');
    args.push(jobPath(outputName(t.preset, i)));
  });
  return {
    op: 'ffmpeg',
    phase,
    inputs: [inPlan],
    outputs: targets.map((t, i) => ({ name: outputName(t.preset, i), sink: t.sink })),
    args,
    limits,
  };
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
