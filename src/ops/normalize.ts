/**
 * `normalize`: measure once, then write a preset with the gain that brings the programme to the
 * target loudness (default -14 LUFS integrated, -1 dBTP ceiling), and tag the gain.
 *
 * Policies:
 * - `gain`: pure gain. A positive gain stops at the true-peak headroom (ceiling - true peak), as
 *   streaming services do, so a quiet master with high peaks lands under the target. The output
 *   is measured again: a lossy encoder changes the loudness (an AAC lowpass takes away energy
 *   K-weighting counts), so a miss is corrected by the measured error, up to the headroom the
 *   output has left, and encoded again (at most twice).
 * - `limit`: the full gain plus a lookahead limiter run at 4× the sample rate (so it limits
 *   inter-sample peaks too) with a small safety margin. The output is measured again; if it is
 *   over the ceiling or off the target, the pass is redone with the measured error taken out.
 */

import type { MediaInput, ResolvedInput } from '../call/input.js';
import type { StagedFile } from '../call/outputs.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import * as v from '../call/validate.js';
import { InputError, OptionsError, UnsupportedError } from '../errors.js';
import type { FFmpegPlan, OutputSink } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import { type AudioPreset, audioPreset, encoderArgs } from '../model/presets.js';
import { primaryAudio, type StreamInfo } from '../model/probe-result.js';
import { analyzeInput, type DetailedAnalysis, spanHandler } from './analyze.js';
import { type Cover, coverArgs, KEEP_ARTWORK, prepareCover } from './artwork.js';
import { gatedLoudness, type Loudness } from './loudness.js';

export type NormalizePolicy = 'gain' | 'limit';

export interface NormalizeOptions {
  /** Integrated loudness to reach, LUFS (default -14). */
  target?: number;
  /** True-peak ceiling, dBTP (default -1). */
  truePeak?: number;
  /** Default `gain`. */
  policy?: NormalizePolicy;
  /** Preset to write (see AUDIO_PRESETS). */
  preset: string;
  /** Host path; without it the output comes back as `bytes`. */
  output?: string;
  /** Replace existing files at the output paths (default false: they are refused). */
  overwrite?: boolean;
}

export interface AlbumNormalizeOptions extends Omit<NormalizeOptions, 'output'> {
  /** One host path per input; without them the outputs come back as `bytes`. */
  outputs?: string[];
}

export interface NormalizeResult {
  path?: string;
  bytes?: Uint8Array;
  size: number;
  preset: string;
  policy: NormalizePolicy;
  target: number;
  ceiling: number;
  /** Gain applied, dB (before the limiter, with `limit`). */
  gain: number;
  /** The source as measured. */
  source: Loudness;
  /** The output as measured after writing it. */
  output: Loudness;
  /** The tags written into the output. */
  tags: Record<string, string>;
  /** Encode passes made: a pass that missed the target is redone (`gain`: at most 3 in all). */
  passes: number;
}

export interface AlbumNormalizeResult {
  /** Gated loudness of all tracks together, LUFS. */
  albumLoudness: number;
  /** The one gain applied to every track, dB. */
  gain: number;
  tracks: NormalizeResult[];
}

interface Resolved {
  target: number;
  ceiling: number;
  policy: NormalizePolicy;
  preset: AudioPreset;
}

export function resolveNormalize(o: Omit<NormalizeOptions, 'output'>): Resolved {
  const target = o.target ?? -14;
  if (typeof target !== 'number' || !(target >= -70 && target <= 0)) throw new OptionsError('target', 'must be a loudness from -70 to 0 LUFS');
  const ceiling = o.truePeak ?? -1;
  if (typeof ceiling !== 'number' || !(ceiling >= -20 && ceiling <= 0)) throw new OptionsError('truePeak', 'must be a ceiling from -20 to 0 dBTP');
  const policy = o.policy ?? 'gain';
  if (policy !== 'gain' && policy !== 'limit') throw new OptionsError('policy', 'must be "gain" or "limit"');
  return { target, ceiling, policy, preset: audioPreset('preset', o.preset) };
}

export const NORMALIZE_KEYS = ['target', 'truePeak', 'policy', 'preset', 'output', 'overwrite'] as const;
export const ALBUM_KEYS = ['target', 'truePeak', 'policy', 'preset', 'outputs', 'overwrite'] as const;

export interface ResolvedTrack extends Resolved {
  output: string | undefined;
}

export interface ResolvedAlbum extends Resolved {
  outputs: string[] | undefined;
}

export function resolveNormalizeTrack(o: NormalizeOptions): ResolvedTrack {
  return { ...resolveNormalize(o), output: v.optional(o.output, undefined, (x) => v.path('output', x)) };
}

export function resolveNormalizeAlbum(inputs: unknown, o: AlbumNormalizeOptions): ResolvedAlbum {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new OptionsError('inputs', 'must be a non-empty array of inputs');
  const r = resolveNormalize(o);
  if (o.outputs === undefined) return { ...r, outputs: undefined };
  if (!Array.isArray(o.outputs) || o.outputs.length !== inputs.length)
    throw new OptionsError('outputs', `must be an array of ${inputs.length} paths, one per input`);
  const outputs = o.outputs.map((x, i) => v.path(`outputs[${i}]`, x));
  if (new Set(outputs).size !== outputs.length) throw new OptionsError('outputs', 'must not name a path twice');
  return { ...r, outputs };
}

/** ReplayGain 2.0 reference loudness (what REPLAYGAIN_*_GAIN brings a track to). */
const REPLAYGAIN_REFERENCE = -18;
/** RFC 7845: R128_*_GAIN is relative to -23 LUFS. */
const R128_REFERENCE = -23;
/** dB the limiter aims under the ceiling for the resampling and the encoder's overshoot. */
const LIMIT_MARGIN_LOSSLESS = 0.3;
const LIMIT_MARGIN_LOSSY = 0.8;
const MAX_PASSES = 4;
/** `gain`: the first pass and at most two corrections. */
const MAX_GAIN_PASSES = 3;
/** LU off the target (or dB over the ceiling) that a `gain` pass may miss by before a redo. */
const GAIN_TOLERANCE = 0.2;
/** alimiter's lowest limit (-24 dB). */
const MIN_LIMIT_DB = -24;

/** What the player should do with the output: gain to the tag references, and its peak. */
export function gainTags(preset: AudioPreset, kind: 'TRACK' | 'ALBUM', loudness: number, peakDb: number): Record<string, string> {
  if (preset.codec === 'opus') {
    // Q7.8 fixed point, clamped to int16 (RFC 7845 section 5.2.1).
    const q = Math.max(-32768, Math.min(32767, Math.round((R128_REFERENCE - loudness) * 256)));
    return { [`R128_${kind}_GAIN`]: String(q) };
  }
  // RIFF INFO has no field for these; a WAV carries no gain tags.
  if (preset.codec === 'pcm') return {};
  return {
    [`REPLAYGAIN_${kind}_GAIN`]: `${(REPLAYGAIN_REFERENCE - loudness).toFixed(2)} dB`,
    [`REPLAYGAIN_${kind}_PEAK`]: (10 ** (peakDb / 20)).toFixed(6),
  };
}

/** The gain of the `gain` policy: positive gain stops at the true-peak headroom. */
export function headroomGain(wanted: number, truePeak: number, ceiling: number): number {
  if (wanted <= 0 || !Number.isFinite(truePeak)) return wanted;
  return Math.max(0, Math.min(wanted, ceiling - truePeak));
}

interface PassSettings {
  gain: number;
  /** Limiter ceiling, dB; none for `gain`. */
  limitDb?: number;
  tags: Record<string, string>;
}

function filterChain(audio: StreamInfo, s: PassSettings): string {
  const parts = [`volume=${s.gain.toFixed(4)}dB:precision=double`];
  if (s.limitDb !== undefined) {
    const rate = audio.sampleRate ?? 48000;
    const limit = 10 ** (Math.max(MIN_LIMIT_DB, s.limitDb) / 20);
    // At 4× the rate the limiter's sample peaks are (nearly) the true peaks; `level=0` turns off
    // alimiter's default auto-level, which would otherwise push the output back up to the limit.
    parts.push(`aresample=${rate * 4}`, `alimiter=limit=${limit.toFixed(6)}:attack=5:release=50:level=0:latency=1`, `aresample=${rate}`);
  }
  return parts.join(',');
}

function encodePlan(
  input: ResolvedInput,
  audio: StreamInfo,
  preset: AudioPreset,
  s: PassSettings,
  sink: OutputSink,
  call: Call,
  cover: Cover | undefined,
): FFmpegPlan {
  const inPlan = planInput(input);
  const name = `out.${preset.extension}`;
  const args = [
    '-i',
    jobPath(inPlan.name),
    '-map',
    `0:${audio.index}`,
    '-af',
    filterChain(audio, s),
    ...encoderArgs(preset, audio),
    // The source's cover art, where the container holds one, as transcode keeps it.
    ...coverArgs(preset.format, cover, 1).args,
    '-map_metadata',
    '0',
    ...tagArgs(s.tags),
    // The MP4 muxer drops tags it has no atom for unless told to write them as freeform items.
    ...(preset.format === 'ipod' ? ['-movflags', '+faststart+use_metadata_tags'] : []),
    '-f',
    preset.format,
    jobPath(name),
  ];
  return { op: 'ffmpeg', phase: 'normalize', inputs: [inPlan], outputs: [{ name, sink }], args, limits: call.jobLimits };
}

interface TrackPlan {
  input: ResolvedInput;
  analysis: DetailedAnalysis;
  gain: number;
  albumTags: Record<string, string>;
  /** Album tracks keep the album's gain: a redo only lowers the limiter. */
  fixedGain: boolean;
  /** This track's share of the call's progress (encode, then re-measure). */
  span: { from: number; to: number };
  /** Where the track goes (staged; committed with the call), or nowhere: bytes. */
  file: StagedFile | undefined;
}

/** A track written and measured but not yet committed (an album commits all or none). */
interface WrittenTrack {
  file: StagedFile | undefined;
  bytes: Uint8Array | undefined;
  size: number;
  /** The cover art in the file: a retag must carry it over. */
  cover: Cover | undefined;
  /** The tags in the file now. */
  written: Record<string, string>;
  /** Track tags from the measured output. */
  measuredTags: Record<string, string>;
  gating: DetailedAnalysis['gating'];
  result: Omit<NormalizeResult, 'path' | 'bytes' | 'size' | 'tags'>;
}

/**
 * The gain of the next `gain` pass after one measured `m` at `gain`: the secant towards the
 * target, raised no further than the output's true-peak headroom; a positive gain whose output
 * went over the ceiling comes back down to it (never below no gain: `gain` does not attenuate
 * for peaks). `undefined` when the pass is good enough: at the target, or at the headroom bound.
 */
function correctedGain(tried: readonly Tried[], m: Loudness, r: Resolved): number | undefined {
  const gain = tried[tried.length - 1]!.gain;
  const off = r.target - m.integrated!;
  const headroom = r.ceiling - m.truePeak;
  const overCeiling = gain > 0 && headroom < -GAIN_TOLERANCE;
  if (Math.abs(off) <= GAIN_TOLERANCE && !overCeiling) return undefined;
  let next = nextGain(tried, r.target);
  if (next > gain) next = gain + Math.min(next - gain, Math.max(0, headroom));
  if (gain > 0 && headroom < 0) next = Math.min(next, Math.max(0, gain + headroom));
  // A step this small is the bound reached (or measurement noise), not a miss to correct.
  return Math.abs(next - gain) > 0.05 ? next : undefined;
}

/** Writes one track with `gain` (and the limiter for `limit`), re-measures, redoes on a miss. */
async function writeTrack(call: Call, r: Resolved, t: TrackPlan): Promise<WrittenTrack> {
  const audio = primaryAudio(t.analysis.source)!;
  const source = t.analysis.loudness!;
  // Not in M4A: its gain tags need MP4's freeform metadata (use_metadata_tags), which FFmpeg 5.1
  // writes in place of the iTunes list that holds the cover.
  const cover = r.preset.format === 'ipod' ? undefined : await prepareCover(call, t.analysis.source, planInput(t.input), KEEP_ARTWORK, [r.preset.format]);
  const integrated = source.integrated!;
  {
    const sink: OutputSink = t.file ? { type: 'path', path: t.file.tempPath } : { type: 'bytes' };
    const margin = r.preset.rateControl === 'lossless' ? LIMIT_MARGIN_LOSSLESS : LIMIT_MARGIN_LOSSY;
    let gain = t.gain;
    let limitDb = r.policy === 'limit' ? r.ceiling - margin : undefined;
    let passes = 0;
    const tried: Tried[] = [];
    for (;;) {
      passes++;
      // Predicted output, for the tags: the limiter takes the peaks down to its limit; a `gain`
      // redo moves the last measured output by the change of gain.
      const last = r.policy === 'gain' ? tried[tried.length - 1] : undefined;
      const outLoudness = last ? last.loudness + gain - last.gain : r.policy === 'limit' && !t.fixedGain ? r.target : integrated + gain;
      const outPeak = last ? last.truePeak + gain - last.gain : limitDb !== undefined ? Math.min(source.truePeak + gain, limitDb) : source.truePeak + gain;
      const tags = { ...gainTags(r.preset, 'TRACK', outLoudness, outPeak), ...t.albumTags };
      const settings: PassSettings = { gain, ...(limitDb !== undefined ? { limitDb } : {}), tags };
      // Most of the track's share goes to the first pass; a redo moves within what is left.
      const { from, to } = t.span;
      const mid = from + (to - from) * 0.8;
      const result = await call.run(
        encodePlan(t.input, audio, r.preset, settings, sink, call, cover),
        spanHandler(call, { phase: 'normalize', from, to: mid }, t.analysis.duration),
      );
      const out = result.outputs[0]!;
      const written = await call.ownInput(sink.type === 'path' ? { path: sink.path } : out.bytes!);
      const measured = await analyzeInput(call, written, { loudness: true }, { phase: 'verify', from: mid, to });
      const m = measured.loudness!;
      const over = m.truePeak - r.ceiling;
      const off = m.integrated === null ? 0 : r.target - m.integrated;
      const fixLoudness = !t.fixedGain && Math.abs(off) > 0.25;
      if (r.policy === 'limit' && limitDb !== undefined && (over > 0 || fixLoudness) && passes < MAX_PASSES) {
        if (fixLoudness && m.integrated !== null) {
          tried.push({ gain, limitDb, loudness: m.integrated, truePeak: m.truePeak });
          gain = nextGain(tried, r.target);
        }
        if (over > 0) limitDb -= over + 0.1;
        continue;
      }
      if (r.policy === 'gain' && !t.fixedGain && m.integrated !== null && passes < MAX_GAIN_PASSES) {
        tried.push({ gain, limitDb: undefined, loudness: m.integrated, truePeak: m.truePeak });
        const next = correctedGain(tried, m, r);
        if (next !== undefined) {
          gain = next;
          continue;
        }
      }
      return {
        file: t.file,
        bytes: out.bytes,
        size: out.size,
        cover,
        written: tags,
        measuredTags: gainTags(r.preset, 'TRACK', m.integrated ?? outLoudness, m.truePeak),
        gating: measured.gating,
        result: { preset: r.preset.name, policy: r.policy, target: r.target, ceiling: r.ceiling, gain, source, output: m, passes },
      };
    }
  }
}

/**
 * Makes the file's tags the measured ones (`albumTags` added), by a stream copy when they differ
 * from what the encode wrote. Does not commit.
 */
async function finishTrack(call: Call, r: Resolved, w: WrittenTrack, albumTags: Record<string, string>): Promise<NormalizeResult> {
  const tags = { ...w.measuredTags, ...albumTags };
  let final = { bytes: w.bytes, size: w.size };
  if (!sameTags(tags, w.written)) final = await retag(call, w.file, w.bytes, tags, r.preset, w.cover);
  return {
    ...(w.file ? { path: w.file.finalPath } : { bytes: final.bytes! }),
    size: final.size,
    ...w.result,
    tags,
  };
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/** Every gain tag a source may carry; those not written anew are removed, never copied stale. */
const GAIN_TAGS = [
  'REPLAYGAIN_TRACK_GAIN',
  'REPLAYGAIN_TRACK_PEAK',
  'REPLAYGAIN_ALBUM_GAIN',
  'REPLAYGAIN_ALBUM_PEAK',
  'REPLAYGAIN_REFERENCE_LOUDNESS',
  'R128_TRACK_GAIN',
  'R128_ALBUM_GAIN',
];

/**
 * `-metadata` arguments that set `tags` and clear the other gain tags (an empty value removes a
 * key), at the file level and on the audio stream: Ogg keeps comments per stream, and a source's
 * stream tags copied along would otherwise survive.
 */
function tagArgs(tags: Record<string, string>): string[] {
  const all: Array<[string, string]> = [...GAIN_TAGS.filter((k) => !(k in tags)).map((k): [string, string] => [k, '']), ...Object.entries(tags)];
  return ['-metadata', '-metadata:s:a:0'].flatMap((flag) => all.flatMap(([k, v]) => [flag, `${k}=${v}`]));
}

/** Rewrites the tags of a written output by a stream copy (no re-encode). */
async function retag(
  call: Call,
  file: StagedFile | undefined,
  bytes: Uint8Array | undefined,
  tags: Record<string, string>,
  preset: AudioPreset,
  cover: Cover | undefined,
): Promise<{ bytes: Uint8Array | undefined; size: number }> {
  const source = await call.ownInput(file ? { path: file.tempPath } : bytes!);
  // A new staged version of the same destination: the commit puts the retagged one in place.
  const target: OutputSink = file ? { type: 'path', path: file.restage() } : { type: 'bytes' };
  const inPlan = planInput(source);
  const name = `tagged.${preset.extension}`;
  const args = [
    '-i',
    jobPath(inPlan.name),
    // The audio and an attached picture; an Ogg's picture comment reads back as a picture stream,
    // which the Ogg muxer cannot take: it is written as a comment again.
    '-map',
    '0:a',
    ...(cover?.comment ? coverArgs(preset.format, cover, 1).args : ['-map', '0:v?']),
    '-c',
    'copy',
    '-map_metadata',
    '0',
    ...tagArgs(tags),
    ...(preset.format === 'ipod' ? ['-movflags', '+faststart+use_metadata_tags'] : []),
    '-f',
    preset.format,
    jobPath(name),
  ];
  const plan: FFmpegPlan = { op: 'ffmpeg', phase: 'normalize', inputs: [inPlan], outputs: [{ name, sink: target }], args, limits: call.jobLimits };
  const out = (await call.run(plan)).outputs[0]!;
  return { bytes: out.bytes, size: out.size };
}

interface Tried {
  gain: number;
  /** Limiter ceiling of the pass; none for `gain`. */
  limitDb: number | undefined;
  loudness: number;
  truePeak: number;
}

/**
 * The next gain to try when a pass missed the target. Limiting makes the output loudness grow
 * slower than the gain (and a lossy encoder need not follow it exactly either), so after two passes
 * the secant through them is used; until then (or if the secant is unusable) the gain moves by the
 * miss.
 */
function nextGain(tried: readonly Tried[], target: number): number {
  const last = tried[tried.length - 1]!;
  const prev = tried[tried.length - 2];
  const off = target - last.loudness;
  // Only passes with the same limiter ceiling lie on one curve.
  if (prev && last.gain !== prev.gain && last.limitDb === prev.limitDb) {
    const slope = (last.loudness - prev.loudness) / (last.gain - prev.gain);
    // A flat secant (measurement noise) would send the gain far off: at most 3× the miss.
    if (slope > 0.05 && slope <= 1.5) return last.gain + Math.sign(off) * Math.min(3 * Math.abs(off), Math.abs(off / slope));
  }
  return last.gain + off;
}

function requireLoudness(a: DetailedAnalysis, label: string): void {
  if (!primaryAudio(a.source)) throw new UnsupportedError(`${label}: no audio stream`);
  if (a.loudness?.integrated === null || a.loudness?.integrated === undefined) {
    throw new InputError(`${label}: no gated loudness (digital silence, or under 400 ms of audio): there is nothing to normalize`);
  }
}

export async function normalizeTrack(call: Call, media: MediaInput, r: ResolvedTrack): Promise<NormalizeResult> {
  const input = await call.input(media);
  const analysis = await analyzeInput(call, input, { loudness: true }, { phase: 'analyze', from: 0, to: 0.2 });
  requireLoudness(analysis, input.label);
  const { integrated, truePeak } = analysis.loudness!;
  const wanted = r.target - integrated!;
  const gain = r.policy === 'gain' ? headroomGain(wanted, truePeak, r.ceiling) : wanted;
  const file = r.output === undefined ? undefined : await call.outputs.file(r.output, 'output');
  const w = await writeTrack(call, r, { input, analysis, gain, albumTags: {}, fixedGain: false, span: { from: 0.2, to: 1 }, file });
  return finishTrack(call, r, w, {});
}

/**
 * One gain for every track, from the album's gated loudness (all tracks' blocks gated together,
 * so quiet interludes do not drag the album up). With `gain`, the gain also stops at the headroom
 * of the album's highest true peak. The album is written all or nothing: one transaction.
 */
export async function normalizeAlbum(call: Call, media: MediaInput[], r: ResolvedAlbum): Promise<AlbumNormalizeResult> {
  const inputs: ResolvedInput[] = [];
  for (const m of media) inputs.push(await call.input(m));
  const files: Array<StagedFile | undefined> = [];
  for (const [i, output] of (r.outputs ?? inputs.map(() => undefined)).entries()) {
    files.push(output === undefined ? undefined : await call.outputs.file(output, `outputs[${i}]`));
  }
  const analyses: DetailedAnalysis[] = [];
  const share = 1 / inputs.length;
  for (const [i, input] of inputs.entries()) {
    analyses.push(await analyzeInput(call, input, { loudness: true }, { phase: 'analyze', from: 0.2 * i * share, to: 0.2 * (i + 1) * share }));
  }
  analyses.forEach((a, i) => {
    if (!primaryAudio(a.source)) throw new UnsupportedError(`${inputs[i]!.label}: no audio stream`);
  });
  const albumLoudness = gatedLoudness(analyses.map((a) => a.gating!));
  if (albumLoudness === null) throw new InputError('the album has no gated loudness (digital silence): there is nothing to normalize');
  const albumPeak = Math.max(...analyses.map((a) => a.loudness!.truePeak));
  const wanted = r.target - albumLoudness;
  const gain = r.policy === 'gain' ? headroomGain(wanted, albumPeak, r.ceiling) : wanted;
  const albumPeakOut = r.policy === 'limit' ? Math.min(albumPeak + gain, r.ceiling) : albumPeak + gain;
  const albumTags = gainTags(r.preset, 'ALBUM', albumLoudness + gain, albumPeakOut);
  const written: WrittenTrack[] = [];
  for (const [i, input] of inputs.entries()) {
    const analysis = analyses[i]!;
    if (analysis.loudness?.integrated === null) {
      // A silent track of an album keeps the album gain; only its own track tags are meaningless.
      analysis.loudness.integrated = albumLoudness;
    }
    const span = { from: 0.2 + 0.8 * i * share, to: 0.2 + 0.8 * (i + 1) * share };
    written.push(await writeTrack(call, r, { input, analysis, gain, albumTags, fixedGain: true, span, file: files[i] }));
  }
  // The album tags, too, from what was written: all outputs' blocks gated together.
  const measuredAlbum = gatedLoudness(written.map((w) => w.gating!));
  const measuredTags =
    measuredAlbum === null ? albumTags : gainTags(r.preset, 'ALBUM', measuredAlbum, Math.max(...written.map((w) => w.result.output.truePeak)));
  const tracks: NormalizeResult[] = [];
  for (const w of written) tracks.push(await finishTrack(call, r, w, measuredTags));
  return { albumLoudness, gain, tracks };
}
