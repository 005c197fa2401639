/**
 * 8-bit pixel formats FFmpeg's decoders output natively, widened to RGBA8 here. Asking the decoder
 * for its own format spares its RGBA conversion: in the wasm heap, whose high-water mark stays,
 * that is a converted frame and a raw packet of 4 bytes per pixel each instead of the native size.
 */
export type NativeFormat = 'rgb24' | 'gray' | 'ya8';

/** Bytes per pixel of each native format. */
export const NATIVE_BYTES: Readonly<Record<NativeFormat, number>> = Object.freeze({ rgb24: 3, gray: 1, ya8: 2 });

/** Widens `pixels` pixels of `raw` into `out` (RGBA8), alpha 255 where the format has none. */
export function expandToRgba(raw: Uint8Array, format: NativeFormat, pixels: number, out: Uint8Array): void {
  const words = new Int32Array(out.buffer, out.byteOffset, pixels);
  // One little-endian word per pixel: R, G, B, A in memory order.
  const OPAQUE = 0xff000000 | 0;
  if (format === 'rgb24') {
    for (let i = 0, s = 0; i < pixels; i++, s += 3) words[i] = OPAQUE | (raw[s + 2]! << 16) | (raw[s + 1]! << 8) | raw[s]!;
  } else if (format === 'gray') {
    for (let i = 0; i < pixels; i++) {
      const v = raw[i]!;
      words[i] = OPAQUE | (v << 16) | (v << 8) | v;
    }
  } else {
    for (let i = 0, s = 0; i < pixels; i++, s += 2) {
      const v = raw[s]!;
      words[i] = (raw[s + 1]! << 24) | (v << 16) | (v << 8) | v;
    }
  }
}
