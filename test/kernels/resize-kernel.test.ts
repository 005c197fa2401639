// Resize kernel: the SIMD and scalar wasm builds (both pass orders) against the TypeScript
// reference on generated images and the real PNGs of test/fixtures, plus properties the
// reference itself must have: no dark fringes at transparent edges, linear-light averaging,
// identity at the same size. Kernels tier: the modules come from src/, their wasm from
// `node scripts/build-kernels.mjs` (`npm run test:kernels` does both).
import { describe, expect, it } from 'vitest';
import { RESIZE_KERNELS, type ResizeKernel, Resizer, resizeRgba, simdSupported } from '../../src/worker/kernels/resize.js';
import { axisWeights } from '../../src/worker/kernels/resize-filters.js';
import { resizeRgbaReference } from '../../src/worker/kernels/resize-reference.js';
import { media } from '../helpers/media.js';
import { readPng } from '../helpers/png.js';

const VARIANTS = ['simd', 'scalar'] as const;
const ORDERS = ['horizontal-first', 'vertical-first'] as const;

// ---- generated images ------------------------------------------------------------------------

interface Rgba {
  data: Uint8Array;
  width: number;
  height: number;
}

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * Three vertical bands: smooth gradients, noise, and hard-edged 7-pixel blocks. With `alpha`,
 * the alpha channel has its own gradient, a fully transparent block and hard on/off stripes.
 */
function testCard(width: number, height: number, alpha: boolean, seed = 7): Rgba {
  const rand = xorshift(seed);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const band = Math.floor((x * 3) / width);
      if (band === 0) {
        data[i] = Math.round((255 * x) / Math.max(1, width - 1));
        data[i + 1] = Math.round((255 * y) / Math.max(1, height - 1));
        data[i + 2] = (x + y) & 255;
      } else if (band === 1) {
        data[i] = rand() * 256;
        data[i + 1] = rand() * 256;
        data[i + 2] = rand() * 256;
      } else {
        const on = (Math.floor(x / 7) + Math.floor(y / 7)) & 1;
        data[i] = on ? 255 : 0;
        data[i + 1] = on ? 30 : 220;
        data[i + 2] = on ? 0 : 255;
      }
      data[i + 3] = alpha ? alphaAt(x, y, width, height) : 255;
    }
  }
  return { data, width, height };
}

function alphaAt(x: number, y: number, width: number, height: number): number {
  if (x > width * 0.4 && x < width * 0.6 && y > height * 0.3 && y < height * 0.6) return 0;
  if (y < height / 4) return Math.floor(x / 5) & 1 ? 255 : 0;
  return Math.round((255 * y) / Math.max(1, height - 1));
}

/** Uniform noise in every channel, alpha included (clamped to at least `minAlpha`). */
function noise(width: number, height: number, minAlpha = 0, seed = 11): Rgba {
  const rand = xorshift(seed);
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) {
    const v = Math.floor(rand() * 256);
    data[i] = (i & 3) === 3 ? Math.max(minAlpha, v) : v;
  }
  return { data, width, height };
}

/** Opaque 1-pixel black/white checkerboard. */
function checkerboard(width: number, height: number): Rgba {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = (x + y) & 1 ? 255 : 0;
      data.fill(v, (y * width + x) * 4, (y * width + x) * 4 + 3);
      data[(y * width + x) * 4 + 3] = 255;
    }
  }
  return { data, width, height };
}

/** Left part opaque `inside`, the rest fully transparent `outside` (colour present, alpha 0). */
function transparentEdge(width: number, height: number, split: number, inside: number[], outside: number[]): Rgba {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = x < split ? inside : outside;
      data.set([r!, g!, b!, x < split ? 255 : 0], (y * width + x) * 4);
    }
  }
  return { data, width, height };
}

// ---- comparisons -----------------------------------------------------------------------------

interface Diff {
  max: number;
  /** Share of compared channel values that differ at all. */
  differing: number;
}

/**
 * Per-channel difference. Colour is not compared where either alpha is 0: the kernel writes
 * invisible pixels as 0,0,0,0, and a pixel whose alpha sits right at the 0.5 rounding edge may be
 * invisible in one implementation and barely visible (any colour) in the other.
 */
function diff(a: Rgba, b: Rgba): Diff {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let max = 0,
    differing = 0,
    compared = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    const visible = a.data[i + 3]! > 0 && b.data[i + 3]! > 0;
    for (let c = visible ? 0 : 3; c < 4; c++) {
      const d = Math.abs(a.data[i + c]! - b.data[i + c]!);
      max = Math.max(max, d);
      if (d) differing++;
      compared++;
    }
  }
  return { max, differing: differing / compared };
}

function psnr(a: Rgba, b: Rgba): number {
  let se = 0;
  for (let i = 0; i < a.data.length; i++) se += (a.data[i]! - b.data[i]!) ** 2;
  const mse = se / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Byte equality without the deep-equality walk, which crawls over large typed arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function pixel(img: Rgba, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return [...img.data.subarray(i, i + 4)];
}

// ---- tests -----------------------------------------------------------------------------------

describe('resize kernel tables', () => {
  it('exposes the kernel names as a frozen table', () => {
    expect(RESIZE_KERNELS).toEqual(['nearest', 'box', 'linear', 'catmull-rom', 'mitchell', 'lanczos2', 'lanczos3']);
    expect(Object.isFrozen(RESIZE_KERNELS)).toBe(true);
  });

  it('computes triangle weights for a 2× reduction as the stretched filter', () => {
    const w = axisWeights(8, 4, 'linear');
    // Output 1 is centred on source 3.0: taps 1..4 at distances 1.5, 0.5, 0.5, 1.5 (÷2).
    expect(w.start[1]).toBe(1);
    expect(w.count[1]).toBe(4);
    expect([...w.weights.subarray(w.taps, w.taps + 4)]).toEqual([0.125, 0.375, 0.375, 0.125]);
    // Output 0 loses its tap left of the image and is renormalised.
    expect(w.start[0]).toBe(0);
    expect(w.count[0]).toBe(3);
    expect(w.weights[0]).toBeCloseTo(0.75 / 1.75, 12);
  });

  it('normalises every row and stretches support only when reducing', () => {
    for (const kernel of RESIZE_KERNELS) {
      for (const [inSize, outSize] of [
        [997, 211],
        [37, 150],
        [3000, 64],
        [5, 1],
        [1, 9],
      ] as const) {
        const w = axisWeights(inSize, outSize, kernel);
        for (let i = 0; i < outSize; i++) {
          let sum = 0;
          for (let k = 0; k < w.count[i]!; k++) sum += w.weights[i * w.taps + k]!;
          expect(sum).toBeCloseTo(1, 12);
          expect(w.start[i]).toBeGreaterThanOrEqual(0);
          expect(w.start[i]! + w.count[i]!).toBeLessThanOrEqual(inSize);
        }
      }
    }
    expect(axisWeights(3000, 64, 'lanczos3').taps).toBeGreaterThan(250);
    expect(axisWeights(64, 3000, 'lanczos3').taps).toBeLessThanOrEqual(7);
  });

  it('is the identity along an axis whose size does not change', () => {
    for (const kernel of RESIZE_KERNELS) {
      const w = axisWeights(13, 13, kernel);
      expect(w.taps).toBe(1);
      expect([...w.start]).toEqual([...Array(13).keys()]);
    }
  });
});

describe('resize kernel agrees with the reference', () => {
  const card = testCard(997, 613, true);
  const opaque = testCard(997, 613, false, 3);
  const small = noise(37, 23);
  const cases: { name: string; src: Rgba; width: number; height: number }[] = [
    { name: 'card 997×613 → 211×97', src: card, width: 211, height: 97 },
    { name: 'opaque 997×613 → 500×613 (width only)', src: opaque, width: 500, height: 613 },
    { name: 'card 997×613 → 997×101 (height only)', src: card, width: 997, height: 101 },
    { name: 'noise 37×23 → 150×91 (up)', src: small, width: 150, height: 91 },
    { name: 'noise 37×23 → 80×11 (up × down)', src: small, width: 80, height: 11 },
    { name: 'noise 37×23 → 1×1', src: small, width: 1, height: 1 },
    { name: '1×1 → 1×1', src: noise(1, 1, 1), width: 1, height: 1 },
    { name: '1×1 → 5×3', src: noise(1, 1, 1), width: 5, height: 3 },
  ];
  for (const kernel of RESIZE_KERNELS) {
    for (const linearLight of [false, true]) {
      it(`${kernel}${linearLight ? ', linear light' : ''}`, () => {
        for (const c of cases) {
          const opts = { width: c.width, height: c.height, kernel, linearLight };
          const expected = resizeRgbaReference(c.src, opts);
          for (const variant of VARIANTS) {
            const resizer = new Resizer(c.src, { variant });
            for (const passOrder of ORDERS) {
              const d = diff(resizer.resize({ ...opts, passOrder }), expected);
              const label = `${c.name} ${variant} ${passOrder}`;
              expect(d.max, label).toBeLessThanOrEqual(1);
              // f32 against f64 differs only where a value lands next to a rounding edge (box
              // reductions make many exact halves; linear light adds the encode LUT's steps).
              expect(d.differing, label).toBeLessThan(0.05);
            }
          }
        }
      });
    }
  }
});

describe('resize kernel on the media corpus', () => {
  const files = ['astronaut.png', 'coffee.png', 'renpy-sylvie-rgba.png'];
  const kernels: ResizeKernel[] = ['lanczos3', 'mitchell', 'box'];
  for (const file of files) {
    it(`${file}: PSNR ≥ 40 dB against the reference, down and up`, () => {
      const src = readPng(media('image', file));
      const sizes = [
        [Math.round(src.width * 0.37), Math.round(src.height * 0.37)],
        [Math.round(src.width * 1.31), Math.round(src.height * 1.07)],
      ] as const;
      for (const kernel of kernels) {
        for (const [width, height] of sizes) {
          for (const linearLight of [false, true]) {
            const expected = resizeRgbaReference(src, { width, height, kernel, linearLight });
            for (const variant of VARIANTS) {
              const out = resizeRgba(src, { width, height, kernel, linearLight, variant });
              const label = `${kernel} ${width}×${height} ${variant}${linearLight ? ' linear' : ''}`;
              expect(psnr(out, expected), label).toBeGreaterThanOrEqual(40);
              expect(diff(out, expected).max, label).toBeLessThanOrEqual(1);
            }
          }
        }
      }
    });
  }

  it('a downscaled photo stays close to a box-averaged one (the filter is not point sampling)', () => {
    const src = readPng(media('image', 'astronaut.png'));
    const box = resizeRgbaReference(src, { width: 128, height: 128, kernel: 'box' });
    expect(psnr(resizeRgba(src, { width: 128, height: 128, kernel: 'lanczos3' }), box)).toBeGreaterThan(28);
    // Nearest neighbour aliases: it is measurably further from the area average.
    expect(psnr(resizeRgba(src, { width: 128, height: 128, kernel: 'nearest' }), box)).toBeLessThan(
      psnr(resizeRgba(src, { width: 128, height: 128, kernel: 'lanczos3' }), box),
    );
  });
});

describe('resize kernel properties', () => {
  it('leaves no dark fringe where opaque white meets transparent black', () => {
    const src = transparentEdge(60, 8, 31, [255, 255, 255], [0, 0, 0]);
    for (const kernel of RESIZE_KERNELS) {
      for (const variant of VARIANTS) {
        for (const width of [20, 17, 97]) {
          const out = resizeRgba(src, { width, height: 8, kernel, variant });
          let partial = 0;
          for (let x = 0; x < width; x++) {
            const [r, g, b, a] = pixel(out, x, 4);
            if (a === 0) continue;
            if (a! < 255) partial++;
            // Premultiplied, white over the filtered alpha is exactly that alpha.
            for (const c of [r!, g!, b!]) expect(Math.abs((c * a!) / 255 - a!), `${kernel} ${variant} x=${x}`).toBeLessThanOrEqual(1);
          }
          // Reductions blend across the edge (box and nearest enlargements only copy pixels).
          if (kernel !== 'nearest' && width < 60) expect(partial, `${kernel} ${width}`).toBeGreaterThan(0);
        }
      }
    }
  });

  it('does not bleed the colour of transparent pixels into the edge', () => {
    const src = transparentEdge(64, 4, 30, [200, 0, 0], [0, 255, 0]);
    for (const variant of VARIANTS) {
      for (const linearLight of [false, true]) {
        const out = resizeRgba(src, { width: 21, height: 4, kernel: 'lanczos3', linearLight, variant });
        for (let x = 0; x < 21; x++) {
          const [r, g, b, a] = pixel(out, x, 1);
          if (a === 0) continue;
          expect([r, g, b], `x=${x}`).toEqual([200, 0, 0]);
        }
      }
    }
  });

  it('averages a 1-pixel checkerboard to 50% light in linear light, 50% code value in sRGB', () => {
    const src = checkerboard(64, 64);
    for (const kernel of RESIZE_KERNELS.filter((k) => k !== 'nearest')) {
      for (const variant of VARIANTS) {
        const lin = resizeRgba(src, { width: 32, height: 32, kernel, variant, linearLight: true });
        const srgb = resizeRgba(src, { width: 32, height: 32, kernel, variant, linearLight: false });
        // Interior only: near the border the renormalised windows are no longer symmetric.
        for (let y = 8; y < 24; y++) {
          for (let x = 8; x < 24; x++) {
            const [l] = pixel(lin, x, y);
            const [s] = pixel(srgb, x, y);
            expect(Math.abs(l! - 188), `${kernel} ${variant} linear (${x},${y})`).toBeLessThanOrEqual(1);
            expect(Math.abs(s! - 128), `${kernel} ${variant} sRGB (${x},${y})`).toBeLessThanOrEqual(1);
          }
        }
      }
    }
  });

  it('returns the input when the size does not change, for every kernel', () => {
    const src = noise(61, 37, 1);
    const zeroAlpha = noise(61, 37, 0, 5);
    for (const kernel of RESIZE_KERNELS) {
      for (const variant of VARIANTS) {
        for (const linearLight of [false, true]) {
          const out = resizeRgba(src, { width: 61, height: 37, kernel, variant, linearLight });
          expect(diff(out, src).max, `${kernel} ${variant}`).toBeLessThanOrEqual(1);
          // Fully transparent pixels come back canonical: 0,0,0,0.
          const t = resizeRgba(zeroAlpha, { width: 61, height: 37, kernel, variant, linearLight });
          for (let i = 0; i < t.data.length; i += 4) {
            if (zeroAlpha.data[i + 3] === 0) expect(pixel(t, (i / 4) % 61, Math.floor(i / 4 / 61))).toEqual([0, 0, 0, 0]);
          }
        }
      }
    }
  });

  it('keeps a constant image constant under every kernel, both ways', () => {
    const src = { data: new Uint8Array(40 * 30 * 4), width: 40, height: 30 };
    for (let i = 0; i < src.data.length; i += 4) src.data.set([12, 200, 77, 255], i);
    for (const kernel of RESIZE_KERNELS) {
      for (const [width, height] of [
        [13, 7],
        [91, 64],
      ] as const) {
        const out = resizeRgba(src, { width, height, kernel });
        expect(diff(out, { data: out.data.map((_, i) => [12, 200, 77, 255][i % 4]!), width, height }).max).toBe(0);
      }
    }
  });

  it('reuses one Resizer for several sizes with the same results as fresh ones', () => {
    const src = testCard(300, 300, true);
    const r = new Resizer(src);
    const sizes = [
      [64, 64],
      [211, 150],
      [7, 300],
      [300, 300],
      [64, 64],
    ] as const;
    for (const [width, height] of sizes) {
      const again = r.resize({ width, height, kernel: 'mitchell' });
      expect(sameBytes(again.data, resizeRgba(src, { width, height, kernel: 'mitchell' }).data), `${width}×${height}`).toBe(true);
    }
    expect(r.variant).toBe(simdSupported() ? 'simd' : 'scalar');
  });

  it('derives the missing dimension from the aspect ratio', () => {
    const src = noise(400, 300);
    expect(resizeRgba(src, { width: 64 })).toMatchObject({ width: 64, height: 48 });
    expect(resizeRgba(src, { height: 1 })).toMatchObject({ width: 1, height: 1 });
  });

  it('is deterministic and leaves the source untouched', () => {
    const src = testCard(120, 80, true);
    const copy = src.data.slice();
    const a = resizeRgba(src, { width: 33, height: 51 });
    const b = resizeRgba(src, { width: 33, height: 51 });
    expect(sameBytes(a.data, b.data)).toBe(true);
    expect(sameBytes(src.data, copy)).toBe(true);
  });
});

describe('resize kernel instances', () => {
  it('a released Resizer refuses work, and its instance serves the next Resizer on the thread with no pixel left in it', () => {
    const data = new Uint8Array(8 * 8 * 4).fill(200);
    const first = new Resizer({ data, width: 8, height: 8 });
    expect(first.resize({ width: 4 }).data[0]).toBe(200);
    const memory = first.source.buffer;
    first.release();
    expect(() => first.resize({ width: 4 })).toThrow(/after release/);
    const next = new Resizer({ width: 8, height: 8 });
    expect(next.source.buffer).toBe(memory);
    expect(next.source.every((v) => v === 0)).toBe(true);
    // Its tables were written anew: it resizes what it is given.
    next.source.fill(100);
    expect(next.resize({ width: 4 }).data.every((v) => v === 100)).toBe(true);
    // A second Resizer while the kept one is in use gets an instance of its own.
    expect(new Resizer({ width: 8, height: 8 }).source.buffer).not.toBe(memory);
  });
});
