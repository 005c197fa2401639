/**
 * `transcode`: one output from one input, in any preset: an audio preset (the input's first
 * audio stream, as a ladder of one) or a video preset (its picture and sound in one progressive
 * file), named or with settings changed, trimmed and faded as asked.
 */
import type { MediaInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import { asKind, type OutputStream, resolveStream, type StreamKind, type StreamOption } from '../call/stream-output.js';
import * as v from '../call/validate.js';
import type { FFmpegPlan, OutputSink } from '../model/plan.js';
import type { VideoPreset } from '../model/presets.js';
import { type ProbeResult, primaryAudio } from '../model/probe-result.js';
import { ARTWORK_KEYS, type ArtworkOptions, artworkArgs, type CoverResult, prepareCover, type ResolvedArtwork, resolveArtwork } from './artwork.js';
import { type PresetOption, type PresetSettings, type ResolvedPreset, resolvePreset } from './custom-preset.js';
import { audioEditFilter, EDIT_KEYS, type Edit, type EditOptions, editSpan, resolveEdit } from './edit.js';
import { checkComplete, ladderPlan, type Rendition } from './ladder.js';
import { outputShortSide, primaryVideo, videoFilePlan } from './video-file-plan.js';

export interface TranscodeOptions extends EditOptions, ArtworkOptions {
  /** A preset's name (`sandcodec presets` lists them), or one with settings changed: `{ base: 'aac-256', bitrate: 192000 }`. */
  preset: PresetOption;
  /** Host path to write; without it the output comes back as `bytes`. */
  output?: string;
  /** Replace an existing file at `output` (default false: an existing file is refused). */
  overwrite?: boolean;
  /**
   * The output as a stream instead of bytes: `true` a Node Readable, `'web'` a web
   * ReadableStream. Spooled to a private file while it is made, never held in memory.
   */
  stream?: StreamOption;
}

export const TRANSCODE_KEYS = ['preset', 'output', 'overwrite', 'stream', ...EDIT_KEYS, ...ARTWORK_KEYS] as const;

export interface TranscodeResult extends Rendition {
  source: ProbeResult;
  /** The settings changed from the named preset (`preset`), when it was given as an object. */
  custom?: Omit<PresetSettings, 'base'>;
  /** Seconds of the source the output holds (from `start`); null when the input does not say. */
  duration: number | null;
  /** Where in the source the output starts, seconds. */
  start: number;
  /** Audio presets: the cover art the output carries (video presets carry none). */
  cover: CoverResult;
  /** Video presets: the picture written. */
  video?: { codec: 'h264' | 'vp9'; width?: number; height?: number };
  elapsedMs: number;
  /** Source seconds encoded per wall second. */
  realtimeFactor: number | null;
}

export interface ResolvedTranscode {
  preset: ResolvedPreset;
  edit: Edit | undefined;
  art: ResolvedArtwork;
  output?: string;
  stream?: StreamKind;
}

export function resolveTranscode(o: TranscodeOptions): ResolvedTranscode {
  const preset = resolvePreset('preset', o.preset);
  const stream = resolveStream(o.stream, o.output);
  const output = v.optional(o.output, undefined, (x) => v.path('output', x));
  const edit = resolveEdit(o);
  const art = resolveArtwork(o);
  return { preset, edit, art, ...(output ? { output } : {}), ...(stream ? { stream } : {}) };
}

export async function transcodeCall(call: Call, media: MediaInput, r: ResolvedTranscode): Promise<TranscodeResult> {
  const input = await call.input(media);
  const source = await call.probe(input);
  call.tracker.emit('probe', 0, 0, undefined);
  const span = editSpan(r.edit, source);
  const file = r.output ? await call.outputs.file(r.output, 'output') : undefined;
  const streamed = r.stream && !file ? call.streamOutput() : undefined;
  const sink: OutputSink = file ? { type: 'path', path: file.tempPath } : streamed ? { type: 'path', path: streamed.tempPath } : { type: 'bytes' };
  const { preset } = r.preset;
  let plan: FFmpegPlan;
  let cover: CoverResult = 'none';
  if (preset.kind === 'video') {
    plan = videoFilePlan(input, source, preset, r.edit, span, sink, { encoder: call.h264Encoder, threads: call.videoThreads }, r.art, call.jobLimits);
  } else {
    const art = await prepareCover(call, source, planInput(input), r.art, [preset.format]);
    const filter = audioEditFilter(r.edit, span, primaryAudio(source)?.sampleRate);
    plan = ladderPlan('transcode', input, source, [{ preset, sink }], call.jobLimits, {
      ...(filter ? { filter } : {}),
      art: r.art,
      ...(art ? { cover: art } : {}),
    });
    cover = artworkArgs(preset.format, r.art, art, 1).cover;
  }
  const started = performance.now();
  const result = await call.run(plan, call.tracker.phase('transcode', span.duration));
  if (!r.edit) checkComplete(source, result.mediaSeconds);
  const elapsedMs = performance.now() - started;
  call.tracker.emit('transcode', 1, span.duration ?? 0, undefined);
  const out = result.outputs[0]!;
  const stream: OutputStream | undefined = streamed && asKind(streamed.stream, r.stream!);
  return {
    preset: r.preset.base,
    ...(r.preset.custom ? { custom: r.preset.custom } : {}),
    codec: preset.codec,
    ...(file ? { path: file.finalPath } : stream ? { stream } : { bytes: out.bytes! }),
    size: out.size,
    bitrate: span.duration ? Math.round((out.size * 8) / span.duration) : null,
    source,
    start: span.start,
    duration: span.duration,
    cover,
    ...(preset.kind === 'video' ? { video: pictureOf(preset, source) } : {}),
    elapsedMs,
    realtimeFactor: span.duration ? span.duration / (elapsedMs / 1000) : null,
  };
}

/** The picture a video preset writes, as its scale filter sizes it (FFmpeg's `-2`: the long side rounded to even). */
function pictureOf(preset: VideoPreset, source: ProbeResult): TranscodeResult['video'] {
  const video = primaryVideo(source);
  if (!video?.width || !video.height) return { codec: preset.codec };
  const short = outputShortSide(preset, video);
  const long = 2 * Math.round((Math.max(video.width, video.height) * short) / Math.min(video.width, video.height) / 2);
  return video.width <= video.height ? { codec: preset.codec, width: short, height: long } : { codec: preset.codec, width: long, height: short };
}
