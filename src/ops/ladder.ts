/**
 * `ladder`: one FFmpeg run decodes the source once and encodes every rendition from the same
 * decoded audio, each to its own output. An audio `transcode` is a ladder of one.
 */

import { join } from 'node:path';
import { inputStem, type MediaInput, type ResolvedInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import type { OutputStream } from '../call/stream-output.js';
import * as v from '../call/validate.js';
import { InputError, OptionsError, UnsupportedError } from '../errors.js';
import type { FFmpegPlan, JobLimits, OutputSink } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import { type AudioPreset, audioPreset, encoderArgs } from '../model/presets.js';
import { type ProbeResult, primaryAudio } from '../model/probe-result.js';
import {
  ARTWORK_KEYS,
  type ArtworkOptions,
  artworkArgs,
  type Cover,
  type CoverResult,
  KEEP_ARTWORK,
  prepareCover,
  type ResolvedArtwork,
  resolveArtwork,
} from './artwork.js';

export interface LadderOptions extends ArtworkOptions {
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
  /** Average bit/s over the encoded duration. */
  bitrate: number | null;
  /** The cover art the rendition carries: the source's, the given picture, or none. */
  cover?: CoverResult;
}

export interface LadderResult {
  source: ProbeResult;
  renditions: Rendition[];
  /** Wall time of the encode job, ms. */
  elapsedMs: number;
  /** Source seconds encoded per wall second (all renditions together). */
  realtimeFactor: number | null;
}

export const LADDER_KEYS = ['outputDir', 'baseName', 'overwrite', ...ARTWORK_KEYS] as const;

/** What a ladder writes: each preset, to a path or to bytes. */
export interface ResolvedEncode {
  presets: AudioPreset[];
  art: ResolvedArtwork;
  destinations?: Array<{ path: string; option: string }>;
}

export function resolveLadder(presets: unknown, o: LadderOptions, input: MediaInput): ResolvedEncode {
  if (!Array.isArray(presets) || presets.length === 0) throw new OptionsError('presets', 'must be a non-empty array of preset names');
  const resolved = presets.map((p, i) => audioPreset(`presets[${i}]`, p));
  if (new Set(presets).size !== presets.length) throw new OptionsError('presets', 'must not name a preset twice');
  const art = resolveArtwork(o);
  if (o.outputDir === undefined) return { presets: resolved, art };
  const dir = v.path('outputDir', o.outputDir);
  const stem = v.fileName('baseName', o.baseName ?? inputStem(input, 'audio'));
  return {
    presets: resolved,
    art,
    destinations: resolved.map((p) => ({ path: join(dir, `${stem}.${p.name}.${p.extension}`), option: 'outputDir' })),
  };
}

export async function ladderCall(call: Call, media: MediaInput, r: ResolvedEncode): Promise<LadderResult> {
  const input = await call.input(media);
  const source = await call.probe(input);
  call.tracker.emit('probe', 0, 0, undefined);
  const targets: RenditionTarget[] = [];
  const staged: Array<{ finalPath: string } | undefined> = [];
  for (const [i, preset] of r.presets.entries()) {
    const dest = r.destinations?.[i];
    const file = dest ? await call.outputs.file(dest.path, dest.option) : undefined;
    staged.push(file);
    targets.push({ preset, sink: file ? { type: 'path', path: file.tempPath } : { type: 'bytes' } });
  }
  const cover = await prepareCover(
    call,
    source,
    planInput(input),
    r.art,
    r.presets.map((p) => p.format),
  );
  const plan = ladderPlan('ladder', input, source, targets, call.jobLimits, { art: r.art, ...(cover ? { cover } : {}) });
  const started = performance.now();
  const result = await call.run(plan, call.tracker.phase('ladder', source.duration));
  checkComplete(source, result.mediaSeconds);
  const elapsedMs = performance.now() - started;
  call.tracker.emit('ladder', 1, source.duration ?? 0, undefined);
  const renditions = r.presets.map((preset, i): Rendition => {
    const out = result.outputs[i]!;
    const file = staged[i];
    return {
      preset: preset.name,
      codec: preset.codec,
      ...(file ? { path: file.finalPath } : { bytes: out.bytes! }),
      size: out.size,
      bitrate: source.duration ? Math.round((out.size * 8) / source.duration) : null,
      cover: artworkArgs(preset.format, r.art, cover, 1).cover,
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

/** The run of audio presets from one decode; `filter` (an `-af` chain: trims, fades) applies to each. */
export function ladderPlan(
  phase: string,
  input: ResolvedInput,
  probe: ProbeResult,
  targets: RenditionTarget[],
  limits: JobLimits,
  edit: { filter?: string; art?: ResolvedArtwork; cover?: Cover } = {},
): FFmpegPlan {
  const audio = primaryAudio(probe);
  if (!audio) throw new UnsupportedError(`the input has no audio stream (found: ${probe.streams.map((s) => s.type).join(', ') || 'nothing'})`);
  const inPlan = planInput(input);
  const inputs = [inPlan, ...(edit.cover?.input ? [edit.cover.input] : [])];
  const args = inputs.flatMap((i) => ['-i', jobPath(i.name)]);
  const art = edit.art ?? KEEP_ARTWORK;
  targets.forEach((t, i) => {
    args.push('-map', `0:${audio.index}`);
    if (edit.filter) args.push('-filter:a', edit.filter);
    args.push(...encoderArgs(t.preset, audio), ...artworkArgs(t.preset.format, art, edit.cover, 1).args, '-f', t.preset.format);
    if (t.preset.format === 'ipod') args.push('-movflags', '+faststart');
    args.push(jobPath(outputName(t.preset, i)));
  });
  return {
    op: 'ffmpeg',
    phase,
    inputs,
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
export function checkComplete(source: ProbeResult, decodedSeconds: number | null): void {
  const audio = primaryAudio(source);
  if (source.format !== 'aiff' || !audio?.codec.startsWith('pcm_') || source.duration === null || decodedSeconds === null) return;
  if (decodedSeconds < source.duration - 0.25) {
    throw new InputError(`the input is truncated: its header says ${source.duration.toFixed(2)} s, it holds ${decodedSeconds.toFixed(2)} s`, {
      max: source.duration,
      actual: decodedSeconds,
    });
  }
}
