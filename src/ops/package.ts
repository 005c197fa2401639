/**
 * `package`: adaptive streaming output from one source. A pipeline of stages:
 * 1. encode — one FFmpeg run decodes the source once; `fps` makes the frame rate constant, `split`
 *    and `scale` feed one libx264 encoder per rung (closed GOPs, IDR frames forced at every
 *    segment boundary, VBV-capped), and AAC/Opus/FLAC encoders each write a fragmented MP4;
 * 2. chunk — each rendition is cut into a CMAF init segment and one media segment per boundary
 *    (packaging/segmenter.ts);
 * 3. manifests — HLS playlists and a DASH MPD written from the measured segments, both pointing
 *    at the same segment files.
 * Everything goes to a temporary directory that is renamed into place on success.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaInput, ResolvedInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import * as v from '../call/validate.js';
import { InputError, InternalError, LimitError, OptionsError, UnsupportedError } from '../errors.js';
import { mpd } from '../manifests/dash.js';
import { masterPlaylist, mediaPlaylist } from '../manifests/hls.js';
import { describeTrack, type PackagedTrack } from '../manifests/track.js';
import type { FFmpegPlan, JobLimits } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import {
  AAC_ENCODER_ARGS,
  PACKAGE_AUDIO,
  PACKAGE_AUDIO_NAMES,
  type PackageAudioPreset,
  rungSize,
  VIDEO_LADDER,
  VIDEO_RUNG_NAMES,
  type VideoRung,
} from '../model/presets.js';
import type { ProbeResult, StreamInfo } from '../model/probe-result.js';
import { NoFragmentsError, segmentFile } from '../packaging/segmenter.js';

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
  /** x264 speed preset (default `veryfast`). */
  x264Preset?: string;
  /** Largest source picture accepted, width × height (default 4096 × 2304). */
  maxPixels?: number;
}

export interface PackageResult {
  source: ProbeResult;
  outputDir: string;
  /** Absolute paths of the manifests written. */
  hls?: string;
  dash?: string;
  video: PackagedTrack[];
  audio: PackagedTrack[];
  /** Requested rungs left out, and why. */
  skipped: Array<{ rung: string; reason: string }>;
  segmentDuration: number;
  /** Seconds, the longest track's. */
  duration: number;
  frameRate: number | null;
  elapsedMs: number;
  realtimeFactor: number | null;
}

export const PACKAGE_KEYS = ['video', 'audio', 'segmentDuration', 'formats', 'outputDir', 'overwrite', 'audioOnly', 'x264Preset', 'maxPixels'] as const;

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];
const DEFAULT_MAX_PIXELS = 4096 * 2304;
const MAX_FRAME_RATE = 60;

export interface ResolvedPackage {
  video: VideoRung[];
  audio: PackageAudioPreset[];
  segmentDuration: number;
  formats: PackageFormat[];
  outputDir: string;
  audioOnly: boolean;
  x264Preset: string;
  maxPixels: number;
}

export function resolvePackage(o: PackageOptions): ResolvedPackage {
  v.path('outputDir', o.outputDir);
  const names = (option: string, value: unknown, fallback: string[], known: readonly string[]): string[] => {
    const list = value ?? fallback;
    if (!Array.isArray(list) || list.some((n) => typeof n !== 'string' || !known.includes(n))) {
      throw new OptionsError(option, `must be an array of names from ${known.join(', ')}`);
    }
    if (new Set(list).size !== list.length) throw new OptionsError(option, 'must not name a rendition twice');
    return list as string[];
  };
  const audioOnly = o.audioOnly ?? false;
  if (typeof audioOnly !== 'boolean') throw new OptionsError('audioOnly', 'must be a boolean');
  const video = audioOnly ? [] : names('video', o.video, ['1080p', '720p', '480p', '360p'], VIDEO_RUNG_NAMES);
  const audio = names('audio', o.audio, ['aac-128', 'aac-64'], PACKAGE_AUDIO_NAMES);
  if (video.length === 0 && audio.length === 0) throw new OptionsError('video', 'and audio are both empty: nothing to package');
  if (audioOnly && audio.length === 0) throw new OptionsError('audio', 'must name at least one rendition with audioOnly');
  const segmentDuration = o.segmentDuration ?? 4;
  if (typeof segmentDuration !== 'number' || !(segmentDuration >= 1 && segmentDuration <= 30))
    throw new OptionsError('segmentDuration', 'must be a number of seconds from 1 to 30');
  const formats = o.formats ?? ['hls', 'dash'];
  if (!Array.isArray(formats) || formats.length === 0 || formats.some((f) => f !== 'hls' && f !== 'dash'))
    throw new OptionsError('formats', "must be a non-empty array of 'hls' and/or 'dash'");
  const x264Preset = o.x264Preset ?? 'veryfast';
  if (!X264_PRESETS.includes(x264Preset)) throw new OptionsError('x264Preset', `must be one of ${X264_PRESETS.join(', ')}`);
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 64) throw new OptionsError('maxPixels', 'must be an integer number of pixels, at least 64');
  return {
    video: video.map((n) => VIDEO_LADDER[n]!),
    audio: audio.map((n) => PACKAGE_AUDIO[n]!),
    segmentDuration,
    formats: [...new Set(formats)],
    outputDir: o.outputDir,
    audioOnly,
    x264Preset,
    maxPixels,
  };
}

export interface VideoTarget {
  id: string;
  rung: VideoRung;
  width: number;
  height: number;
  bitrate: number;
  maxrate: number;
  bufsize: number;
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

export interface PackageJobFiles {
  video: Array<{ target: VideoTarget; name: string; path: string }>;
  audio: Array<{ preset: PackageAudioPreset; name: string; path: string }>;
}

export function packagePlan(
  input: ResolvedInput,
  video: StreamInfo | undefined,
  audio: StreamInfo | undefined,
  files: PackageJobFiles,
  segmentDuration: number,
  fps: { num: number; den: number },
  x264Preset: string,
  limits: JobLimits,
): FFmpegPlan {
  const inPlan = planInput(input);
  const args = ['-i', jobPath(inPlan.name)];
  const rate = fps.num / fps.den;
  const gop = Math.ceil(segmentDuration * rate - 1e-6);
  if (video && files.video.length) {
    const n = files.video.length;
    const graph = [`[0:${video.index}]fps=${fps.num}/${fps.den},format=yuv420p,split=${n}${files.video.map((_, i) => `[s${i}]`).join('')}`];
    files.video.forEach((f, i) => {
      graph.push(`[s${i}]scale=${f.target.width}:${f.target.height}:flags=bicubic,setsar=1[v${i}]`);
    });
    args.push('-filter_complex', graph.join(';'));
    files.video.forEach((f, i) => {
      const t = f.target;
      args.push(
        '-map',
        `[v${i}]`,
        '-an',
        '-sn',
        '-dn',
        '-map_metadata',
        '-1',
        '-map_chapters',
        '-1',
        '-c:v',
        'libx264',
        '-preset',
        x264Preset,
        '-profile:v',
        t.rung.profile,
        '-b:v',
        String(t.bitrate),
        '-maxrate',
        String(t.maxrate),
        '-bufsize',
        String(t.bufsize),
        // Fixed closed GOPs: an IDR at every segment boundary and nowhere else.
        '-g',
        String(gop),
        '-keyint_min',
        String(gop),
        '-sc_threshold',
        '0',
        '-force_key_frames',
        `expr:gte(t,n_forced*${segmentDuration})`,
        '-forced-idr',
        '1',
        '-x264-params',
        'open-gop=0:scenecut=0',
        // The moov waits for the first fragment so that its edit list states where the track
        // starts; the chunking stage turns that into tfdt and composition offsets.
        '-f',
        'mp4',
        '-movflags',
        '+frag_keyframe+delay_moov+default_base_moof+cmaf',
        '-use_editlist',
        '1',
        jobPath(f.name),
      );
    });
  }
  if (audio) {
    for (const f of files.audio) {
      const p = f.preset;
      args.push('-map', `0:${audio.index}`, '-vn', '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1', '-c:a', p.encoder);
      if (p.bitrate) args.push('-b:a', String(p.bitrate));
      if (p.codec === 'opus') args.push('-ar', '48000', '-vbr', 'constrained', '-application', 'audio');
      else if (p.codec === 'aac') args.push('-ar', String(aacRate(audio.sampleRate)), ...AAC_ENCODER_ARGS);
      else args.push('-strict', '-2', '-compression_level', '8');
      if ((audio.channels ?? 2) > 2) args.push('-ac', '2');
      // Fragment length is irrelevant: the chunking stage cuts segments at sample level. The moov
      // waits for the first fragment so that its edit list can state where the track starts and
      // the encoder's priming (AAC 1024 samples, Opus pre-skip), in the track's own ticks.
      args.push(
        '-f',
        'mp4',
        '-movflags',
        '+delay_moov+default_base_moof+cmaf',
        '-use_editlist',
        '1',
        '-movie_timescale',
        String(p.codec === 'aac' ? aacRate(audio.sampleRate) : p.codec === 'opus' ? 48000 : (audio.sampleRate ?? 48000)),
        '-frag_duration',
        '1000000',
        jobPath(f.name),
      );
    }
  }
  return {
    op: 'ffmpeg',
    phase: 'package',
    inputs: [inPlan],
    outputs: [...files.video, ...files.audio].map((f) => ({ name: f.name, sink: { type: 'path', path: f.path } })),
    args,
    limits,
  };
}

/** AAC renditions at 44.1 or 48 kHz, like the file presets: below that the encoder cannot spend its rate. */
function aacRate(source: number | undefined): number {
  if (!source || source < 44100) return 44100;
  if (source > 48000) return source % 44100 === 0 ? 44100 : 48000;
  return source === 44100 ? 44100 : 48000;
}

export async function packageCall(call: Call, media: MediaInput, o: ResolvedPackage): Promise<PackageResult> {
  const input = await call.input(media);
  const source = await call.probe(input);
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
  const audioPresets = audioStream ? o.audio : [];
  if (targets.length === 0 && audioPresets.length === 0) throw new UnsupportedError(`nothing to package: the input has no audio stream (found: ${found})`);
  const fps = videoStream ? outputFrameRate(videoStream) : undefined;

  const dir = await call.outputs.dir(o.outputDir, 'outputDir', 'package');
  const manifests = [...(o.formats.includes('hls') ? ['master.m3u8'] : []), ...(o.formats.includes('dash') ? ['manifest.mpd'] : [])];
  await dir.claim([...targets.map((t) => t.id), ...audioPresets.map((p) => p.name), ...manifests]);
  const work = dir.path('.work');
  await mkdir(work);
  const files: PackageJobFiles = {
    video: targets.map((target, i) => ({ target, name: `v${i}.mp4`, path: `${work}/v${i}.mp4` })),
    audio: audioPresets.map((preset, i) => ({ preset, name: `a${i}.mp4`, path: `${work}/a${i}.mp4` })),
  };
  const plan = packagePlan(input, videoStream, audioStream, files, o.segmentDuration, fps ?? { num: 30, den: 1 }, o.x264Preset, call.jobLimits);
  call.tracker.emit('probe', 0, 0, undefined);
  const started = performance.now();
  await call.run(plan, call.tracker.phase('package', source.duration));

  const frameRate = fps ? fps.num / fps.den : undefined;
  const chunk = async (id: string, kind: 'video' | 'audio', path: string, extra: { frameRate?: number; nominalBitrate?: number }) => {
    call.throwIfStopped();
    await mkdir(dir.path(id));
    const segmented = await segmentFile(path, { segmentDuration: o.segmentDuration, dir: dir.path(id) }).catch((err: Error) => {
      // FFmpeg finished without a single fragment: the input held nothing it could decode.
      if (err instanceof NoFragmentsError) throw new InputError(`package: nothing was decoded from the input for the ${id} rendition`);
      throw new InternalError(`package: cannot segment the ${id} rendition: ${err.message}`, {}, { cause: err });
    });
    await rm(path);
    return describeTrack(id, kind, segmented, o.segmentDuration, extra);
  };
  const video: PackagedTrack[] = [];
  for (const f of files.video) video.push(await chunk(f.target.id, 'video', f.path, { ...(frameRate ? { frameRate } : {}), nominalBitrate: f.target.bitrate }));
  const audio: PackagedTrack[] = [];
  for (const f of files.audio) audio.push(await chunk(f.preset.name, 'audio', f.path, f.preset.bitrate ? { nominalBitrate: f.preset.bitrate } : {}));
  await rm(work, { recursive: true });

  if (o.formats.includes('hls')) {
    for (const t of [...video, ...audio]) await writeFile(dir.path(t.playlist), mediaPlaylist(t));
    await writeFile(dir.path('master.m3u8'), masterPlaylist(video, audio));
  }
  if (o.formats.includes('dash')) await writeFile(dir.path('manifest.mpd'), mpd(video, audio));
  const elapsedMs = performance.now() - started;
  call.tracker.emit('package', 1, source.duration ?? 0, undefined);
  const duration = Math.max(...[...video, ...audio].map((t) => t.start + t.duration));
  const rel = (p: string) => join(dir.finalPath, p);
  return {
    source,
    outputDir: dir.finalPath,
    ...(o.formats.includes('hls') ? { hls: rel('master.m3u8') } : {}),
    ...(o.formats.includes('dash') ? { dash: rel('manifest.mpd') } : {}),
    video,
    audio,
    skipped,
    segmentDuration: o.segmentDuration,
    duration,
    frameRate: frameRate ?? null,
    elapsedMs,
    realtimeFactor: duration / (elapsedMs / 1000),
  };
}
