/**
 * EXIF orientations applied to RGBA8 pixels. Orientation n says how the stored pixels must be
 * transformed to display upright: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° CW,
 * 7 transverse, 8 rotate 90° CCW. 5–8 swap width and height.
 */
import type { RgbaImage } from '../kernels/resize.js';
import type { Orientation } from './exif.js';

export function swapsAxes(o: Orientation): boolean {
  return o >= 5;
}

/** Display dimensions of a stored width × height. */
export function orientedSize(width: number, height: number, o: Orientation): { width: number; height: number } {
  return swapsAxes(o) ? { width: height, height: width } : { width, height };
}

/** The displayed image, written into `out` (W × H × 4 bytes) when given. */
export function applyOrientation(img: RgbaImage, o: Orientation, out?: Uint8Array): RgbaImage {
  const { width: w, height: h } = img;
  const { width: W, height: H } = orientedSize(w, h, o);
  if (o === 1) {
    out?.set(img.data);
    return out ? { data: out, width: W, height: H } : img;
  }
  out ??= new Uint8Array(W * H * 4);
  const src = new Uint32Array(img.data.buffer, img.data.byteOffset, w * h);
  const dst = new Uint32Array(out.buffer, out.byteOffset, W * H);
  // For each displayed pixel (X, Y), the stored pixel it comes from.
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      let x: number;
      let y: number;
      switch (o) {
        case 2:
          x = w - 1 - X;
          y = Y;
          break;
        case 3:
          x = w - 1 - X;
          y = h - 1 - Y;
          break;
        case 4:
          x = X;
          y = h - 1 - Y;
          break;
        case 5:
          x = Y;
          y = X;
          break;
        case 6:
          x = Y;
          y = h - 1 - X;
          break;
        case 7:
          x = w - 1 - Y;
          y = h - 1 - X;
          break;
        default:
          x = w - 1 - Y;
          y = X;
          break; // 8
      }
      dst[Y * W + X] = src[y * w + x]!;
    }
  }
  return { data: out, width: W, height: H };
}
