/**
 * JPEG YCbCr planes to RGBA8 on the resize kernel's module (assembly/resize/ycc.ts), byte for byte
 * what libjpeg makes of them (kernels/ycc-reference.ts is its oracle). Inside a `Resizer` the
 * planes become its source in place (`Resizer.yccPlanes`, `Resizer.fromYcc`); elsewhere
 * `YccPlanes` holds them in an instance of its own:
 *
 *   const ycc = new YccPlanes('420', 4000, 3000);
 *   await decodeInto(ycc.planes);          // the decoder writes the planes into kernel memory
 *   ycc.toRgba(target);                    // converted in the kernel, then copied to `target`
 */
import type { RgbaImage } from './resize-filters.js';
import { instantiateResize, type ResizeExports, type ResizeVariant, resolveVariant } from './resize-wasm.js';
import { planesSize, type YccLayout } from './ycc-common.js';

/** The kernel's layout codes (assembly/resize/ycc.ts). */
export const LAYOUT_CODE: Readonly<Record<YccLayout, number>> = Object.freeze({ gray: 0, '444': 1, '422': 2, '420': 3 });

const PAGE = 65536;
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/** Rows per call into the kernel. */
const BAND_ROWS = 64;

/** Kernel memory a conversion needs after `planes`: the planes, then two chroma rows. */
export function yccBytes(layout: YccLayout, width: number, height: number): number {
  return align16(planesSize(layout, width, height)) + 2 * (width + 16);
}

/** Where the two chroma rows after the planes at `planes` start. */
export function yccScratch(planes: number, layout: YccLayout, width: number, height: number): number {
  return planes + align16(planesSize(layout, width, height));
}

/** Converts the planes at `planes` (laid out as `yccBytes` says) into RGBA8 at `out`. */
export function yccToRgba(wasm: ResizeExports, planes: number, layout: YccLayout, width: number, height: number, out: number): void {
  const scratch = yccScratch(planes, layout, width, height);
  // In bands, for the reason Resizer.resize gives: V8 swaps in optimized code between calls only.
  for (let y = 0; y < height; y += BAND_ROWS) wasm.yccToRgba(planes, LAYOUT_CODE[layout], width, height, out, scratch, y, Math.min(height, y + BAND_ROWS));
}

/** One picture's planes in a kernel instance of its own; dropped with this object. */
export class YccPlanes {
  readonly variant: ResizeVariant;
  readonly #wasm: ResizeExports;
  readonly #planes: number;
  readonly #out: number;

  /** Sizes are the caller's to bound (the image pipeline checks them against maxPixels first). */
  constructor(
    readonly layout: YccLayout,
    readonly width: number,
    readonly height: number,
    variant: ResizeVariant | 'auto' = 'auto',
  ) {
    this.variant = resolveVariant(variant);
    this.#wasm = instantiateResize(this.variant);
    this.#planes = align16(this.#wasm.heapBase());
    this.#out = align16(this.#planes + yccBytes(layout, width, height));
    const needed = this.#out + width * height * 4;
    const memory = this.#wasm.memory;
    if (needed > memory.buffer.byteLength) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
  }

  /** Where the planes go: a view of kernel memory, valid for this object's life (it never grows). */
  get planes(): Uint8Array {
    return new Uint8Array(this.#wasm.memory.buffer, this.#planes, planesSize(this.layout, this.width, this.height));
  }

  /** Converts the planes, into `out` (width × height × 4 bytes) when given. */
  toRgba(out: Uint8Array = new Uint8Array(this.width * this.height * 4)): RgbaImage {
    const { width, height } = this;
    yccToRgba(this.#wasm, this.#planes, this.layout, width, height, this.#out);
    out.set(new Uint8Array(this.#wasm.memory.buffer, this.#out, width * height * 4));
    return { data: out, width, height };
  }
}
