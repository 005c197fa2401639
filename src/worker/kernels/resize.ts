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
 *   heapBase: decode LUT (256 × f32) | encode LUT (65536 × u8) | the source: RGBA8, or a JPEG's
 *             planes and two chroma rows (then RGBA8 after them if the pixels are asked for)
 *   then per call: descriptor | ring (widest vertical window × srcW or dstW × f32x4)
 *                  | scratch rows (srcW, dstW, srcW) | window row pointers | x bounds, x weights
 *                  | y bounds, y weights | two RGBA8 source rows (planes only) | destination RGBA8
 */
import { InternalError, LimitError } from '../../errors.js';
import { type AxisWeights, axisWeights, type RgbaImage } from './resize-filters.js';
import { checkSource, checkSourceSize, checkVariant, planResize, type ResizeOptions, type ResizerOptions, type SourceSize } from './resize-options.js';
import { decodeLut, ENCODE_LUT_SIZE, encodeLut } from './resize-srgb.js';
import { instantiateResize, type ResizeExports, type ResizeVariant, releaseResize, resolveVariant } from './resize-wasm.js';
import { LAYOUT_CODE, yccBytes, yccScratch, yccToRgba } from './ycc.js';
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
  ycc: 20,
  yccLayout: 21,
  srcH: 22,
  yccScratch: 23,
  yccRows: 24,
  bytes: 25 * 4,
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

/** Destination rows per call into the kernel (see `resize`). */
const BAND_ROWS = 16;

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
  /** The RGBA8 source, once there is one. */
  #src: number | undefined;
  /** Where the decoder writes a JPEG's planes (`yccPlanes`). */
  #planesAt = 0;
  /** The planes the source is, until RGBA8 is asked for (`fromYcc`, `source`). */
  #ycc: YccLayout | undefined;
  /** First byte after what the source holds: where per-call buffers start. */
  #free: number;
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
    this.#free = align16(this.#encodeLut + ENCODE_LUT_SIZE);
    this.#reserve(this.#free);
    const buf = this.#wasm.memory.buffer;
    new Float32Array(buf, this.#decodeLut, 256).set(decodeLut());
    new Uint8Array(buf, this.#encodeLut, ENCODE_LUT_SIZE).set(encodeLut());
    if ('data' in image) this.source.set(image.data);
  }

  /**
   * The source pixels (RGBA8) in kernel memory: a view, valid until the next `resize` grows it.
   * A source given as planes is converted into it now (and stays converted).
   */
  get source(): Uint8Array {
    // Placed (and memory grown) before the buffer is read: growing detaches the old one.
    const at = this.#rgbaSource();
    return new Uint8Array(this.#wasm.memory.buffer, at, this.width * this.height * 4);
  }

  /**
   * Converts a source given as planes to RGBA8 now, once, rather than a row at a time in each
   * `resize`: cheaper when several sizes are made from it.
   */
  convertSource(): void {
    this.#rgbaSource();
  }

  #rgbaSource(): number {
    if (this.#src === undefined) {
      this.#src = this.#free;
      this.#free = align16(this.#src + this.width * this.height * 4);
      this.#reserve(this.#free);
      if (this.#ycc) yccToRgba(this.#wasm, this.#planesAt, this.#ycc, this.width, this.height, this.#src);
      this.#ycc = undefined;
    }
    return this.#src;
  }

  /**
   * Room for a decoded JPEG's planes, which `fromYcc` makes the source: each `resize` converts
   * them a row at a time as it reads them, so no RGBA copy of the picture exists anywhere (a fresh
   * process pays for every new page it touches, and the RGBA of a 12 MP photo is 48 MB of them).
   * A view, valid until `resize`; asking again (another layout) gives the same place.
   */
  yccPlanes(layout: YccLayout): Uint8Array {
    if (this.#src !== undefined || this.#ycc) throw new InternalError('yccPlanes on a Resizer that already has its source');
    this.#planesAt = this.#free;
    this.#reserve(this.#planesAt + yccBytes(layout, this.width, this.height));
    return new Uint8Array(this.#wasm.memory.buffer, this.#planesAt, planesSize(layout, this.width, this.height));
  }

  /** Makes the planes written through `yccPlanes`, in `layout`, the source. */
  fromYcc(layout: YccLayout): void {
    if (this.#src !== undefined || this.#ycc) throw new InternalError('fromYcc on a Resizer that already has its source');
    this.#ycc = layout;
    this.#free = align16(this.#planesAt + yccBytes(layout, this.width, this.height));
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
    const ycc = this.#ycc;
    const src = ycc ? 0 : this.#rgbaSource();
    let at = this.#free;
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
    const yccRows = ycc ? take(this.width * 8) : 0;
    const dst = take(width * height * 4);
    this.#reserve(at);

    const buf = this.#wasm.memory.buffer;
    writeWeights(buf, xb, xWeights, xw);
    writeWeights(buf, yb, yWeights, yw);
    const d = new Uint32Array(buf, desc, DESC.bytes / 4);
    d[DESC.src] = src;
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
    d[DESC.ycc] = ycc ? this.#planesAt : 0;
    d[DESC.yccLayout] = ycc ? LAYOUT_CODE[ycc] : 0;
    d[DESC.srcH] = this.height;
    d[DESC.yccScratch] = ycc ? yccScratch(this.#planesAt, ycc, this.width, this.height) : 0;
    d[DESC.yccRows] = yccRows;
    // In bands: V8 first runs wasm in its baseline tier and swaps in optimized code between calls,
    // never inside one, so a fresh process's first resize would otherwise run its whole loop
    // unoptimized (about twice as slow).
    for (let y = 0; y < height; y += BAND_ROWS) this.#wasm.run(desc, y, Math.min(height, y + BAND_ROWS));
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
