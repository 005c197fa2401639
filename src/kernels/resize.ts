/**
 * RGBA8 resize on the wasm kernel (assembly/resize): separable convolution with precomputed
 * weights, premultiplied alpha, optional linear-light filtering.
 *
 *   const out = resizeRgba({ data, width: 3000, height: 3000 }, { width: 640, kernel: 'lanczos3' });
 *
 *   // Several sizes from one decoded image: the source is copied into the kernel once.
 *   const r = new Resizer(cover);
 *   const [large, medium, small] = [640, 300, 64].map((w) => r.resize({ width: w }));
 *
 * Kernel memory layout (byte offsets, each 16-aligned), owned here:
 *   heapBase: decode LUT (256 × f32) | encode LUT (65536 × u8) | source RGBA8
 *   then per call: row (srcW × f32x4) | intermediate (dstW × srcH × f32x4)
 *                  | x bounds, x weights | y bounds, y weights | destination RGBA8
 */
import { LimitError } from '../errors.js';
import { axisWeights, type AxisWeights, type RgbaImage } from './resize-filters.js';
import { checkSource, checkVariant, planResize, type ResizeOptions, type ResizerOptions } from './resize-options.js';
import { decodeLut, encodeLut, ENCODE_LUT_SIZE } from './resize-srgb.js';
import { instantiateResize, resolveVariant, type ResizeExports, type ResizeVariant } from './resize-wasm.js';

export { RESIZE_KERNELS, DEFAULT_RESIZE_KERNEL, type ResizeKernel, type RgbaImage } from './resize-filters.js';
export { DEFAULT_MAX_PIXELS, type ResizeOptions, type ResizerOptions } from './resize-options.js';
export { simdSupported, type ResizeVariant } from './resize-wasm.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB; V8 allows that many pages. */
const MAX_MEMORY = 65536 * PAGE;

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export class Resizer {
  readonly variant: ResizeVariant;
  readonly width: number;
  readonly height: number;
  readonly #wasm: ResizeExports;
  readonly #decodeLut: number;
  readonly #encodeLut: number;
  readonly #src: number;
  /** First byte after the source: where per-call buffers start. */
  readonly #scratch: number;

  constructor(src: RgbaImage, options: ResizerOptions = {}) {
    const image = checkSource(src, options);
    this.variant = resolveVariant(checkVariant(options.variant));
    this.width = image.width;
    this.height = image.height;
    this.#wasm = instantiateResize(this.variant);
    this.#decodeLut = align16(this.#wasm.heapBase());
    this.#encodeLut = this.#decodeLut + 256 * 4;
    this.#src = align16(this.#encodeLut + ENCODE_LUT_SIZE);
    this.#scratch = align16(this.#src + image.data.length);
    this.#reserve(this.#scratch);
    const buf = this.#wasm.memory.buffer;
    new Float32Array(buf, this.#decodeLut, 256).set(decodeLut());
    new Uint8Array(buf, this.#encodeLut, ENCODE_LUT_SIZE).set(encodeLut());
    new Uint8Array(buf, this.#src, image.data.length).set(image.data);
  }

  /** Resizes the source given to the constructor; the returned pixels are a fresh copy. */
  resize(options: ResizeOptions): RgbaImage {
    const plan = planResize(this.width, this.height, options);
    const { width, height } = plan;
    const xw = axisWeights(this.width, width, plan.kernel);
    const yw = axisWeights(this.height, height, plan.kernel);

    let at = this.#scratch;
    const take = (bytes: number): number => {
      const p = at;
      at = align16(at + bytes);
      return p;
    };
    const row = take(this.width * 16);
    const inter = take(width * this.height * 16);
    const xb = take(width * 8);
    const xWeights = take(width * xw.taps * 4);
    const yb = take(height * 8);
    const yWeights = take(height * yw.taps * 4);
    const dst = take(width * height * 4);
    this.#reserve(at);

    const buf = this.#wasm.memory.buffer;
    writeWeights(buf, xb, xWeights, xw);
    writeWeights(buf, yb, yWeights, yw);
    this.#wasm.horizontal(this.#src, this.width, 0, this.height, row, inter, width, xb, xWeights, xw.taps,
      plan.linearLight ? this.#decodeLut : 0);
    this.#wasm.vertical(inter, width, 0, height, dst, yb, yWeights, yw.taps, plan.linearLight ? this.#encodeLut : 0);
    return { data: new Uint8Array(this.#wasm.memory.buffer, dst, width * height * 4).slice(), width, height };
  }

  /** Grows kernel memory to at least `end` bytes. Memory is kept for the next call. */
  #reserve(end: number): void {
    if (end > MAX_MEMORY) {
      throw new LimitError('maxHeapBytes', `resize needs ${end} bytes of kernel memory; wasm32 stops at ${MAX_MEMORY}`, {
        max: MAX_MEMORY,
        actual: end,
      });
    }
    const { memory } = this.#wasm;
    const have = memory.buffer.byteLength;
    if (end <= have) return;
    try {
      memory.grow(Math.ceil((end - have) / PAGE));
    } catch (cause) {
      throw new LimitError('maxHeapBytes', `resize could not grow kernel memory to ${end} bytes: ${String(cause)}`, {
        actual: end,
      });
    }
  }
}

/** Bounds as (start, count) i32 pairs, weights as f32 rows of `taps`. */
function writeWeights(buf: ArrayBuffer, boundsAt: number, weightsAt: number, w: AxisWeights): void {
  const bounds = new Int32Array(buf, boundsAt, w.outSize * 2);
  for (let i = 0; i < w.outSize; i++) {
    bounds[2 * i] = w.start[i]!;
    bounds[2 * i + 1] = w.count[i]!;
  }
  new Float32Array(buf, weightsAt, w.weights.length).set(w.weights);
}

/** One-shot resize. For several sizes of one image, keep a `Resizer`. */
export function resizeRgba(src: RgbaImage, options: ResizeOptions & ResizerOptions): RgbaImage {
  return new Resizer(src, options).resize(options);
}
