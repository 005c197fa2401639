/**
 * The engine's image calls: `resize` (one output) and `imageSet` (many sizes and formats from one
 * decode). Both run one image plan, i.e. one worker task; path outputs are written to temporary
 * names and committed together, or all rolled back.
 */
import { basename, extname, join } from 'node:path';
import type { ResolvedInput } from '../call/input.js';
import { OutputSet } from '../call/outputs.js';
import { OptionsError } from '../errors.js';
import type { ImageJobInfo, OutputFormat } from '../model/image-spec.js';
import type { OutputSink } from '../model/plan.js';
import type { CallJobs } from './analyze.js';
import { EXTENSIONS, formatFromPath, type ImageJobOptions, type ImageTarget, imagePlan, resolveImageJob, resolveTarget } from './image.js';

export interface ResizeImageOptions extends ImageTarget, ImageJobOptions {
  /** Host path to write; without it the image comes back as `bytes`. The format defaults to its extension. */
  output?: string;
}

export interface ImageSetOptions extends ImageJobOptions {
  /** Directory to write into; without it the images come back as `bytes`. */
  outputDir?: string;
  /** File name stem (default: the input's, or `image`): `<stem>-<w>x<h>.<ext>`. */
  baseName?: string;
}

export interface ImageOutput {
  format: OutputFormat;
  width: number;
  height: number;
  size: number;
  path?: string;
  bytes?: Uint8Array;
}

export interface ImageSource {
  format: string;
  /** Displayed (EXIF-oriented) size. */
  width: number;
  height: number;
  orientation: number;
  icc: ImageJobInfo['source']['icc'];
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
export const COVER_SIZES = Object.freeze([640, 300, 64]);

export const RESIZE_OPTION_KEYS = ['output', 'maxPixels', 'shrinkOnLoad'];
export const IMAGE_SET_OPTION_KEYS = ['outputDir', 'baseName', 'maxPixels', 'shrinkOnLoad'];

export async function resizeCall(jobs: CallJobs, input: ResolvedInput, options: ResizeImageOptions): Promise<ResizeResult> {
  const { output, maxPixels, shrinkOnLoad, ...target } = options;
  delete (target as Record<string, unknown>).signal;
  delete (target as Record<string, unknown>).onProgress;
  delete (target as Record<string, unknown>).limits;
  if (output !== undefined && (typeof output !== 'string' || !output)) throw new OptionsError('output', 'must be a non-empty path');
  if (output && target.format === undefined) {
    const format = formatFromPath(output);
    if (!format) throw new OptionsError('output', `has no image extension (.jpg, .png, .webp) to take the format from: ${output}`);
    target.format = format;
  }
  const result = await runImageJob(jobs, input, 'resize', [target], output ? [output] : undefined, { maxPixels, shrinkOnLoad });
  const { images, ...rest } = result;
  return { ...images[0]!, ...rest };
}

export async function imageSetCall(
  jobs: CallJobs,
  input: ResolvedInput,
  targets: ImageTarget[],
  options: ImageSetOptions,
  stemHint: string,
): Promise<ImageSetResult> {
  if (!Array.isArray(targets) || targets.length === 0) throw new OptionsError('targets', 'must be a non-empty array of image targets');
  let destinations: string[] | undefined;
  if (options.outputDir !== undefined) {
    if (typeof options.outputDir !== 'string' || !options.outputDir) throw new OptionsError('outputDir', 'must be a non-empty path');
    const stem = options.baseName ?? stemHint;
    if (!/^[^/\\\0]+$/.test(stem)) throw new OptionsError('baseName', 'must be a file name without slashes');
    destinations = targets.map((t, i) => {
      const size =
        t?.width !== undefined && t.width === t.height ? String(t.width) : [t?.width ?? '', t?.height ?? ''].filter((v) => v !== '').join('x') || String(i);
      return join(options.outputDir!, `${stem}-${size}.${EXTENSIONS[t?.format ?? 'jpeg'] ?? 'jpg'}`);
    });
    if (new Set(destinations).size !== destinations.length) throw new OptionsError('targets', 'two targets would write the same file name');
  }
  return runImageJob(jobs, input, 'image-set', targets, destinations, options);
}

async function runImageJob(
  jobs: CallJobs,
  input: ResolvedInput,
  phase: string,
  targets: ImageTarget[],
  destinations: string[] | undefined,
  jobOptions: ImageJobOptions,
): Promise<ImageSetResult> {
  const specs = targets.map((t, i) => resolveTarget(t, phase === 'resize' ? '' : `targets[${i}]`, `out${i}`));
  const job = resolveImageJob(jobOptions);
  const outputs = new OutputSet();
  try {
    const sinks: OutputSink[] = [];
    for (const dest of destinations ?? specs.map(() => undefined)) {
      sinks.push(dest ? { type: 'path', path: (await outputs.add(dest)).tempPath } : { type: 'bytes' });
    }
    const started = performance.now();
    const result = await jobs.run(imagePlan(phase, input, job, specs, sinks, jobs.jobLimits));
    await outputs.commit();
    // One job, no media time to report: a single closing event.
    jobs.tracker.emit(phase, 1, 0, undefined);
    const info = result.image!;
    const images = info.outputs.map((o, i): ImageOutput => {
      const out = result.outputs[i]!;
      return { ...o, size: out.size, ...(destinations ? { path: outputs.files[i]!.finalPath } : { bytes: out.bytes! }) };
    });
    return {
      source: info.source,
      images,
      lowres: info.lowres,
      elapsedMs: performance.now() - started,
      timings: { decodeMs: info.decodeMs, resizeMs: info.resizeMs, encodeMs: info.encodeMs },
    };
  } catch (err) {
    await outputs.rollback();
    throw err;
  }
}

export function imageStem(input: unknown): string {
  const named = input as { path?: unknown; name?: unknown };
  const name = typeof named?.path === 'string' ? named.path : typeof named?.name === 'string' ? named.name : '';
  return basename(name, extname(name)) || 'image';
}
