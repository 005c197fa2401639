/**
 * Pixel steps around the resize: crop (cover), letterbox (contain), flatten alpha (JPEG). Frames
 * live in shared memory, which the encoder's FFmpeg run reads in place.
 */
import type { RgbaImage } from '../kernels/resize.js';
import type { Rect } from './fit.js';

/** `bytes` of zeroed pixels in a SharedArrayBuffer. */
export function sharedPixels(bytes: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(bytes));
}

export function crop(img: RgbaImage, r: Rect): RgbaImage {
  if (r.left === 0 && r.top === 0 && r.width === img.width && r.height === img.height) return img;
  const out = sharedPixels(r.width * r.height * 4);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.top + y) * img.width + r.left) * 4;
    out.set(img.data.subarray(from, from + r.width * 4), y * r.width * 4);
  }
  return { data: out, width: r.width, height: r.height };
}

/** Places `img` at (r.left, r.top) on an r.width × r.height canvas of `background`. */
export function letterbox(img: RgbaImage, r: Rect, background: readonly number[]): RgbaImage {
  if (r.left === 0 && r.top === 0 && r.width === img.width && r.height === img.height) return img;
  const out = sharedPixels(r.width * r.height * 4);
  const bg = new Uint8Array(background);
  const fill = new Uint32Array(bg.buffer)[0]!;
  new Uint32Array(out.buffer, out.byteOffset, r.width * r.height).fill(fill);
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * img.width * 4, (y + 1) * img.width * 4), ((r.top + y) * r.width + r.left) * 4);
  }
  return { data: out, width: r.width, height: r.height };
}

export function isOpaque(img: RgbaImage): boolean {
  const d = img.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return false;
  return true;
}

/**
 * Composites over an opaque colour (JPEG has no alpha): in place when the pixels are the
 * caller's own to change, else on a copy.
 */
export function flatten(img: RgbaImage, background: readonly number[], inPlace = false): RgbaImage {
  if (isOpaque(img)) return img;
  const d = inPlace ? img.data : img.data.slice();
  const [br, bgc, bb] = background as [number, number, number];
  for (let i = 0; i < d.length; i += 4) {
    const a = d[i + 3]!;
    if (a === 255) continue;
    const ia = 255 - a;
    d[i] = Math.round((d[i]! * a + br * ia) / 255);
    d[i + 1] = Math.round((d[i + 1]! * a + bgc * ia) / 255);
    d[i + 2] = Math.round((d[i + 2]! * a + bb * ia) / 255);
    d[i + 3] = 255;
  }
  return { data: d, width: img.width, height: img.height };
}
