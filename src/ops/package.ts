/**
 * `package`: adaptive streaming output from one source, as a pipeline of stages:
 * 1. plan — the renditions the source gets, and the jobs that make them (package-plan.ts): video
 *    in chunks of whole segments (and rung groups when chunks are few), audio in one job;
 * 2. encode — the jobs run at once on the engine's workers (or on other engines, `runChunk`):
 *    `fps` makes the frame rate constant, `scale` feeds one libx264 encoder per rung (closed
 *    GOPs, IDR frames forced at every segment boundary, VBV-capped), AAC/Opus/FLAC encoders each
 *    write a fragmented MP4;
 * 3. stitch — each rendition's parts become one CMAF track, an init segment and one media segment
 *    per boundary, and HLS playlists and a DASH MPD are written from the measured segments
 *    (package-stitch.ts).
 * Everything is staged and put in place by the call's output transaction on success.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaInput, ResolvedInput } from '../call/input.js';
import type { Call } from '../call/run-call.js';
import { stagedName } from '../call/staging.js';
import * as v from '../call/validate.js';
import { InputError, InternalError, LimitError, OptionsError, UnsupportedError } from '../errors.js';
import type { PackagedText, PackagedTrack } from '../manifests/track.js';
import type { WorkerEvent } from '../model/plan.js';
import {
  AUDIO_PRESET_NAMES,
  AUDIO_PRESETS,
  type AudioPreset,
  PACKAGE_AUDIO_NAMES,
  rungSize,
  VIDEO_LADDER,
  VIDEO_RUNG_NAMES,
  type VideoRung,
} from '../model/presets.js';
import type { ProbeResult, StreamInfo } from '../model/probe-result.js';
import { DEFAULT_SEGMENT_NAMES, type SegmentNames } from '../packaging/segment-names.js';
import type { H264Encoder } from '../util/core-files.js';
import { type EncryptionOptions, type HlsAes128Options, type PackageProtection, resolveEncryption, resolveHlsAes128 } from './package-encryption.js';
import { resolveSegmentNames } from './package-names.js';
import {
  audioJobPlan,
  defaultChunkSeconds,
  type FrameRate,
  frameCost,
  type JobFile,
  type PackageJob,
  planJobs,
  type VideoTarget,
  videoJobPlan,
} from './package-plan.js';
import { type ChunkResult, partsByRendition, programmeOffset, stitchTrack, writeManifests } from './package-stitch.js';
import {
  audioLanguage,
  type LoadedSubtitle,
  loadSubtitles,
  type ResolvedLanguages,
  resolveLanguages,
  type SubtitleOption,
  segmentGrid,
  writeTextTracks,
} from './package-text.js';

export type { PackageJob, VideoTarget } from './package-plan.js';
export type { ChunkResult } from './package-stitch.js';

export type PackageFormat = 'hls' | 'dash';

export interface PackageOptions {
  /** Video rungs (default 1080p, 720p, 480p, 360p); rungs above the source's size are skipped. */
  video?: string[];
  /** Audio renditions (default aac-128, aac-64). */
  audio?: string[];
  /** Target segment length in seconds (default 4). */
  segmentDuration?: number;
  /** Manifests to write (default both). */
  formats?: PackageFormat[];
  /**
   * Folder the package goes to: created if missing; in an existing folder the package adds its
   * renditions and manifests beside what is there and never touches anything else.
   */
  outputDir: string;
  /**
   * Replace a previous package in `outputDir` (only what a sandcodec package recorded in its
   * `.sandcodec-package.json` marker; default false: any name clash is refused).
   */
  overwrite?: boolean;
  /** Package only the audio (music, podcasts), even from a video source. */
  audioOnly?: boolean;
  /**
   * x264 speed preset (default `veryfast`). Only for a core that encodes H.264 with x264 (stock,
   * gpl); the lgpl core's OpenH264 has no presets and refuses the option.
   */
  x264Preset?: string;
  /** Largest source picture accepted, width × height (default 4096 × 2304). */
  maxPixels?: number;
  /**
   * Seconds of video one encode job takes on: a whole number of segments (default: about two
   * jobs per worker, at least 8 s). Chunks run at once on the engine's workers.
   */
  chunkSeconds?: number;
  /**
   * Common Encryption of every track (cenc or cbcs), with `pssh` boxes and manifest signalling
   * for the DRM systems named. Runs on the stitched segments.
   */
  encryption?: EncryptionOptions;
  /** Whole-segment AES-128 for HLS (`METHOD=AES-128`): HLS only, and not with `encryption`. */
  hlsAes128?: HlsAes128Options;
  /** Name of each rendition's init segment; may use `$RepresentationID$` (default `init.mp4`). */
  initTemplate?: string;
  /**
   * Names of the media segments: `$Number$` or `$Number%05d$` once, `$RepresentationID$` at will
   * (default `seg-$Number$.m4s`). Files stay in each rendition's folder.
   */
  segmentTemplate?: string;
  /**
   * One file per rendition (`<id>/<id>.mp4`: init segment, `sidx`, then the segments), addressed
   * by byte range: DASH `SegmentBase` (on-demand profile), HLS `EXT-X-BYTERANGE` (default false).
   */
  singleFile?: boolean;
  /**
   * WebVTT subtitle files, each with its language (and a name for menus): HLS subtitle groups of
   * segmented WebVTT, DASH text AdaptationSets of the whole file. Read and checked before any work.
   */
  subtitles?: SubtitleOption[];
  /** BCP 47 language of the audio renditions (default: the source stream's language tag). */
  audioLanguage?: string;
  /** Name of the audio renditions in players' menus (default: the language's name, `English`). */
  audioName?: string;
}

export interface PackageResult {
  source: ProbeResult;
  outputDir: string;
  /** Absolute paths of the manifests written. */
  hls?: string;
  dash?: string;
  video: PackagedTrack[];
  audio: PackagedTrack[];
  subtitles: PackagedText[];
  /** Requested rungs left out, and why. */
  skipped: Array<{ rung: string; reason: string }>;
  segmentDuration: number;
  /** Seconds, the longest track's. */
  duration: number;
  frameRate: number | null;
  elapsedMs: number;
  realtimeFactor: number | null;
}

/** Options only the stitch stage reads (protection, names, layout, languages): `package` and `stitch` take them alike. */
const STITCH_SETTING_KEYS = ['encryption', 'hlsAes128', 'initTemplate', 'segmentTemplate', 'singleFile', 'subtitles', 'audioLanguage', 'audioName'] as const;

export const PACKAGE_KEYS = [
  'video',
  'audio',
  'segmentDuration',
  'formats',
  'outputDir',
  'overwrite',
  'audioOnly',
  'x264Preset',
  'maxPixels',
  'chunkSeconds',
  ...STITCH_SETTING_KEYS,
] as const;
/** `planPackage` takes the same options, without the output folder. */
export const PLAN_KEYS = ['video', 'audio', 'segmentDuration', 'formats', 'audioOnly', 'x264Preset', 'maxPixels', 'chunkSeconds', 'workers'] as const;

const NO_PROTECTION: PackageProtection = { encryption: null, hlsAes128: null };

/** Checked against the tracks the package will have: a key for each kind, a codec each scheme supports. */
function resolveProtection(
  o: { encryption?: unknown; hlsAes128?: unknown },
  tracks: { video: boolean; audio: readonly AudioPreset[]; formats: readonly PackageFormat[] },
): PackageProtection {
  const encryption = resolveEncryption(o.encryption, tracks);
  return { encryption, hlsAes128: resolveHlsAes128(o.hlsAes128, tracks.formats, encryption) };
}

/** How the files are named and laid out, checked against the protection asked for. */
function resolveNames(o: { initTemplate?: unknown; segmentTemplate?: unknown; singleFile?: unknown }, protection: PackageProtection): SegmentNames {
  const names = resolveSegmentNames(o);
  // Whole-segment AES-128 would hide the moofs the file's sidx points at: the file would be no MP4.
  if (names.singleFile && protection.hlsAes128) throw new OptionsError('singleFile', 'cannot be combined with hlsAes128 (use encryption: cenc or cbcs)');
  return names;
}

/** `planPackage`'s options: the package's, and how many workers the jobs will be spread over. */
export type PlanOptions = Omit<PackageOptions, 'outputDir' | 'overwrite'> & {
  /** Workers (here or on other engines) the plan is cut for (default: this engine's). */
  workers?: number;
};

export interface ResolvedPlanOptions extends ResolvedPackage {
  workers: number | undefined;
}

export function resolvePlan(o: PlanOptions, encoder: H264Encoder | null, videoThreads = 1): ResolvedPlanOptions {
  return { ...resolvePlanOptions(o, encoder, videoThreads), workers: v.optional(o.workers, undefined, (x) => v.integer('workers', x, 1, 4096)) };
}

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];
const DEFAULT_MAX_PIXELS = 4096 * 2304;
const MAX_FRAME_RATE = 60;

export interface ResolvedPackage {
  video: VideoRung[];
  audio: AudioPreset[];
  segmentDuration: number;
  formats: PackageFormat[];
  outputDir: string;
  audioOnly: boolean;
  /** The core's H.264 encoder, which the video jobs run. */
  videoEncoder: H264Encoder | null;
  /** Threads one video job's encoders use (engine option videoThreads). */
  videoThreads: number;
  /** null unless the encoder is x264. */
  x264Preset: string | null;
  maxPixels: number;
  chunkSeconds: number | undefined;
}

/** What only the stitch stage uses: never part of a plan. */
export interface StitchSettings {
  protection: PackageProtection;
  names: SegmentNames;
  languages: ResolvedLanguages;
}

export function resolvePackage(o: PackageOptions, encoder: H264Encoder | null, videoThreads = 1): ResolvedPackage & StitchSettings {
  v.path('outputDir', o.outputDir);
  const r = resolvePlanOptions(o, encoder, videoThreads);
  const protection = resolveProtection(o, { video: r.video.length > 0, audio: r.audio, formats: r.formats });
  return { ...r, protection, names: resolveNames(o, protection), languages: resolveLanguages(o) };
}

/** The options of a plan, for an engine whose core encodes H.264 with `encoder`: everything but where the package goes. */
export function resolvePlanOptions(
  o: Omit<PackageOptions, 'outputDir'> & { outputDir?: string },
  encoder: H264Encoder | null,
  videoThreads = 1,
): ResolvedPackage {
  const names = (option: string, value: unknown, fallback: string[], known: readonly string[]): string[] => {
    const list = value ?? fallback;
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || !known.includes(n))) {
      throw new OptionsError(option, `must be a list of names from ${known.join(', ')}`);
    }
    if (new Set(list).size !== list.length) throw new OptionsError(option, 'must not name a rendition twice');
    return list as string[];
  };
  const audioOnly = o.audioOnly ?? false;
  if (typeof audioOnly !== 'boolean') throw new OptionsError('audioOnly', 'must be a boolean');
  const video = audioOnly ? [] : names('video', o.video, ['1080p', '720p', '480p', '360p'], VIDEO_RUNG_NAMES);
  const audio = names('audio', o.audio, ['aac-128', 'aac-64'], AUDIO_PRESET_NAMES);
  const uncarried = audio.find((n) => !AUDIO_PRESETS[n]!.cmaf);
  if (uncarried) {
    const codec = AUDIO_PRESETS[uncarried]!.codec;
    throw new OptionsError('audio', `${uncarried} is ${codec}, which CMAF does not carry (a package's audio can be ${PACKAGE_AUDIO_NAMES.join(', ')})`);
  }
  if (video.length === 0 && audio.length === 0) throw new OptionsError('video', 'and audio are both empty: nothing to package');
  if (audioOnly && audio.length === 0) throw new OptionsError('audio', 'must name at least one rendition with audioOnly');
  const segmentDuration = o.segmentDuration ?? 4;
  if (typeof segmentDuration !== 'number' || !(segmentDuration >= 1 && segmentDuration <= 30))
    throw new OptionsError('segmentDuration', 'must be a number of seconds from 1 to 30');
  const formats = o.formats ?? ['hls', 'dash'];
  if (!Array.isArray(formats) || formats.length === 0 || formats.some((f) => f !== 'hls' && f !== 'dash'))
    throw new OptionsError('formats', "must be a non-empty array of 'hls' and/or 'dash'");
  const x264 = encoder === 'libx264';
  if (o.x264Preset !== undefined && !x264) {
    throw new OptionsError('x264Preset', `is an x264 setting, and this engine's FFmpeg core encodes H.264 with ${encoder ?? 'no encoder'}`);
  }
  const x264Preset = x264 ? (o.x264Preset ?? 'veryfast') : null;
  if (x264Preset !== null && !X264_PRESETS.includes(x264Preset)) throw new OptionsError('x264Preset', `must be one of ${X264_PRESETS.join(', ')}`);
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 64) throw new OptionsError('maxPixels', 'must be an integer number of pixels, at least 64');
  const chunkSeconds = v.optional(o.chunkSeconds, undefined, (x) => v.number('chunkSeconds', x, 1, 3600));
  if (chunkSeconds !== undefined && Math.abs(chunkSeconds / segmentDuration - Math.round(chunkSeconds / segmentDuration)) > 1e-9) {
    throw new OptionsError('chunkSeconds', `must be a whole number of segments (segmentDuration ${segmentDuration} s), got ${chunkSeconds}`);
  }
  if (chunkSeconds !== undefined && chunkSeconds < segmentDuration) {
    throw new OptionsError('chunkSeconds', `must be at least one segment (${segmentDuration} s), got ${chunkSeconds}`);
  }
  return {
    video: video.map((n) => VIDEO_LADDER[n]!),
    audio: audio.map((n) => AUDIO_PRESETS[n]!),
    segmentDuration,
    formats: [...new Set(formats)],
    outputDir: o.outputDir ?? '',
    audioOnly,
    videoEncoder: encoder,
    videoThreads,
    x264Preset,
    maxPixels,
    chunkSeconds,
  };
}

/** The rungs a source gets: none above its size, at least one, no two of the same size. */
export function videoTargets(rungs: VideoRung[], stream: StreamInfo): { targets: VideoTarget[]; skipped: PackageResult['skipped'] } {
  const width = stream.width!;
  const height = stream.height!;
  const short = Math.min(width, height);
  const skipped: PackageResult['skipped'] = [];
  const fitting = rungs.filter((r) => r.size <= short);
  for (const r of rungs) if (r.size > short) skipped.push({ rung: r.name, reason: `larger than the source (${width}x${height})` });
  if (fitting.length === 0 && rungs.length > 0) {
    // Smaller than every rung asked: one rendition at the source's own size, on the smallest rung's settings.
    const smallest = rungs.reduce((a, b) => (a.size < b.size ? a : b));
    skipped.splice(
      skipped.findIndex((s) => s.rung === smallest.name),
      1,
    );
    fitting.push(smallest);
  }
  const targets: VideoTarget[] = [];
  for (const r of fitting) {
    const size = rungSize(r.size, width, height);
    if (targets.some((t) => t.width === size.width && t.height === size.height)) {
      skipped.push({ rung: r.name, reason: 'same size as another rendition' });
      continue;
    }
    const shortSide = Math.min(size.width, size.height);
    // A rendition below its rung's size gets the bitrate its area needs (never under 30 %).
    const scale = Math.max(0.3, Math.min(1, (size.width * size.height) / ((r.size * r.size * 16) / 9)));
    targets.push({
      id: shortSide === r.size ? r.name : `${shortSide}p`,
      rung: r,
      ...size,
      bitrate: Math.round(r.bitrate * scale),
      maxrate: Math.round(r.maxrate * scale),
      bufsize: Math.round(r.bufsize * scale),
    });
  }
  return { targets, skipped };
}

/** A constant output rate: the source's, rounded (NTSC rates kept exact), at most 60, 30 when unknown. */
export function outputFrameRate(stream: StreamInfo): { num: number; den: number } {
  const fps = stream.frameRate;
  if (!fps || !Number.isFinite(fps) || fps < 1) return { num: 30, den: 1 };
  if (fps > MAX_FRAME_RATE) return { num: MAX_FRAME_RATE, den: 1 };
  const ntsc = Math.round(fps * 1.001);
  if (!Number.isInteger(fps) && Math.abs(fps - ntsc / 1.001) < 0.002) return { num: ntsc * 1000, den: 1001 };
  // Camera clocks report 30.02 for 30, and a variable-rate stream averages to anything (24.41):
  // whole frames per second keep GOPs of whole frames at every segment length.
  return { num: Math.round(fps), den: 1 };
}

/** A package's plan: plain, serialisable data (`planPackage`), which `runChunk` and `stitch` take. */
export interface PackagePlan {
  version: 1;
  /**
   * The options the plan was made from, and the workers it was cut for: `runChunk` plans again
   * from them and runs a job only of a plan it would make itself for its input, so a plan that
   * was changed on its way, or made by another version, never reaches FFmpeg.
   */
  request: {
    video: string[];
    audio: string[];
    segmentDuration: number;
    formats: PackageFormat[];
    audioOnly: boolean;
    x264Preset: string | null;
    maxPixels: number;
    chunkSeconds: number | null;
  };
  workers: number;
  /** The source the plan was made for: `runChunk` checks its input against it. */
  source: ProbeResult;
  videoStream: number | null;
  audioStream: number | null;
  /** The output's constant frame rate; null without video. */
  rate: FrameRate | null;
  segmentDuration: number;
  formats: PackageFormat[];
  /** The H.264 encoder of the core the plan was made for: its video jobs run only on a core with the same. */
  videoEncoder: H264Encoder | null;
  /** Threads per video job (the engine's videoThreads): more than one gives another bitstream, so engines must agree. */
  videoThreads: number;
  x264Preset: string | null;
  chunkSeconds: number;
  video: VideoTarget[];
  audio: AudioPreset[];
  skipped: PackageResult['skipped'];
  jobs: PackageJob[];
}

/** Probes the source and decides what it gets and which jobs make it. */
export async function makePlan(call: Call, input: ResolvedInput, o: ResolvedPackage, workers: number): Promise<PackagePlan> {
  const source = await call.probe(input);
  checkDurations(call, source);
  return planFor(source, o, workers);
}

/**
 * Every duration the source states, under `maxDurationSeconds`: the chunks follow the video
 * stream's, and a stream that claims a year must not become a million chunks.
 */
function checkDurations(call: Call, source: ProbeResult): void {
  for (const seconds of [source.duration, ...source.streams.map((s) => s.duration)]) {
    if (seconds !== null && seconds !== undefined && (typeof seconds !== 'number' || !(seconds >= 0))) {
      throw new OptionsError('plan', `source: a duration must be a number of seconds, got ${v.show(seconds)}`);
    }
    call.checkDuration(seconds);
  }
}

/** The plan for a probed source: the same source, options and workers always give the same plan. */
function planFor(source: ProbeResult, o: ResolvedPackage, workers: number): PackagePlan {
  const videoStream = o.audioOnly ? undefined : source.streams.find((s) => s.type === 'video' && !s.attachedPicture);
  const audioStream = source.streams.find((s) => s.type === 'audio');
  const found = source.streams.map((s) => s.type).join(', ') || 'nothing';
  if (o.audioOnly && !audioStream) throw new UnsupportedError(`audioOnly: the input has no audio stream (found: ${found})`);
  if (!o.audioOnly && o.video.length > 0 && !videoStream) {
    throw new UnsupportedError(`the input has no video stream (found: ${found}); package it with audioOnly`);
  }
  if (videoStream) {
    if (!videoStream.width || !videoStream.height) throw new InputError('the video stream does not state its picture size');
    const pixels = videoStream.width * videoStream.height;
    if (pixels > o.maxPixels) {
      throw new LimitError('maxPixels', `the input is ${videoStream.width}x${videoStream.height}, more than maxPixels (${o.maxPixels})`, {
        max: o.maxPixels,
        actual: pixels,
      });
    }
  }
  const { targets, skipped } = videoStream ? videoTargets(o.video, videoStream) : { targets: [], skipped: [] };
  if (targets.length > 0 && o.videoEncoder === null) {
    throw new UnsupportedError("this engine's FFmpeg core has no H.264 encoder: package the audio only (audioOnly), or use a core with x264 or OpenH264");
  }
  const audio = audioStream ? o.audio : [];
  if (targets.length === 0 && audio.length === 0) throw new UnsupportedError(`nothing to package: the input has no audio stream (found: ${found})`);
  const rate = videoStream ? outputFrameRate(videoStream) : undefined;
  // Chunks follow the picture's own length where the container states it (audio may run longer).
  const duration = videoStream?.duration ?? source.duration ?? 0;
  const chunkSeconds = o.chunkSeconds ?? defaultChunkSeconds(duration, o.segmentDuration, workers);
  const jobs = planJobs({ duration, segmentDuration: o.segmentDuration, chunkSeconds, rate, targets, audio, workers });
  return {
    version: 1,
    request: {
      video: o.video.map((r) => r.name),
      audio: o.audio.map((p) => p.name),
      segmentDuration: o.segmentDuration,
      formats: o.formats,
      audioOnly: o.audioOnly,
      x264Preset: o.x264Preset,
      maxPixels: o.maxPixels,
      chunkSeconds: o.chunkSeconds ?? null,
    },
    workers,
    source,
    videoStream: videoStream?.index ?? null,
    audioStream: audioStream?.index ?? null,
    rate: rate ?? null,
    segmentDuration: o.segmentDuration,
    formats: o.formats,
    videoEncoder: o.videoEncoder,
    videoThreads: o.videoThreads,
    x264Preset: o.x264Preset,
    chunkSeconds,
    video: targets,
    audio,
    skipped,
    jobs,
  };
}

/** The top-level entries a package writes into its folder. */
export function packageEntries(plan: PackagePlan, languages?: ResolvedLanguages): string[] {
  return [
    ...plan.video.map((t) => t.id),
    ...plan.audio.map((p) => p.name),
    ...(languages?.subtitles.map((s) => s.id) ?? []),
    ...(plan.formats.includes('hls') ? ['master.m3u8'] : []),
    ...(plan.formats.includes('dash') ? ['manifest.mpd'] : []),
  ];
}

/**
 * Seconds of output an audio job pads its stream to, with a picture: past every end the source
 * states (the stitch cuts the audio at the picture's end). These durations passed
 * `maxDurationSeconds`, so a lying header cannot make the silence long.
 */
function audioPadTo(plan: PackagePlan): number | null {
  if (plan.videoStream === null || plan.video.length === 0) return null;
  const video = plan.source.streams.find((s) => s.index === plan.videoStream);
  const end = Math.max(plan.source.duration ?? 0, video?.duration ?? 0);
  return end > 0 ? end + 0.1 : null;
}

/** Runs one job of `plan` on the pool, writing its files into `dir`. */
export async function runJob(
  call: Call,
  input: ResolvedInput,
  plan: PackagePlan,
  job: PackageJob,
  dir: string,
  onEvent?: (event: WorkerEvent) => void,
): Promise<ChunkResult> {
  const files: JobFile[] = job.renditions.map((rendition) => {
    const name = `${job.id}.${rendition}.mp4`;
    return { rendition, name, path: join(dir, name) };
  });
  const stream = plan.source.streams.find((s) => s.index === (job.kind === 'video' ? plan.videoStream : plan.audioStream));
  if (!stream) throw new InternalError(`package: the plan names no ${job.kind} stream for job ${job.id}`);
  const ffmpeg =
    job.kind === 'video'
      ? videoJobPlan(
          input,
          stream,
          job,
          plan.video,
          files,
          { segmentDuration: plan.segmentDuration, rate: plan.rate!, encoder: plan.videoEncoder!, x264Preset: plan.x264Preset, threads: plan.videoThreads },
          call.jobLimits,
        )
      : audioJobPlan(input, stream, plan.audio, files, call.jobLimits, audioPadTo(plan));
  const result = await call.run(ffmpeg, onEvent);
  return { job: job.id, files: files.map((f, i) => ({ rendition: f.rendition, path: f.path, size: result.outputs[i]?.size ?? 0 })) };
}

/** The media time one job of `plan` encodes, which its progress is measured against. */
export function jobMediaSeconds(plan: PackagePlan, job: PackageJob): number {
  const duration = plan.source.duration ?? 0;
  const rate = plan.rate;
  if (job.kind === 'audio' || !rate) return duration;
  const start = (job.firstFrame * rate.den) / rate.num;
  return job.frames === null ? Math.max(0, duration - start) : (job.frames * rate.den) / rate.num;
}

/**
 * Runs the jobs of `plan` on `workers` lanes, longest first, with one progress for all of them:
 * each job's share is its media time weighted by what its frames cost (decode, scale, encode).
 * The first failure stops the others.
 */
export async function runJobs(call: Call, input: ResolvedInput, plan: PackagePlan, dir: string, workers: number): Promise<ChunkResult[]> {
  const duration = plan.source.duration ?? 0;
  const jobSeconds = (job: PackageJob): number => jobMediaSeconds(plan, job);
  const weight = (job: PackageJob): number =>
    // Audio costs next to nothing against the picture; alone (audioOnly) it is all the work.
    job.kind === 'audio' ? jobSeconds(job) * 20_000 : jobSeconds(job) * frameCost(plan.video, job.renditions);
  const total = plan.jobs.reduce((n, j) => n + weight(j), 0) || 1;
  const done = new Map<string, number>();
  // Speed is the package's: media seconds packaged over wall seconds since its jobs began. One
  // job's own speed says nothing about a call whose chunks run side by side.
  const began = performance.now();
  const progress = (job: PackageJob) => (event: WorkerEvent) => {
    if (event.type !== 'stats') return;
    const length = jobSeconds(job);
    done.set(job.id, length > 0 ? Math.min(1, event.seconds / length) : 0);
    const fraction = plan.jobs.reduce((n, j) => n + (done.get(j.id) ?? 0) * weight(j), 0) / total;
    const seconds = fraction * duration;
    const elapsed = (performance.now() - began) / 1000;
    call.tracker.emit('package', fraction, seconds, elapsed > 0 && seconds > 0 ? seconds / elapsed : undefined);
  };
  // Longest first: a long job started last would leave the other workers idle while it ends.
  // No more jobs are in the pool than there are workers: a plan of a thousand chunks holds a
  // worker's worth of places in the queue, not a thousand.
  const order = [...plan.jobs].sort((a, b) => weight(b) - weight(a));
  const results: ChunkResult[] = [];
  let next = 0;
  const lane = async () => {
    while (next < order.length) {
      const job = order[next++]!;
      results.push(await runJob(call, input, plan, job, dir, progress(job)));
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(workers, order.length)) }, lane);
  try {
    await Promise.all(lanes);
    return results;
  } catch (err) {
    // The call ends only once every job has: none may write into a folder being rolled back.
    call.stopWith(err);
    await Promise.allSettled(lanes);
    throw err;
  }
}

/** The stitch stage: every rendition's parts as CMAF tracks in `dir`, and the manifests. */
export async function stitchInto(
  dir: string,
  plan: PackagePlan,
  results: readonly ChunkResult[],
  settings: StitchSettings = { protection: NO_PROTECTION, names: DEFAULT_SEGMENT_NAMES, languages: resolveLanguages({}) },
  subtitles: readonly LoadedSubtitle[] = [],
): Promise<{ video: PackagedTrack[]; audio: PackagedTrack[]; subtitles: PackagedText[] }> {
  const { protection, names } = settings;
  const sourceTag = plan.source.streams.find((s) => s.index === plan.audioStream)?.tags.language;
  const spoken = audioLanguage(settings.languages, sourceTag);
  const parts = partsByRendition(plan.jobs, results);
  const frameRate = plan.rate ? plan.rate.num / plan.rate.den : undefined;
  const offset = await programmeOffset(
    parts,
    plan.audio.map((p) => p.name),
  );
  const video: PackagedTrack[] = [];
  for (const t of plan.video) {
    video.push(
      await stitchTrack(
        dir,
        { id: t.id, kind: 'video', ...(frameRate ? { frameRate } : {}), nominalBitrate: t.bitrate },
        parts.get(t.id) ?? [],
        plan.segmentDuration,
        protection,
        names,
        { programmeOffset: offset },
      ),
    );
  }
  // With a picture, the programme ends with it: audio stops within one of its frames of there.
  const pictureEnd = video[0] ? video[0].start + video[0].duration : undefined;
  const audio: PackagedTrack[] = [];
  for (const p of plan.audio) {
    audio.push(
      await stitchTrack(
        dir,
        { id: p.name, kind: 'audio', ...(p.bitrate ? { nominalBitrate: p.bitrate } : {}) },
        parts.get(p.name) ?? [],
        plan.segmentDuration,
        protection,
        names,
        { programmeOffset: offset, ...(pictureEnd !== undefined ? { endAt: pictureEnd } : {}) },
      ),
    );
  }
  for (const a of audio) Object.assign(a, spoken);
  const all = [...video, ...audio];
  const programme = Math.max(...all.map((t) => t.start + t.duration));
  const text = await writeTextTracks(dir, subtitles, segmentGrid(all, programme), offset);
  await writeManifests(dir, plan.formats, video, audio, protection, text);
  return { video, audio, subtitles: text };
}

/** The call's result from stitched tracks. */
export function packageResult(
  plan: PackagePlan,
  outputDir: string,
  tracks: { video: PackagedTrack[]; audio: PackagedTrack[]; subtitles: PackagedText[] },
  elapsedMs: number,
): PackageResult {
  const { video, audio, subtitles } = tracks;
  const duration = Math.max(...[...video, ...audio].map((t) => t.start + t.duration));
  return {
    source: plan.source,
    outputDir,
    ...(plan.formats.includes('hls') ? { hls: join(outputDir, 'master.m3u8') } : {}),
    ...(plan.formats.includes('dash') ? { dash: join(outputDir, 'manifest.mpd') } : {}),
    video,
    audio,
    subtitles,
    skipped: plan.skipped,
    segmentDuration: plan.segmentDuration,
    duration,
    frameRate: plan.rate ? plan.rate.num / plan.rate.den : null,
    elapsedMs,
    realtimeFactor: duration / (elapsedMs / 1000),
  };
}

/** `package`: plan, run every job on this engine's workers, stitch, all in one call. */
export async function packageCall(call: Call, media: MediaInput, o: ResolvedPackage & StitchSettings, workers: number): Promise<PackageResult> {
  const subtitles = await loadSubtitles(o.languages.subtitles);
  const input = await call.input(media);
  const plan = await makePlan(call, input, o, workers);
  const dir = await call.outputs.dir(o.outputDir, 'outputDir', 'package');
  await dir.claim(packageEntries(plan, o.languages));
  const work = dir.path('.work');
  await mkdir(work);
  call.tracker.emit('probe', 0, 0, undefined);
  const started = performance.now();
  const results = await runJobs(call, input, plan, work, workers);
  call.throwIfStopped();
  const tracks = await stitchInto(dir.stagePath, plan, results, o, subtitles);
  await rm(work, { recursive: true });
  const elapsedMs = performance.now() - started;
  call.tracker.emit('package', 1, plan.source.duration ?? 0, undefined);
  return packageResult(plan, dir.finalPath, tracks, elapsedMs);
}

/** `planPackage`: the plan of a package of `media`, as plain data. */
export async function planCall(call: Call, media: MediaInput, o: ResolvedPlanOptions, workers: number): Promise<PackagePlan> {
  return makePlan(call, await call.input(media), o, o.workers ?? workers);
}

export interface RunChunkOptions {
  /** Folder the job's files go to (added to, never emptied). */
  outputDir: string;
  /** Replace files of the same names (default false). */
  overwrite?: boolean;
}

export const RUN_CHUNK_KEYS = ['outputDir', 'overwrite'] as const;

export interface ResolvedChunk {
  plan: PackagePlan;
  job: PackageJob;
  outputDir: string;
}

export function resolveRunChunk(plan: unknown, jobId: unknown, o: RunChunkOptions): ResolvedChunk {
  const checked = checkPlan(plan);
  if (typeof jobId !== 'string') throw new OptionsError('job', `must be the id of one of the plan's jobs, got ${v.show(jobId)}`);
  const job = checked.jobs.find((j) => j.id === jobId);
  if (!job) throw new OptionsError('job', `is not a job of the plan (jobs: ${checked.jobs.map((j) => j.id).join(', ')}), got ${v.show(jobId)}`);
  return { plan: checked, job, outputDir: v.path('outputDir', o.outputDir) };
}

/**
 * `runChunk`: one job of a plan, on this engine — on another machine than the one that planned,
 * if the plan travelled there. Its files are committed into `outputDir` for `stitch`.
 */
export async function runChunkCall(call: Call, media: MediaInput, r: ResolvedChunk): Promise<ChunkResult> {
  const input = await call.input(media);
  // The jobs address the source by stream and frame: they must run on the input they were planned for.
  const source = await call.probe(input);
  const planned = r.plan.source;
  if (source.size !== planned.size || source.duration !== planned.duration || source.streams.length !== planned.streams.length) {
    throw new OptionsError(
      'plan',
      `was made for another input (${planned.size} bytes, ${planned.duration} s; this one: ${source.size} bytes, ${source.duration} s)`,
    );
  }
  checkDurations(call, source);
  if (r.job.kind === 'video' && r.plan.videoEncoder !== call.h264Encoder) {
    throw new UnsupportedError(
      `the plan's video is encoded with ${r.plan.videoEncoder}, and this engine's FFmpeg core has ${call.h264Encoder ?? 'no H.264 encoder'}: run every video job of a plan on engines with the same core`,
    );
  }
  if (r.job.kind === 'video' && r.plan.videoThreads !== call.videoThreads) {
    throw new UnsupportedError(
      `the plan's video jobs use ${r.plan.videoThreads} thread(s) each, and this engine's videoThreads is ${call.videoThreads}: a thread count gives its own bitstream, so run every video job of a plan on engines with the same videoThreads`,
    );
  }
  const again = planFor(source, planRequest(r.plan, r.plan.videoEncoder), r.plan.workers);
  if (JSON.stringify(again) !== JSON.stringify(r.plan)) {
    throw new OptionsError('plan', 'is not the plan this engine makes for this input from its options: it was changed, or made by another version');
  }
  const files = new Map<string, { finalPath: string; tempPath: string }>();
  for (const rendition of r.job.renditions) files.set(rendition, await call.outputs.file(join(r.outputDir, `${r.job.id}.${rendition}.mp4`), 'outputDir'));
  const work = await workFolder(r.outputDir);
  try {
    const length = jobMediaSeconds(r.plan, r.job);
    const result = await runJob(call, input, r.plan, r.job, work, call.tracker.phase('chunk', length));
    for (const f of result.files) await rename(f.path, files.get(f.rendition)!.tempPath);
    call.tracker.emit('chunk', 1, length, undefined);
    return { job: result.job, files: result.files.map((f) => ({ ...f, path: files.get(f.rendition)!.finalPath })) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * `stitch`'s options: where the package goes, and the stitch stage's own options as for `package`
 * (keys, names, layout, subtitles: given to the stitch, never put in the plan).
 */
export interface StitchOptions extends Pick<PackageOptions, (typeof STITCH_SETTING_KEYS)[number]> {
  /** Folder the package goes to, as for `package`. */
  outputDir: string;
  overwrite?: boolean;
}

export const STITCH_KEYS = ['outputDir', 'overwrite', ...STITCH_SETTING_KEYS] as const;

export interface ResolvedStitch extends StitchSettings {
  plan: PackagePlan;
  results: ChunkResult[];
  outputDir: string;
}

export function resolveStitch(plan: unknown, results: unknown, o: StitchOptions): ResolvedStitch {
  const checked = checkPlan(plan);
  if (!Array.isArray(results)) throw new OptionsError('results', 'must be an array of the results of runChunk');
  results.forEach((r, i) => {
    const ok =
      typeof r === 'object' &&
      r !== null &&
      typeof r.job === 'string' &&
      Array.isArray(r.files) &&
      r.files.every(
        (f: unknown) =>
          typeof f === 'object' &&
          f !== null &&
          typeof (f as ChunkResult['files'][number]).rendition === 'string' &&
          typeof (f as ChunkResult['files'][number]).path === 'string',
      );
    if (!ok) throw new OptionsError(`results[${i}]`, 'must be a result of runChunk ({ job, files: [{ rendition, path }] })');
  });
  const outputDir = v.path('outputDir', o.outputDir);
  const protection = resolveProtection(o, { video: checked.video.length > 0, audio: checked.audio, formats: checked.formats });
  return { plan: checked, results: results as ChunkResult[], outputDir, protection, names: resolveNames(o, protection), languages: resolveLanguages(o) };
}

/** `stitch`: the package from the results of every job of a plan, wherever they ran. */
export async function stitchCall(call: Call, r: ResolvedStitch): Promise<PackageResult> {
  // Its renditions name folders and fill manifests: only a plan this engine makes from the
  // plan's own source and options is stitched.
  let again: PackagePlan | undefined;
  try {
    checkDurations(call, r.plan.source);
    // Stitching encodes nothing: the plan's own encoder is the one its parts were made with.
    again = planFor(r.plan.source, planRequest(r.plan, r.plan.videoEncoder), r.plan.workers);
  } catch (err) {
    if (err instanceof OptionsError || err instanceof LimitError) throw err;
  }
  if (!again || JSON.stringify(again) !== JSON.stringify(r.plan)) {
    throw new OptionsError('plan', 'is not a plan this engine makes from its source and options: it was changed, or made by another version');
  }
  const subtitles = await loadSubtitles(r.languages.subtitles);
  const dir = await call.outputs.dir(r.outputDir, 'outputDir', 'package');
  await dir.claim(packageEntries(r.plan, r.languages));
  const started = performance.now();
  const tracks = await stitchInto(dir.stagePath, r.plan, r.results, r, subtitles);
  call.tracker.emit('stitch', 1, 0, undefined);
  return packageResult(r.plan, dir.finalPath, tracks, performance.now() - started);
}

/** The options a plan was made from, checked as the options of a call are. */
function planRequest(plan: PackagePlan, encoder: H264Encoder | null): ResolvedPackage {
  const request = plan.request;
  try {
    return resolvePlanOptions(
      { ...request, x264Preset: request.x264Preset ?? undefined, chunkSeconds: request.chunkSeconds ?? undefined },
      encoder,
      plan.videoThreads,
    );
  } catch (err) {
    if (err instanceof OptionsError) throw new OptionsError('plan', `request: ${err.message}`);
    throw err;
  }
}

/** A plan that came from a caller (maybe from another process): its shape, before anything uses it. */
function checkPlan(plan: unknown): PackagePlan {
  const p = plan as Partial<PackagePlan> | null;
  const ok =
    typeof p === 'object' &&
    p !== null &&
    p.version === 1 &&
    typeof p.request === 'object' &&
    p.request !== null &&
    Number.isInteger(p.workers) &&
    (p.workers as number) >= 1 &&
    (p.workers as number) <= 4096 &&
    typeof p.source === 'object' &&
    Array.isArray(p.jobs) &&
    Array.isArray(p.video) &&
    Array.isArray(p.audio) &&
    typeof p.segmentDuration === 'number' &&
    (p.videoEncoder === null || p.videoEncoder === 'libx264' || p.videoEncoder === 'libopenh264') &&
    Number.isInteger(p.videoThreads) &&
    (p.videoThreads as number) >= 1 &&
    (p.videoThreads as number) <= 16 &&
    p.jobs.every(
      (j) =>
        typeof j?.id === 'string' &&
        /^[\w.-]+$/.test(j.id) &&
        Array.isArray(j.renditions) &&
        j.renditions.every((x) => typeof x === 'string' && /^[\w.-]+$/.test(x)),
    );
  if (!ok) throw new OptionsError('plan', 'must be a plan made by planPackage (version 1)');
  // The record of the planPackage call that made it (its id and timings) is not the plan.
  const { call: _call, ...checked } = p as PackagePlan & { call?: unknown };
  return checked as PackagePlan;
}

/**
 * A private work folder for a job's files, beside where they go (one filesystem: a rename moves
 * them to their staged names), under a staged name so a sweep finds it if the process dies.
 */
async function workFolder(dir: string): Promise<string> {
  const path = join(dir, stagedName('chunk-work'));
  await mkdir(path);
  return path;
}
