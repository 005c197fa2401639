/**
 * The sRGB transfer curve (IEC 61966-2-1), exact, plus the lookup tables the wasm kernel uses
 * for linear-light resampling.
 */

/** sRGB-encoded 0..1 → linear-light 0..1. */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Linear-light 0..1 → sRGB-encoded 0..1. */
export function linearToSrgb(l: number): number {
  return l <= 0.0031308 ? l * 12.92 : 1.055 * l ** (1 / 2.4) - 0.055;
}

/** Entries in the encode table. 65536 keeps the steepest part of the curve (slope 12.92 near
 * black) to a twentieth of an 8-bit step per entry. */
export const ENCODE_LUT_SIZE = 65536;

let decode: Float32Array | undefined;
let encode: Uint8Array | undefined;

/** u8 sRGB → linear light on the kernel's 0..255 scale. Built once; callers copy, not modify. */
export function decodeLut(): Readonly<Float32Array> {
  if (!decode) {
    decode = new Float32Array(256);
    for (let i = 0; i < 256; i++) decode[i] = 255 * srgbToLinear(i / 255);
  }
  return decode;
}

/** Linear light quantised to ENCODE_LUT_SIZE steps → rounded u8 sRGB. Built once, like decodeLut. */
export function encodeLut(): Readonly<Uint8Array> {
  if (!encode) {
    encode = new Uint8Array(ENCODE_LUT_SIZE);
    const last = ENCODE_LUT_SIZE - 1;
    for (let i = 0; i <= last; i++) encode[i] = Math.round(255 * linearToSrgb(i / last));
  }
  return encode;
}
