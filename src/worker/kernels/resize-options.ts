/**
 * Up-front checks for resize inputs and options. Every failure names the option at fault
 * (`OptionsError`) or the limit exceeded (`LimitError`) before any memory is touched.
 */
import { LimitError, OptionsError } from '../../errors.js';
import { DEFAULT_MAX_PIXELS } from '../../model/image-spec.js';
import { DEFAULT_RESIZE_KERNEL, RESIZE_KERNELS, type ResizeKernel, type RgbaImage } from './resize-filters.js';
import type { ResizeVariant } from './resize-wasm.js';

/** The image calls' default (model/image-spec.ts): one bound on source and output for both. */
export { DEFAULT_MAX_PIXELS };

export interface ResizeOptions {
  /** Output width; omitted → derived from `height` keeping the aspect ratio. */
  width?: number;
  /** Output height; omitted → derived from `width` keeping the aspect ratio. */
  height?: number;
  /** One of RESIZE_KERNELS; default 'lanczos3'. */
  kernel?: ResizeKernel;
  /** Filter in linear light (sRGB decoded first, re-encoded after). Default false. */
  linearLight?: boolean;
  /** Largest output width × height accepted. Default DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
  /**
   * Which pass runs first. 'auto' (default) estimates the cheaper order; forcing one is for tests
   * and benchmarks. Both orders give the same result up to float rounding.
   */
  passOrder?: PassOrder;
  /** Return the pixels in a SharedArrayBuffer (to hand to another thread or job without a copy). Default false. */
  shared?: boolean;
}

export const PASS_ORDERS = Object.freeze(['auto', 'horizontal-first', 'vertical-first'] as const);
export type PassOrder = (typeof PASS_ORDERS)[number];

export interface ResizerOptions {
  /** Which kernel build to run; default 'auto' (SIMD when the runtime has it). */
  variant?: ResizeVariant | 'auto';
  /** Largest source width × height accepted. Default DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
}

export interface ResizePlan {
  readonly width: number;
  readonly height: number;
  readonly kernel: ResizeKernel;
  readonly linearLight: boolean;
  readonly passOrder: PassOrder;
  readonly shared: boolean;
}

const VARIANTS = Object.freeze(['auto', 'simd', 'scalar'] as const);

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function checkMaxPixels(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_PIXELS;
  if (!isPositiveInteger(value)) throw new OptionsError('maxPixels', `must be a positive integer, got ${String(value)}`);
  return value;
}

function checkPixels(width: number, height: number, max: number, what: string): void {
  const actual = width * height;
  if (actual > max) {
    throw new LimitError('maxPixels', `${what} is ${width}×${height} = ${actual} pixels, over maxPixels ${max}`, { max, actual });
  }
}

/** A source's size alone: the Resizer then holds width × height of pixels for the caller to write. */
export interface SourceSize {
  width: number;
  height: number;
}

export function checkSourceSize(src: unknown, options: ResizerOptions): SourceSize {
  if (typeof src !== 'object' || src === null) throw new OptionsError('src', 'must be an object { data, width, height }');
  const { width, height } = src as Partial<RgbaImage>;
  if (!isPositiveInteger(width)) throw new OptionsError('src.width', `must be a positive integer, got ${String(width)}`);
  if (!isPositiveInteger(height)) throw new OptionsError('src.height', `must be a positive integer, got ${String(height)}`);
  checkPixels(width, height, checkMaxPixels(options.maxPixels), 'the source');
  return { width, height };
}

export function checkSource(src: unknown, options: ResizerOptions): RgbaImage {
  const { width, height } = checkSourceSize(src, options);
  const bytes: unknown = (src as Partial<RgbaImage>).data;
  if (!(bytes instanceof Uint8Array || bytes instanceof Uint8ClampedArray)) {
    throw new OptionsError('src.data', 'must be a Uint8Array (or Uint8ClampedArray) of RGBA pixels');
  }
  if (bytes.length !== width * height * 4) {
    throw new OptionsError('src.data', `must hold width × height × 4 = ${width * height * 4} bytes, got ${bytes.length}`);
  }
  return { data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), width, height };
}

export function checkVariant(value: unknown): ResizeVariant | 'auto' {
  if (value === undefined) return 'auto';
  if (!VARIANTS.includes(value as ResizeVariant)) {
    throw new OptionsError('variant', `must be one of ${VARIANTS.join(', ')}, got ${String(value)}`);
  }
  return value as ResizeVariant | 'auto';
}

/** Validates `options` against a source of srcWidth × srcHeight and fills in the defaults. */
export function planResize(srcWidth: number, srcHeight: number, options: ResizeOptions): ResizePlan {
  if (typeof options !== 'object' || options === null) throw new OptionsError('options', 'must be an object');
  let { width, height } = options;
  if (width !== undefined && !isPositiveInteger(width)) throw new OptionsError('width', `must be a positive integer, got ${String(width)}`);
  if (height !== undefined && !isPositiveInteger(height)) throw new OptionsError('height', `must be a positive integer, got ${String(height)}`);
  if (width === undefined && height === undefined) throw new OptionsError('width', 'width or height (or both) is required');
  width ??= Math.max(1, Math.round((srcWidth * height!) / srcHeight));
  height ??= Math.max(1, Math.round((srcHeight * width) / srcWidth));
  const kernel = options.kernel ?? DEFAULT_RESIZE_KERNEL;
  if (!RESIZE_KERNELS.includes(kernel)) {
    throw new OptionsError('kernel', `must be one of ${RESIZE_KERNELS.join(', ')}, got ${String(kernel)}`);
  }
  const linearLight = options.linearLight ?? false;
  if (typeof linearLight !== 'boolean') throw new OptionsError('linearLight', `must be a boolean, got ${String(linearLight)}`);
  const passOrder = options.passOrder ?? 'auto';
  if (!PASS_ORDERS.includes(passOrder)) {
    throw new OptionsError('passOrder', `must be one of ${PASS_ORDERS.join(', ')}, got ${String(passOrder)}`);
  }
  checkPixels(width, height, checkMaxPixels(options.maxPixels), 'the output');
  const shared = options.shared ?? false;
  if (typeof shared !== 'boolean') throw new OptionsError('shared', `must be a boolean, got ${String(shared)}`);
  return { width, height, kernel, linearLight, passOrder, shared };
}
