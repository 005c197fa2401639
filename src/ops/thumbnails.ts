/**
 * `thumbnails`: a poster frame, a JPEG every N seconds, and storyboard sprite sheets with the
 * WebVTT file players read for seek previews (`sprite-1.jpg#xywh=x,y,w,h` per cue). One FFmpeg run
 * decodes the source once and `split` feeds the three outputs; the sandbox only lets FFmpeg write
 * files named in advance, so the image nodes are made from the probed duration (plus spares, whose
 * empty files are dropped).
 */
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { ResolvedInput } from '../call/input.js';
import { InputError, OptionsError, UnsupportedError } from '../errors.js';
import type { FFmpegPlan } from '../model/plan.js';
import type { ProbeResult } from '../model/probe-result.js';
import { PendingDir } from '../packaging/output-dir.js';
import type { CallJobs } from './analyze.js';
import { planInput } from './probe.js';

export interface SpriteOptions {
  /** Thumbnails per row (default 10). */
  columns?: number;
  /** Rows per sheet (default 10). */
  rows?: number;
  /** Width of one thumbnail in the sheet, pixels (default 160). */
  width?: number;
}

export interface ThumbnailOptions {
  outputDir: string;
  /** Seconds between thumbnails (default 10). */
  every?: number;
  /** Width of the separate thumbnail images (default 320); `false`: none. */
  width?: number | false;
  /** Poster frame time in seconds (default 10 % of the duration, at most 10 s); `false`: none. */
  poster?: number | false;
  /** Storyboard sprite sheets and their WebVTT track (default on); `false`: none. */
  sprite?: SpriteOptions | false;
}

export const THUMBNAIL_OPTION_KEYS = ['outputDir', 'every', 'width', 'poster', 'sprite'];

export interface ThumbnailResult {
  source: ProbeResult;
  outputDir: string;
  poster?: { path: string; width: number; height: number; time: number };
  images: Array<{ path: string; time: number }>;
  imageSize?: { width: number; height: number };
  sprite?: { sheets: string[]; vtt: string; columns: number; rows: number; width: number; height: number; count: number };
}

interface Resolved {
  outputDir: string;
  every: number;
  width: number | false;
  poster: number | false | undefined;
  sprite: { columns: number; rows: number; width: number } | false;
}

function resolve(o: ThumbnailOptions): Resolved {
  if (typeof o.outputDir !== 'string' || !o.outputDir) throw new OptionsError('outputDir', 'must be a non-empty path');
  const every = o.every ?? 10;
  if (typeof every !== 'number' || !(every >= 0.1 && every <= 3600)) throw new OptionsError('every', 'must be a number of seconds from 0.1 to 3600');
  const width = o.width ?? 320;
  if (width !== false && !(Number.isInteger(width) && width >= 16 && width <= 4096))
    throw new OptionsError('width', 'must be an integer from 16 to 4096, or false');
  const poster = o.poster;
  if (poster !== undefined && poster !== false && !(typeof poster === 'number' && poster >= 0))
    throw new OptionsError('poster', 'must be a time in seconds, or false');
  let sprite: Resolved['sprite'] = false;
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
  return { outputDir: o.outputDir, every, width, poster, sprite };
}

const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));

export async function thumbnailsInput(jobs: CallJobs, input: ResolvedInput, options: ThumbnailOptions): Promise<ThumbnailResult> {
  const o = resolve(options);
  const source = await jobs.probe(input);
  const video = source.streams.find((s) => s.type === 'video' && !s.attachedPicture);
  if (!video) throw new UnsupportedError(`the input has no video stream (found: ${source.streams.map((s) => s.type).join(', ') || 'nothing'})`);
  if (!video.width || !video.height) throw new InputError('the video stream does not state its picture size');
  const duration = source.duration ?? video.duration;
  if (!duration) throw new InputError('the input does not state its duration');
  const count = Math.max(1, Math.ceil(duration / o.every - 1e-9));
  const aspect = video.height / video.width;
  const posterTime = o.poster === false ? undefined : Math.round(Math.min(o.poster ?? Math.min(duration * 0.1, 10), Math.max(0, duration - 0.1)) * 1000) / 1000;

  const dir = await PendingDir.create(o.outputDir);
  try {
    const names: string[] = [];
    const graph: string[] = [];
    const outs: string[][] = [];
    const branches: string[] = [];
    if (posterTime !== undefined) {
      branches.push('poster');
      outs.push(['-map', '[poster]', '-ss', String(posterTime), '-frames:v', '1', '-q:v', '2', '-update', '1', '-f', 'image2', '/job/poster.jpg']);
      names.push('poster.jpg');
    }
    const imageSize = o.width === false ? undefined : { width: even(o.width), height: even(o.width * aspect) };
    // The sheets do not say how many cells they filled (a video track can end before the
    // container's duration): the images branch counts them, so it runs, tiny, even when not kept.
    const counted = imageSize ?? { width: 16, height: even(16 * aspect) };
    // Spares: the fps filter may round one more frame out of the last partial interval.
    const spare = count + 1;
    branches.push('images');
    outs.push(['-map', '[images]', '-q:v', '3', '-start_number', '1', '-f', 'image2', '/job/thumb-%04d.jpg']);
    for (let i = 1; i <= spare; i++) names.push(`thumb-${String(i).padStart(4, '0')}.jpg`);
    const tile = o.sprite === false ? undefined : { ...o.sprite, height: even(o.sprite.width * aspect), w: even(o.sprite.width) };
    if (tile) {
      branches.push('sprite');
      outs.push(['-map', '[sprite]', '-q:v', '4', '-start_number', '1', '-f', 'image2', '/job/sprite-%03d.jpg']);
      for (let i = 1; i <= Math.ceil(spare / (tile.columns * tile.rows)); i++) names.push(`sprite-${String(i).padStart(3, '0')}.jpg`);
    }
    graph.push(`[0:${video.index}]format=yuvj420p,split=${branches.length}${branches.map((b) => `[${b}_in]`).join('')}`);
    if (posterTime !== undefined) graph.push('[poster_in]null[poster]');
    // fps=1/N takes the frame nearest each multiple of N, starting at 0.
    graph.push(`[images_in]fps=1/${o.every},scale=${counted.width}:${counted.height}[images]`);
    if (tile) graph.push(`[sprite_in]fps=1/${o.every},scale=${tile.w}:${tile.height},tile=${tile.columns}x${tile.rows}[sprite]`);
    const inPlan = planInput(input);
    const plan: FFmpegPlan = {
      op: 'ffmpeg',
      phase: 'thumbnails',
      inputs: [inPlan],
      outputs: names.map((name) => ({ name, sink: { type: 'path', path: dir.path(name) } })),
      args: ['-xerror', '-i', `/job/${inPlan.name}`, '-filter_complex', graph.join(';'), ...outs.flat()],
      limits: jobs.jobLimits,
    };
    await jobs.run(plan, jobs.tracker.phase('thumbnails', duration));

    // Nodes FFmpeg did not fill are left empty: drop them.
    const written = new Set<string>();
    for (const name of await readdir(dir.tempPath)) {
      if ((await stat(dir.path(name))).size === 0) await rm(dir.path(name));
      else written.add(name);
    }
    const images = names.filter((n) => n.startsWith('thumb-') && written.has(n));
    if (!imageSize) for (const n of images) await rm(dir.path(n));
    const sheets = names.filter((n) => n.startsWith('sprite-') && written.has(n));
    if (posterTime !== undefined && !written.has('poster.jpg')) throw new InputError('thumbnails: no frame was decoded for the poster');
    let spriteResult: ThumbnailResult['sprite'];
    if (tile) {
      // One cue per thumbnail made.
      const cells = Math.min(images.length, sheets.length * tile.columns * tile.rows);
      await writeFile(dir.path('storyboard.vtt'), storyboardVtt(cells, o.every, duration, tile));
      spriteResult = { sheets, vtt: 'storyboard.vtt', columns: tile.columns, rows: tile.rows, width: tile.w, height: tile.height, count: cells };
    }
    await dir.commit();
    jobs.tracker.emit('thumbnails', 1, duration, undefined);
    const abs = (n: string) => `${dir.finalPath}/${n}`;
    return {
      source,
      outputDir: dir.finalPath,
      ...(posterTime !== undefined ? { poster: { path: abs('poster.jpg'), width: video.width, height: video.height, time: posterTime } } : {}),
      images: imageSize ? images.map((n, i) => ({ path: abs(n), time: i * o.every })) : [],
      ...(imageSize ? { imageSize } : {}),
      ...(spriteResult ? { sprite: { ...spriteResult, sheets: spriteResult.sheets.map(abs), vtt: abs(spriteResult.vtt) } } : {}),
    };
  } catch (err) {
    await dir.rollback();
    throw err;
  }
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
