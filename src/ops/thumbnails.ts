/**
 * `thumbnails`: a poster frame, a JPEG every N seconds, and storyboard sprite sheets with the
 * WebVTT file players read for seek previews (`sprite-1.jpg#xywh=x,y,w,h` per cue). One FFmpeg run
 * decodes the source once and `split` feeds the three outputs. The sandbox only lets FFmpeg write
 * files named in advance, so the image nodes are made from the probed duration — which is why the
 * duration limit and `maxImages` are checked before any node exists, and every output is capped
 * in frames: a header that lies about the duration can neither make the engine name a million
 * files nor make FFmpeg write more than were named.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import * as v from '../call/validate.js';
import { InputError, LimitError, OptionsError, UnsupportedError } from '../errors.js';
import type { FFmpegPlan } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import type { ProbeResult } from '../model/probe-result.js';

export interface SpriteOptions {
  /** Thumbnails per row (default 10). */
  columns?: number;
  /** Rows per sheet (default 10). */
  rows?: number;
  /** Width of one thumbnail in the sheet, pixels (default 160). */
  width?: number;
}

export interface ThumbnailOptions {
  /** Folder to add the images to (created if missing; nothing else in it is touched). */
  outputDir: string;
  /** Replace the images of a previous `thumbnails` call in `outputDir` (default false). */
  overwrite?: boolean;
  /** Most images (and storyboard cells) one call makes (default 3600); more is `E_LIMIT`. */
  maxImages?: number;
  /** Seconds between thumbnails (default 10). */
  every?: number;
  /** Width of the separate thumbnail images (default 320); `false`: none. */
  width?: number | false;
  /** Poster frame time in seconds (default 10 % of the duration, at most 10 s); `false`: none. */
  poster?: number | false;
  /** Storyboard sprite sheets and their WebVTT track (default on); `false`: none. */
  sprite?: SpriteOptions | false;
}

export const THUMBNAIL_KEYS = ['outputDir', 'overwrite', 'maxImages', 'every', 'width', 'poster', 'sprite'] as const;

export interface ThumbnailResult {
  source: ProbeResult;
  outputDir: string;
  poster?: { path: string; width: number; height: number; time: number };
  images: Array<{ path: string; time: number }>;
  imageSize?: { width: number; height: number };
  sprite?: { sheets: string[]; vtt: string; columns: number; rows: number; width: number; height: number; count: number };
}

export interface ResolvedThumbnails {
  outputDir: string;
  maxImages: number;
  every: number;
  width: number | false;
  poster: number | false | undefined;
  sprite: { columns: number; rows: number; width: number } | false;
}

export function resolveThumbnails(o: ThumbnailOptions): ResolvedThumbnails {
  v.path('outputDir', o.outputDir);
  const maxImages = v.optional(o.maxImages, 3600, (x) => v.integer('maxImages', x, 1, 100_000));
  const every = o.every ?? 10;
  if (typeof every !== 'number' || !(every >= 0.1 && every <= 3600)) throw new OptionsError('every', 'must be a number of seconds from 0.1 to 3600');
  const width = o.width ?? 320;
  if (width !== false && !(Number.isInteger(width) && width >= 16 && width <= 4096))
    throw new OptionsError('width', 'must be an integer from 16 to 4096, or false');
  const poster = o.poster;
  if (poster !== undefined && poster !== false && !(typeof poster === 'number' && poster >= 0))
    throw new OptionsError('poster', 'must be a time in seconds, or false');
  let sprite: ResolvedThumbnails['sprite'] = false;
  if (o.sprite !== false) {
    const s = o.sprite ?? {};
    const columns = s.columns ?? 10;
    const rows = s.rows ?? 10;
    const w = s.width ?? 160;
    const int = (name: string, v: number, max: number) => {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new OptionsError(`sprite.${name}`, `must be an integer from 1 to ${max}`);
    };
    int('columns', columns, 100);
    int('rows', rows, 100);
    int('width', w, 1024);
    if (w < 16) throw new OptionsError('sprite.width', 'must be at least 16');
    sprite = { columns, rows, width: w };
  }
  if (width === false && poster === false && sprite === false) throw new OptionsError('sprite', 'width, poster and sprite are all off: nothing to make');
  return { outputDir: o.outputDir, maxImages, every, width, poster, sprite };
}

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

export async function thumbnailsCall(call: Call, media: MediaInput, o: ResolvedThumbnails): Promise<ThumbnailResult> {
  const input = await call.input(media);
  const source = await call.probe(input);
  const video = source.streams.find((s) => s.type === 'video' && !s.attachedPicture);
  if (!video) throw new UnsupportedError(`the input has no video stream (found: ${source.streams.map((s) => s.type).join(', ') || 'nothing'})`);
  if (!video.width || !video.height) throw new InputError('the video stream does not state its picture size');
  const duration = source.duration ?? video.duration;
  if (!duration) throw new InputError('the input does not state its duration');
  call.checkDuration(duration);
  // One image per interval started, the first at 0: a video shorter than `every` still gets one.
  const count = Math.max(1, Math.ceil(duration / o.every - 1e-9));
  if (count > o.maxImages) {
    throw new LimitError('maxImages', `${duration.toFixed(1)} s at one image every ${o.every} s makes ${count} images, more than maxImages (${o.maxImages})`, {
      max: o.maxImages,
      actual: count,
    });
  }
  const aspect = video.height / video.width;
  const posterTime = o.poster === false ? undefined : Math.round(Math.min(o.poster ?? Math.min(duration * 0.1, 10), Math.max(0, duration - 0.1)) * 1000) / 1000;
  const imageSize = o.width === false ? undefined : { width: even(o.width), height: even(o.width * aspect) };
  const tile = o.sprite === false ? undefined : { ...o.sprite, height: even(o.sprite.width * aspect), w: even(o.sprite.width) };
  const sheets = tile ? Math.ceil(count / (tile.columns * tile.rows)) : 0;
  const imageNames = Array.from({ length: count }, (_, i) => `thumb-${String(i + 1).padStart(4, '0')}.jpg`);
  const sheetNames = Array.from({ length: sheets }, (_, i) => `sprite-${String(i + 1).padStart(3, '0')}.jpg`);

  const dir = await call.outputs.dir(o.outputDir, 'outputDir', 'thumbnails');
  await dir.claim([...(posterTime !== undefined ? ['poster.jpg'] : []), ...(imageSize ? imageNames : []), ...sheetNames, ...(tile ? ['storyboard.vtt'] : [])]);
  // The sheets do not say how many cells they filled (a video track can end before the
  // container's duration): the images branch counts them, so it runs, tiny, even when not kept.
  const counted = imageSize ?? { width: 16, height: even(16 * aspect) };
  const imagesDir = imageSize ? dir.stagePath : dir.path('.count');
  if (!imageSize) await mkdir(imagesDir);
  const names: Array<{ name: string; path: string }> = [];
  const branches: string[] = [];
  const outs: string[] = [];
  if (posterTime !== undefined) {
    branches.push('poster');
    outs.push('-map', '[poster]', '-ss', String(posterTime), '-frames:v', '1', '-q:v', '2', '-update', '1', '-f', 'image2', jobPath('poster.jpg'));
    names.push({ name: 'poster.jpg', path: dir.path('poster.jpg') });
  }
  branches.push('select');
  outs.push('-map', '[images]', '-frames:v', String(count), '-q:v', '3', '-start_number', '1', '-f', 'image2', jobPath('thumb-%04d.jpg'));
  for (const name of imageNames) names.push({ name, path: join(imagesDir, name) });
  if (tile) {
    outs.push('-map', '[sprite]', '-frames:v', String(sheets), '-q:v', '4', '-start_number', '1', '-f', 'image2', jobPath('sprite-%03d.jpg'));
    for (const name of sheetNames) names.push({ name, path: dir.path(name) });
  }
  // The first frame at or after each multiple of `every` (timestamps from the stream's start).
  const select = `select='isnan(prev_selected_t)+gt(floor(t/${o.every}),floor(prev_selected_t/${o.every}))'`;
  const graph = [`[0:${video.index}]setpts=PTS-STARTPTS,format=yuvj420p,split=${branches.length}${branches.map((b) => `[${b}_in]`).join('')}`];
  if (posterTime !== undefined) graph.push('[poster_in]null[poster]');
  graph.push(`[select_in]${select},split=${tile ? 2 : 1}[images_in]${tile ? '[sprite_in]' : ''}`);
  graph.push(`[images_in]scale=${counted.width}:${counted.height}[images]`);
  if (tile) graph.push(`[sprite_in]scale=${tile.w}:${tile.height},tile=${tile.columns}x${tile.rows}[sprite]`);
  const inPlan = planInput(input);
  const plan: FFmpegPlan = {
    op: 'ffmpeg',
    phase: 'thumbnails',
    inputs: [inPlan],
    outputs: names.map(({ name, path }) => ({ name, sink: { type: 'path', path } })),
    args: ['-i', jobPath(inPlan.name), '-filter_complex', graph.join(';'), ...outs],
    limits: call.jobLimits,
  };
  await call.run(plan, call.tracker.phase('thumbnails', duration));

  // Outputs are created when first written: what FFmpeg did not fill does not exist.
  const written = new Set(await readdir(dir.stagePath));
  const made = new Set(await readdir(imagesDir));
  const images = imageNames.filter((n) => made.has(n));
  if (!imageSize) await rm(imagesDir, { recursive: true, force: true });
  if (images.length === 0) throw new InputError('thumbnails: no frame could be decoded from the video stream');
  if (posterTime !== undefined && !written.has('poster.jpg')) throw new InputError('thumbnails: no frame was decoded for the poster');
  let spriteResult: ThumbnailResult['sprite'];
  if (tile) {
    const filled = sheetNames.filter((n) => written.has(n));
    // One cue per thumbnail made.
    const cells = Math.min(images.length, filled.length * tile.columns * tile.rows);
    await writeFile(dir.path('storyboard.vtt'), storyboardVtt(cells, o.every, duration, tile));
    spriteResult = { sheets: filled, vtt: 'storyboard.vtt', columns: tile.columns, rows: tile.rows, width: tile.w, height: tile.height, count: cells };
  }
  call.tracker.emit('thumbnails', 1, duration, undefined);
  const abs = (n: string) => join(dir.finalPath, n);
  return {
    source,
    outputDir: dir.finalPath,
    ...(posterTime !== undefined ? { poster: { path: abs('poster.jpg'), width: video.width, height: video.height, time: posterTime } } : {}),
    images: imageSize ? images.map((n, i) => ({ path: abs(n), time: i * o.every })) : [],
    ...(imageSize ? { imageSize } : {}),
    ...(spriteResult ? { sprite: { ...spriteResult, sheets: spriteResult.sheets.map(abs), vtt: abs(spriteResult.vtt) } } : {}),
  };
}

function stamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** WebVTT cues pointing into the sheets with media fragments (`#xywh=`), as seek-preview players read them. */
export function storyboardVtt(count: number, every: number, duration: number, tile: { columns: number; rows: number; w: number; height: number }): string {
  const lines = ['WEBVTT', ''];
  const perSheet = tile.columns * tile.rows;
  for (let i = 0; i < count; i++) {
    const sheet = Math.floor(i / perSheet) + 1;
    const cell = i % perSheet;
    const x = (cell % tile.columns) * tile.w;
    const y = Math.floor(cell / tile.columns) * tile.height;
    const start = i * every;
    // The last cue runs to the end, so every point of the timeline has a preview.
    const end = i === count - 1 ? Math.max(duration, start + 0.001) : Math.min((i + 1) * every, duration);
    lines.push(`${stamp(start)} --> ${stamp(end)}`, `sprite-${String(sheet).padStart(3, '0')}.jpg#xywh=${x},${y},${tile.w},${tile.height}`, '');
  }
  return lines.join('\n');
}
