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
 *   then per call: descriptor | ring (widest vertical window × srcW or dstW × f32x4)
 *                  | scratch rows (srcW, dstW, srcW) | window row pointers | x bounds, x weights
 *                  | y bounds, y weights | destination RGBA8
 */
import { InternalError, LimitError } from '../../errors.js';
import { type AxisWeights, axisWeights, type RgbaImage } from './resize-filters.js';
import { checkSource, checkSourceSize, checkVariant, planResize, type ResizeOptions, type ResizerOptions, type SourceSize } from './resize-options.js';
import { decodeLut, ENCODE_LUT_SIZE, encodeLut } from './resize-srgb.js';
import { instantiateResize, type ResizeExports, type ResizeVariant, releaseResize, resolveVariant } from './resize-wasm.js';
import { yccBytes, yccToRgba } from './ycc.js';
import { planesSize, type YccLayout } from './ycc-common.js';

export { DEFAULT_RESIZE_KERNEL, RESIZE_KERNELS, type ResizeKernel, type RgbaImage } from './resize-filters.js';
export { DEFAULT_MAX_PIXELS, PASS_ORDERS, type PassOrder, type ResizeOptions, type ResizerOptions, type SourceSize } from './resize-options.js';
export { type ResizeVariant, simdSupported } from './resize-wasm.js';

const PAGE = 65536;
/** wasm32 addresses 4 GiB; V8 allows that many pages. */
const MAX_MEMORY = 65536 * PAGE;

/** Descriptor field indices (u32), mirroring the D_* offsets in assembly/resize/index.ts. */
const DESC = Object.freeze({
  src: 0,
  srcW: 1,
  dst: 2,
  dstW: 3,
  ring: 4,
  ringRows: 5,
  rowA: 6,
  rowB: 7,
  ptrs: 8,
  xb: 9,
  xw: 10,
  xTaps: 11,
  yb: 12,
  yw: 13,
  yTaps: 14,
  toLinear: 15,
  toSrgb: 16,
  hFirst: 17,
  filled: 18,
  rowC: 19,
  bytes: 20 * 4,
});

/**
 * A ring larger than this falls out of a core's L2, and the vertical pass then re-reads every
 * window row from further out for each output row. Bench cases (3000² → 640/300/64, 4000×3000 →
 * 1024) ran 25–300% slower vertical-first with rings of 1.4–14 MB than horizontal-first with
 * rings under 0.5 MB doing the same number of multiply-adds.
 */
const RING_CACHE_BYTES = 512 * 1024;

/**
 * Pass order by estimated work: pixel multiply-adds of each pass, the vertical pass charged
 * extra when its ring (srcW wide if it goes first, dstW wide if second) does not fit in cache.
 * Ties go horizontal-first.
 */
function horizontalFirst(srcW: number, srcH: number, xw: AxisWeights, yw: AxisWeights): boolean {
  const dstW = xw.outSize;
  const dstH = yw.outSize;
  const tapsX = meanTaps(xw);
  const tapsY = meanTaps(yw);
  const ringPenalty = (ringWidth: number): number => (yw.taps * ringWidth * 16 > RING_CACHE_BYTES ? 1.5 : 1);
  const vFirst = srcW * dstH * tapsY * ringPenalty(srcW) + dstW * dstH * tapsX;
  const hFirst = srcH * dstW * tapsX + dstW * dstH * tapsY * ringPenalty(dstW);
  return hFirst <= vFirst;
}

function meanTaps(w: AxisWeights): number {
  let sum = 0;
  for (let i = 0; i < w.outSize; i++) sum += w.count[i]!;
  return sum / w.outSize;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * One source image held in a kernel instance, resized to as many sizes as needed. Each call
 * validates its options before touching memory and returns a fresh RGBA8 buffer. Kernel memory
 * grows to the largest call's needs and is kept until the Resizer is dropped.
 */
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
  #released = false;

  /**
   * Copies `src` into kernel memory. Given only a size (`{ width, height }`), the source pixels are
   * left for the caller to write through `source`: a decoder can then write straight into kernel
   * memory, with no RGBA copy of the picture on the host.
   */
  constructor(src: RgbaImage | SourceSize, options: ResizerOptions = {}) {
    const withData = typeof src === 'object' && src !== null && 'data' in src;
    const image = withData ? checkSource(src, options) : checkSourceSize(src, options);
    this.variant = resolveVariant(checkVariant(options.variant));
    this.width = image.width;
    this.height = image.height;
    this.#wasm = instantiateResize(this.variant);
    this.#decodeLut = align16(this.#wasm.heapBase());
    this.#encodeLut = this.#decodeLut + 256 * 4;
    this.#src = align16(this.#encodeLut + ENCODE_LUT_SIZE);
    this.#scratch = align16(this.#src + this.width * this.height * 4);
    this.#reserve(this.#scratch);
    const buf = this.#wasm.memory.buffer;
    new Float32Array(buf, this.#decodeLut, 256).set(decodeLut());
    new Uint8Array(buf, this.#encodeLut, ENCODE_LUT_SIZE).set(encodeLut());
    if ('data' in image) this.source.set(image.data);
  }

  /** The source pixels (RGBA8) in kernel memory: a view, valid until the next `resize` grows it. */
  get source(): Uint8Array {
    return new Uint8Array(this.#wasm.memory.buffer, this.#src, this.width * this.height * 4);
  }

  /**
   * Room after the source for a decoded JPEG's planes, which `fromYcc` then converts into the
   * source: no RGBA copy of the picture exists anywhere else. A view, valid until `resize`.
   */
  yccPlanes(layout: YccLayout): Uint8Array {
    this.#reserve(this.#scratch + yccBytes(layout, this.width, this.height));
    return new Uint8Array(this.#wasm.memory.buffer, this.#scratch, planesSize(layout, this.width, this.height));
  }

  /** Converts the planes written through `yccPlanes` into the source. */
  fromYcc(layout: YccLayout): void {
    yccToRgba(this.#wasm, this.#scratch, layout, this.width, this.height, this.#src);
  }

  /**
   * Gives the kernel instance back for the next Resizer on this thread (its memory zeroed, see
   * `releaseResize`): this Resizer may not be used after.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    releaseResize(this.variant, this.#wasm);
  }

  /** Resizes the source given to the constructor; the returned pixels are a fresh copy. */
  resize(options: ResizeOptions): RgbaImage {
    if (this.#released) throw new InternalError('resize after release');
    const plan = planResize(this.width, this.height, options);
    const { width, height } = plan;
    const xw = axisWeights(this.width, width, plan.kernel);
    const yw = axisWeights(this.height, height, plan.kernel);

    const hFirst = plan.passOrder === 'auto' ? horizontalFirst(this.width, this.height, xw, yw) : plan.passOrder === 'horizontal-first';
    // The ring holds the widest vertical window, in the width of the first pass's output.
    const ringRows = yw.taps;
    let at = this.#scratch;
    const take = (bytes: number): number => {
      const p = at;
      at = align16(at + bytes);
      return p;
    };
    const desc = take(DESC.bytes);
    const ring = take(ringRows * (hFirst ? width : this.width) * 16);
    const rowA = take(this.width * 16);
    const rowB = take(width * 16);
    const rowC = take(this.width * 16);
    const ptrs = take(ringRows * 4);
    const xb = take(width * 8);
    const xWeights = take(width * xw.taps * 4);
    const yb = take(height * 8);
    const yWeights = take(height * yw.taps * 4);
    const dst = take(width * height * 4);
    this.#reserve(at);

    const buf = this.#wasm.memory.buffer;
    writeWeights(buf, xb, xWeights, xw);
    writeWeights(buf, yb, yWeights, yw);
    const d = new Uint32Array(buf, desc, DESC.bytes / 4);
    d[DESC.src] = this.#src;
    d[DESC.srcW] = this.width;
    d[DESC.dst] = dst;
    d[DESC.dstW] = width;
    d[DESC.ring] = ring;
    d[DESC.ringRows] = ringRows;
    d[DESC.rowA] = rowA;
    d[DESC.rowB] = rowB;
    d[DESC.rowC] = rowC;
    d[DESC.ptrs] = ptrs;
    d[DESC.xb] = xb;
    d[DESC.xw] = xWeights;
    d[DESC.xTaps] = xw.taps;
    d[DESC.yb] = yb;
    d[DESC.yw] = yWeights;
    d[DESC.yTaps] = yw.taps;
    d[DESC.toLinear] = plan.linearLight ? this.#decodeLut : 0;
    d[DESC.toSrgb] = plan.linearLight ? this.#encodeLut : 0;
    d[DESC.hFirst] = hFirst ? 1 : 0;
    d[DESC.filled] = 0;
    this.#wasm.run(desc, 0, height);
    const bytes = width * height * 4;
    const data = new Uint8Array(plan.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    data.set(new Uint8Array(this.#wasm.memory.buffer, dst, bytes));
    return { data, width, height };
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
