/**
 * Image options (checked up front, each failure naming its option) and image plans.
 */

import type { ResolvedInput } from '../call/input.js';
import { OptionsError } from '../errors.js';
import {
  DEFAULT_MAX_PIXELS,
  DEFAULT_RESIZE_KERNEL,
  FIT_MODES,
  type FitMode,
  type ImageSpec,
  type ImageTargetSpec,
  normalizePosition,
  OUTPUT_FORMATS,
  type OutputFormat,
  type Position,
  RESIZE_KERNELS,
  type ResizeKernel,
} from '../model/image-spec.js';
import type { ImagePlan, JobLimits, OutputSink } from '../model/plan.js';

export interface ImageTarget {
  width?: number;
  height?: number;
  /** Default 'cover' (used only when both width and height are given). */
  fit?: FitMode;
  /** Where `cover` crops and `contain` places the image. Default 'centre'. */
  position?: Position | string;
  /** Never scale up. Default false. */
  withoutEnlargement?: boolean;
  /** Default 'lanczos3'. */
  kernel?: ResizeKernel;
  /** Filter in linear light instead of on sRGB values. Default false. */
  linearLight?: boolean;
  /** Default 'jpeg'. */
  format?: OutputFormat;
  /** JPEG / lossy WebP quality 1–100. Default 80. */
  quality?: number;
  /** JPEG: progressive scans. Default false (baseline). */
  progressive?: boolean;
  /** JPEG chroma subsampling: '4:2:0' (default) or '4:4:4'. */
  chromaSubsampling?: '4:2:0' | '4:4:4';
  /** PNG zlib level 0–9. Default 6. */
  compressionLevel?: number;
  /** WebP lossless (VP8L written by sandcodec: the core's libwebp lossless encoder crashes). Default false. */
  lossless?: boolean;
  /** '#rgb', '#rrggbb' or '#rrggbbaa'. Default opaque black. */
  background?: string;
  /** Keep EXIF (orientation reset) and tag the output sRGB. Default false: metadata stripped. */
  keepMetadata?: boolean;
}

export interface ImageJobOptions {
  /** Largest stored width × height decoded, and largest output. Default DEFAULT_MAX_PIXELS (24 MP). */
  maxPixels?: number;
  /**
   * JPEG shrink-on-load. `true` (default): only where the result stays above 45 dB from a full
   * decode; `'fast'`: the smallest scale still as large as the target (sharp's default: much
   * faster, down to 27 dB from a full decode on detailed photos); `false`: never.
   */
  shrinkOnLoad?: boolean | 'fast';
}

export const TARGET_KEYS = [
  'width',
  'height',
  'fit',
  'position',
  'withoutEnlargement',
  'kernel',
  'linearLight',
  'format',
  'quality',
  'progressive',
  'chromaSubsampling',
  'compressionLevel',
  'lossless',
  'background',
  'keepMetadata',
];

function intOption(name: string, v: unknown, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new OptionsError(name, `must be an integer from ${min} to ${max}, got ${String(v)}`);
  return v;
}

function boolOption(name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new OptionsError(name, `must be a boolean, got ${String(v)}`);
  return v;
}

export function parseBackground(name: string, v: unknown): [number, number, number, number] {
  if (v === undefined) return [0, 0, 0, 255];
  const m = typeof v === 'string' ? /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.exec(v) : null;
  if (!m) throw new OptionsError(name, `must be '#rgb', '#rrggbb' or '#rrggbbaa', got ${String(v)}`);
  let hex = m[1]!;
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join('');
  if (hex.length === 6) hex += 'ff';
  return [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number, number];
}

/** Validates one target; `prefix` names it in messages (`targets[1].width`). */
export function resolveTarget(t: unknown, prefix: string, output: string): ImageTargetSpec {
  if (typeof t !== 'object' || t === null) throw new OptionsError(prefix || 'options', 'must be an object');
  const o = t as ImageTarget;
  const name = (k: string) => (prefix ? `${prefix}.${k}` : k);
  for (const key of Object.keys(o)) {
    if (!TARGET_KEYS.includes(key)) throw new OptionsError(name(key), `is not an image option (known: ${TARGET_KEYS.join(', ')})`);
  }
  const MAX_SIDE = 65535;
  const width = o.width === undefined ? undefined : intOption(name('width'), o.width, 1, MAX_SIDE, 0);
  const height = o.height === undefined ? undefined : intOption(name('height'), o.height, 1, MAX_SIDE, 0);
  if (width === undefined && height === undefined) throw new OptionsError(name('width'), 'width or height (or both) is required');
  const fit = o.fit ?? 'cover';
  if (!FIT_MODES.includes(fit)) throw new OptionsError(name('fit'), `must be one of ${FIT_MODES.join(', ')}, got ${String(fit)}`);
  const kernel = o.kernel ?? DEFAULT_RESIZE_KERNEL;
  if (!RESIZE_KERNELS.includes(kernel)) throw new OptionsError(name('kernel'), `must be one of ${RESIZE_KERNELS.join(', ')}, got ${String(kernel)}`);
  const format = o.format ?? 'jpeg';
  if (!OUTPUT_FORMATS.includes(format)) throw new OptionsError(name('format'), `must be one of ${OUTPUT_FORMATS.join(', ')}, got ${String(format)}`);
  const chroma = o.chromaSubsampling ?? '4:2:0';
  if (chroma !== '4:2:0' && chroma !== '4:4:4') throw new OptionsError(name('chromaSubsampling'), `must be '4:2:0' or '4:4:4', got ${String(chroma)}`);
  let position: Position;
  try {
    position = normalizePosition(o.position);
  } catch (err) {
    throw new OptionsError(name('position'), (err as Error).message.replace(/^position: /, ''));
  }
  return {
    output,
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
    fit,
    position,
    withoutEnlargement: boolOption(name('withoutEnlargement'), o.withoutEnlargement, false),
    kernel,
    linearLight: boolOption(name('linearLight'), o.linearLight, false),
    format,
    quality: intOption(name('quality'), o.quality, 1, 100, 80),
    progressive: boolOption(name('progressive'), o.progressive, false),
    chroma,
    compressionLevel: intOption(name('compressionLevel'), o.compressionLevel, 0, 9, 6),
    lossless: boolOption(name('lossless'), o.lossless, false),
    background: parseBackground(name('background'), o.background),
    keepMetadata: boolOption(name('keepMetadata'), o.keepMetadata, false),
  };
}

export function resolveImageJob(o: ImageJobOptions): { maxPixels: number; shrinkOnLoad: boolean | 'fast' } {
  const shrink = o.shrinkOnLoad;
  if (shrink !== undefined && shrink !== true && shrink !== false && shrink !== 'fast')
    throw new OptionsError('shrinkOnLoad', `must be true, false or 'fast', got ${JSON.stringify(shrink) ?? String(shrink)}`);
  return {
    maxPixels: intOption('maxPixels', o.maxPixels, 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_PIXELS),
    shrinkOnLoad: shrink ?? true,
  };
}

export const EXTENSIONS: Record<OutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp' };

/** Output format from a file name's extension (`.jpg .jpeg .png .webp`). */
export function formatFromPath(path: string): OutputFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === 'jpg' || ext === 'jpeg') return 'jpeg';
  if (ext === 'png' || ext === 'webp') return ext;
  return undefined;
}

export function imagePlan(
  phase: string,
  input: ResolvedInput,
  job: { maxPixels: number; shrinkOnLoad: boolean | 'fast' },
  targets: ImageTargetSpec[],
  sinks: OutputSink[],
  limits: JobLimits,
): ImagePlan {
  const image: ImageSpec = { ...job, targets };
  return {
    op: 'image',
    phase,
    inputs: [{ name: `in${input.ext ? `.${input.ext}` : ''}`, source: input.source }],
    outputs: targets.map((t, i) => ({ name: t.output, sink: sinks[i]! })),
    limits,
    image,
  };
}
