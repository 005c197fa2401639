/**
 * Plain TypeScript resize: the test oracle for the wasm kernel (assembly/resize). Same weight
 * tables, same pipeline, f64 throughout and no lookup tables, written to be read rather than to
 * be fast.
 *
 * Pipeline: decode (sRGB or linear light) → premultiply by alpha → horizontal pass → vertical
 * pass → un-premultiply → clamp, encode and round. A pixel whose alpha rounds to 0
 * comes out as 0,0,0,0.
 */
import { type AxisWeights, axisWeights, DEFAULT_RESIZE_KERNEL, type ResizeKernel, type RgbaImage } from './resize-filters.js';
import { linearToSrgb, srgbToLinear } from './resize-srgb.js';

export { RESIZE_KERNELS, type ResizeKernel, type RgbaImage } from './resize-filters.js';

export interface ReferenceResizeOptions {
  width: number;
  height: number;
  kernel?: ResizeKernel;
  linearLight?: boolean;
}

export function resizeRgbaReference(src: RgbaImage, options: ReferenceResizeOptions): RgbaImage {
  const { width, height } = options;
  const kernel = options.kernel ?? DEFAULT_RESIZE_KERNEL;
  const linear = options.linearLight ?? false;
  const xw = axisWeights(src.width, width, kernel);
  const yw = axisWeights(src.height, height, kernel);
  const premultiplied = premultiply(src, linear);
  const horizontal = filterRows(premultiplied, src.width, src.height, xw);
  const vertical = filterColumns(horizontal, width, yw);
  return { data: finish(vertical, linear), width, height };
}

/** Colour channels on the 0..255 scale, multiplied by alpha / 255; alpha stays 0..255. */
function premultiply(src: RgbaImage, linear: boolean): Float64Array {
  const out = new Float64Array(src.width * src.height * 4);
  // 256 possible inputs: tabulating the exact curve changes nothing but the speed.
  const table = Array.from({ length: 256 }, (_, v) => (linear ? 255 * srgbToLinear(v / 255) : v));
  const decode = (v: number): number => table[v]!;
  for (let i = 0; i < out.length; i += 4) {
    const a = src.data[i + 3]!;
    for (let c = 0; c < 3; c++) out[i + c] = (decode(src.data[i + c]!) * a) / 255;
    out[i + 3] = a;
  }
  return out;
}

function filterRows(px: Float64Array, width: number, height: number, w: AxisWeights): Float64Array {
  const out = new Float64Array(w.outSize * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < w.outSize; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let k = 0; k < w.count[x]!; k++) {
          sum += px[(y * width + w.start[x]! + k) * 4 + c]! * w.weights[x * w.taps + k]!;
        }
        out[(y * w.outSize + x) * 4 + c] = sum;
      }
    }
  }
  return out;
}

function filterColumns(px: Float64Array, width: number, w: AxisWeights): Float64Array {
  const out = new Float64Array(width * w.outSize * 4);
  for (let y = 0; y < w.outSize; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let k = 0; k < w.count[y]!; k++) {
          sum += px[((w.start[y]! + k) * width + x) * 4 + c]! * w.weights[y * w.taps + k]!;
        }
        out[(y * width + x) * 4 + c] = sum;
      }
    }
  }
  return out;
}

function finish(px: Float64Array, linear: boolean): Uint8Array {
  const out = new Uint8Array(px.length);
  const clamp = (v: number): number => Math.min(Math.max(v, 0), 255);
  const encode = (v: number): number => (linear ? 255 * linearToSrgb(v / 255) : v);
  for (let i = 0; i < px.length; i += 4) {
    // Divide by the filtered alpha before clamping it: an overshoot past 255 (ringing) carries
    // the colour with it, and dividing by the clamped value would brighten edges.
    const a = px[i + 3]!;
    if (a < 0.5) continue;
    for (let c = 0; c < 3; c++) out[i + c] = Math.round(encode(clamp((px[i + c]! * 255) / a)));
    out[i + 3] = Math.round(Math.min(a, 255));
  }
  return out;
}
