/**
 * The engine's image calls: `resize` (one output) and `imageSet` (many sizes and formats from one
 * decode). Both run one image plan, i.e. one worker task; path outputs are written to temporary
 * names and committed together, or all rolled back.
 */

import { join } from 'node:path';
import { inputStem, type MediaInput } from '../call/input.js';
import type { StagedFile } from '../call/outputs.js';
import type { Call } from '../call/run-call.js';
import { asKind, type OutputStream, resolveStream, type StreamKind, type StreamOption } from '../call/stream-output.js';
import * as v from '../call/validate.js';
import { OptionsError } from '../errors.js';
import type { ImageJobInfo, ImageTargetSpec, OutputFormat } from '../model/image-spec.js';
import type { OutputSink } from '../model/plan.js';
import { EXTENSIONS, formatFromPath, type ImageJobOptions, type ImageTarget, imagePlan, resolveImageJob, resolveTarget, TARGET_KEYS } from './image.js';

export interface ResizeImageOptions extends ImageTarget, ImageJobOptions {
  /** Host path to write; without it the image comes back as `bytes`. The format defaults to its extension. */
  output?: string;
  /** Replace an existing file at `output` (default false: an existing file is refused). */
  overwrite?: boolean;
  /**
   * The image as a stream instead of bytes: `true` a Node Readable, `'web'` a web ReadableStream
   * (the format is `format`, default jpeg). Spooled to a private file, never held in memory.
   */
  stream?: StreamOption;
}

export interface ImageSetOptions extends ImageJobOptions {
  /** Directory to add the images to; without it the images come back as `bytes`. */
  outputDir?: string;
  /** File name stem (default: the input's, or `image`): `<stem>-<w>x<h>.<ext>`. */
  baseName?: string;
  /** Replace existing files of the same names (default false: they are refused). */
  overwrite?: boolean;
}

export interface ImageOutput {
  format: OutputFormat;
  width: number;
  height: number;
  size: number;
  path?: string;
  bytes?: Uint8Array;
  /** With `stream` (resize): the image, to be read once. */
  stream?: OutputStream;
}

export interface ImageSource {
  format: string;
  /** Displayed (EXIF-oriented) size. */
  width: number;
  height: number;
  orientation: number;
  icc: ImageJobInfo['source']['icc'];
  /** What decoded it: 'libjpeg-turbo', 'libwebp' or 'ffmpeg'. */
  decoder: ImageJobInfo['source']['decoder'];
}

export interface ImageSetResult {
  source: ImageSource;
  images: ImageOutput[];
  /** JPEG decoded at 1/2^lowres of its size (shrink-on-load); 0 when decoded whole. */
  lowres: number;
  elapsedMs: number;
  timings: { decodeMs: number; resizeMs: number; encodeMs: number };
}

export type ResizeResult = ImageOutput & Omit<ImageSetResult, 'images'>;

/** Default cover-art set of a music service: 640, 300 and 64 px JPEG. */

export const RESIZE_KEYS = [...TARGET_KEYS, 'output', 'maxPixels', 'shrinkOnLoad', 'overwrite', 'stream'] as const;
export const IMAGE_SET_KEYS = ['outputDir', 'baseName', 'maxPixels', 'shrinkOnLoad', 'overwrite'] as const;

/** An image call, checked: what to make, and where each output goes (or bytes). */
export interface ResolvedImageCall {
  phase: 'resize' | 'image-set';
  specs: ImageTargetSpec[];
  job: { maxPixels: number; shrinkOnLoad: boolean | 'fast' };
  destinations?: Array<{ path: string; option: string }>;
  /** resize with `stream`: the one image comes back as a stream of this kind. */
  stream?: StreamKind;
}

export function resolveResize(options: ResizeImageOptions): ResolvedImageCall {
  const { output, maxPixels, shrinkOnLoad, overwrite: _, stream: streamOption, ...target } = options;
  const stream = resolveStream(streamOption, output);
  const path = v.optional(output, undefined, (x) => v.path('output', x));
  if (path && target.format === undefined) {
    const format = formatFromPath(path);
    if (!format) throw new OptionsError('output', `has no image extension (.jpg, .png, .webp) to take the format from: ${path}`);
    target.format = format;
  }
  return {
    phase: 'resize',
    specs: [resolveTarget(target, '', 'out0')],
    job: resolveImageJob({ maxPixels, shrinkOnLoad }),
    ...(path ? { destinations: [{ path, option: 'output' }] } : {}),
    ...(stream ? { stream } : {}),
  };
}

export function resolveImageSet(targets: unknown, options: ImageSetOptions, input: MediaInput): ResolvedImageCall {
  if (!Array.isArray(targets) || targets.length === 0) throw new OptionsError('targets', 'must be a non-empty array of image targets');
  const specs = targets.map((t, i) => resolveTarget(t, `targets[${i}]`, `out${i}`));
  const job = resolveImageJob(options);
  if (options.outputDir === undefined) return { phase: 'image-set', specs, job };
  const dir = v.path('outputDir', options.outputDir);
  const stem = v.fileName('baseName', options.baseName ?? inputStem(input, 'image'));
  const destinations = specs.map((t, i) => {
    const size =
      t.width !== undefined && t.width === t.height ? String(t.width) : [t.width ?? '', t.height ?? ''].filter((x) => x !== '').join('x') || String(i);
    return { path: join(dir, `${stem}-${size}.${EXTENSIONS[t.format]}`), option: 'outputDir' };
  });
  if (new Set(destinations.map((d) => d.path)).size !== destinations.length) throw new OptionsError('targets', 'two targets would write the same file name');
  return { phase: 'image-set', specs, job, destinations };
}

/** One image plan, i.e. one worker task: decode once, every target resized and encoded. */
export async function imageCall(call: Call, media: MediaInput, r: ResolvedImageCall): Promise<ImageSetResult> {
  const input = await call.input(media);
  const files: Array<StagedFile | undefined> = [];
  const streams: Array<OutputStream | undefined> = [];
  const sinks: OutputSink[] = [];
  for (const [i] of r.specs.entries()) {
    const dest = r.destinations?.[i];
    const file = dest ? await call.outputs.file(dest.path, dest.option) : undefined;
    const streamed = r.stream && !file ? call.streamOutput() : undefined;
    files.push(file);
    streams.push(streamed && asKind(streamed.stream, r.stream!));
    sinks.push(file ? { type: 'path', path: file.tempPath } : streamed ? { type: 'path', path: streamed.tempPath } : { type: 'bytes' });
  }
  const started = performance.now();
  const result = await call.run(imagePlan(r.phase, input, r.job, r.specs, sinks, call.jobLimits));
  // One job, no media time to report: a single closing event.
  call.tracker.emit(r.phase, 1, 0, undefined);
  const info = result.image!;
  const images = info.outputs.map((o, i): ImageOutput => {
    const out = result.outputs[i]!;
    const file = files[i];
    return { ...o, size: out.size, ...(file ? { path: file.finalPath } : streams[i] ? { stream: streams[i] } : { bytes: out.bytes! }) };
  });
  return {
    source: info.source,
    images,
    lowres: info.lowres,
    elapsedMs: performance.now() - started,
    timings: { decodeMs: info.decodeMs, resizeMs: info.resizeMs, encodeMs: info.encodeMs },
  };
}

/** `resize`: an image call of one target, its result flattened. */
export async function resizeCall(call: Call, media: MediaInput, r: ResolvedImageCall): Promise<ResizeResult> {
  const { images, ...rest } = await imageCall(call, media, r);
  return { ...images[0]!, ...rest };
}
