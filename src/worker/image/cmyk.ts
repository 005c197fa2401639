/**
 * CMYK and YCCK JPEGs. FFmpeg's mjpeg decoder turns 8-bit four-component pictures into RGB by
 * multiplying each ink by K, so the inks themselves never reach us and no profile could be
 * applied. Marked as 12-bit in the SOF of the decoder's view of the file (one byte patched, the
 * file itself never copied), the same scan takes the decoder's other path
 * (YUVA444P16, no conversion): the Huffman data does not depend on the precision, the DC
 * predictor starts at 2048 instead of 128 and the 12-bit IDCT works in the same units, so every
 * plane comes out as (8-bit sample + 1920) << 4. We read the four planes back from that,
 * undo YCCK and Adobe's inversion, and convert the inks through the embedded profile.
 */
import type { RgbaImage } from '../kernels/resize.js';
import type { ImageHeader } from './header.js';
import { cmykToSrgb } from './icc-lut.js';

/**
 * Four planes of 16-bit samples (as decoded through the 12-bit SOF) to sRGB RGBA8, into `out`
 * when given. The 8-bit planes are narrowed in place in the first half of `raw` (each byte is
 * written at or before the sample it comes from has been read), so no other copy of them exists.
 */
export function cmykPlanesToRgba(
  raw: Uint8Array,
  header: ImageHeader,
  out: Uint8Array = new Uint8Array(header.width * header.height * 4),
): { image: RgbaImage; icc: 'converted' | 'ignored' } {
  const { width, height } = header;
  const n = width * height;
  const samples = new Uint16Array(raw.buffer, raw.byteOffset, n * 4);
  for (let i = 0; i < n * 4; i++) raw[i] = Math.min(255, Math.max(0, (samples[i]! >> 4) - 1920));
  const planes = [0, 1, 2, 3].map((p) => raw.subarray(p * n, (p + 1) * n)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const transform = header.jpeg!.adobeTransform;
  if (transform === 2) {
    // YCCK: the first three planes are YCbCr of (255 − stored CMY), as libjpeg writes them.
    const [yy, cb, cr] = planes;
    for (let i = 0; i < n; i++) {
      const Y = yy[i]!;
      const B = cb[i]! - 128;
      const R = cr[i]! - 128;
      yy[i] = clamp(255 - (Y + 1.402 * R));
      cb[i] = clamp(255 - (Y - 0.344136 * B - 0.714136 * R));
      cr[i] = clamp(255 - (Y + 1.772 * B));
    }
  }
  // Adobe's writers store inverted inks (255 = none); without its marker, inks are as they are.
  if (transform !== null) for (const plane of planes) for (let i = 0; i < n; i++) plane[i] = 255 - plane[i]!;
  const icc = cmykToSrgb(planes, n, header.icc, out);
  return { image: { data: out, width, height }, icc };
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
