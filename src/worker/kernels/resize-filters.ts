/**
 * Resampling filters and the per-axis weight tables both resize implementations share.
 *
 * The tables follow Pillow's `precompute_coeffs` (libImaging/Resample.c): output pixel i is
 * centred at (i + 0.5) * scale in source coordinates, and when downscaling the filter is
 * stretched by the scale factor so it integrates over every source pixel it covers (an
 * antialiasing filter rather than point sampling). Taps falling outside the image are dropped
 * and the rest renormalised to sum to 1, so edges keep their brightness.
 */

import type { ResizeKernel } from '../../model/image-spec.js';

export { DEFAULT_RESIZE_KERNEL, RESIZE_KERNELS, type ResizeKernel } from '../../model/image-spec.js';

interface Filter {
  /** Half-width of the filter at scale 1, in source pixels. */
  readonly support: number;
  readonly fn: (x: number) => number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function lanczos(a: number): Filter {
  return { support: a, fn: (x) => (x > -a && x < a ? sinc(x) * sinc(x / a) : 0) };
}

/** Mitchell–Netravali family; (B, C) = (0, 0.5) is Catmull-Rom, (1/3, 1/3) is Mitchell. */
function cubic(b: number, c: number): Filter {
  return {
    support: 2,
    fn: (x) => {
      const t = Math.abs(x);
      if (t < 1) return ((12 - 9 * b - 6 * c) * t ** 3 + (-18 + 12 * b + 6 * c) * t ** 2 + (6 - 2 * b)) / 6;
      if (t < 2) return ((-b - 6 * c) * t ** 3 + (6 * b + 30 * c) * t ** 2 + (-12 * b - 48 * c) * t + (8 * b + 24 * c)) / 6;
      return 0;
    },
  };
}

const FILTERS: Readonly<Record<Exclude<ResizeKernel, 'nearest'>, Filter>> = Object.freeze({
  // Half-open so a sample exactly between two pixels belongs to one of them, not both.
  box: { support: 0.5, fn: (x: number) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  linear: { support: 1, fn: (x: number) => Math.max(0, 1 - Math.abs(x)) },
  'catmull-rom': cubic(0, 0.5),
  mitchell: cubic(1 / 3, 1 / 3),
  lanczos2: lanczos(2),
  lanczos3: lanczos(3),
});

/** Weights for one axis: output i reads `count[i]` source pixels from `start[i]`. */
export interface AxisWeights {
  readonly inSize: number;
  readonly outSize: number;
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** Row-major, `taps` entries per output index; unused entries are 0. */
  readonly weights: Float64Array;
  /** The widest row: the stride of `weights`. */
  readonly taps: number;
}

function identityWeights(size: number): AxisWeights {
  const start = new Int32Array(size);
  for (let i = 0; i < size; i++) start[i] = i;
  return { inSize: size, outSize: size, start, count: new Int32Array(size).fill(1), weights: new Float64Array(size).fill(1), taps: 1 };
}

/**
 * The weight table that maps `inSize` source pixels onto `outSize` output pixels.
 * An unchanged size is the identity, as in Pillow and libvips: otherwise blurring kernels
 * (Mitchell, B > 0) would soften an axis nobody asked to resample.
 */
export function axisWeights(inSize: number, outSize: number, kernel: ResizeKernel): AxisWeights {
  if (inSize === outSize) return identityWeights(inSize);
  const scale = inSize / outSize;
  if (kernel === 'nearest') {
    const start = new Int32Array(outSize);
    // Pixel-centre sampling exactly as Pillow does it (libImaging's affine transform): the sample
    // position starts half a step in and the step is added in doubles, each position truncated
    // to the pixel it falls in. Computing (i + 0.5) * scale afresh rounds differently near pixel
    // edges, and a nearest-neighbour pixel is either the reference's or another one entirely.
    let x = scale * 0.5;
    for (let i = 0; i < outSize; i++) {
      start[i] = Math.min(Math.trunc(x), inSize - 1);
      x += scale;
    }
    return { inSize, outSize, start, count: new Int32Array(outSize).fill(1), weights: new Float64Array(outSize).fill(1), taps: 1 };
  }
  const filter = FILTERS[kernel];
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  let taps = 1;
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const row = i * maxTaps;
    let sum = 0;
    for (let x = lo; x < hi; x++) {
      const w = filter.fn((x - center + 0.5) / filterScale);
      weights[row + x - lo] = w;
      sum += w;
    }
    start[i] = lo;
    count[i] = hi - lo;
    if (sum === 0) {
      // Cannot happen for these filters (the pixel under the centre always has weight), but a
      // zero row would turn into NaN: fall back to that pixel.
      const at = Math.min(Math.floor(center), inSize - 1);
      weights.fill(0, row, row + maxTaps);
      start[i] = at;
      count[i] = 1;
      weights[row] = 1;
    } else {
      for (let k = 0; k < hi - lo; k++) weights[row + k]! /= sum;
    }
    taps = Math.max(taps, count[i]!);
  }
  if (taps === maxTaps) return { inSize, outSize, start, count, weights, taps };
  // Repack to the widest row actually used so the kernel's stride wastes nothing.
  const packed = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) packed.set(weights.subarray(i * maxTaps, i * maxTaps + taps), i * taps);
  return { inSize, outSize, start, count, weights: packed, taps };
}

/** 8-bit RGBA pixels, row-major, no padding: `data.length === width * height * 4`. */
export interface RgbaImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}
