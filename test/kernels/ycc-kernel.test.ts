/**
 * The YCbCr → RGBA conversion of decoded JPEG planes. The kernel's TypeScript reference against a
 * definition written apart from it (libjpeg's fancy upsampling taken sample by sample, the JFIF
 * matrix in floating point); the kernel's SIMD and scalar builds against the reference, byte for
 * byte. Odd sizes, one-sample-wide chroma and widths either side of the SIMD step included.
 */
import { describe, expect, it } from 'vitest';
import { Resizer } from '../../src/worker/kernels/resize.js';
import { simdSupported } from '../../src/worker/kernels/resize-wasm.js';
import { YccPlanes } from '../../src/worker/kernels/ycc.js';
import { planesSize, type YccLayout } from '../../src/worker/kernels/ycc-common.js';
import { yccToRgbaReference as jpegPlanesToRgba } from '../../src/worker/kernels/ycc-reference.js';

type JpegLayout = YccLayout;

function differing(got: Uint8Array, want: Uint8Array): number {
  expect(got.length).toBe(want.length);
  let n = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) n++;
  return n;
}

function random(seed: number) {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) & 255;
  };
}

function reference(planes: Uint8Array, layout: JpegLayout, width: number, height: number): Uint8Array {
  const cw = layout === '444' ? width : Math.ceil(width / 2);
  const ch = layout === '420' ? Math.ceil(height / 2) : height;
  const out = new Uint8Array(width * height * 4);
  const c = (plane: number, x: number, y: number) => planes[width * height + plane * cw * ch + y * cw + x]!;
  const chroma = (plane: number, x: number, y: number): number => {
    if (layout === '444') return c(plane, x, y);
    const i = x >> 1;
    // The horizontal neighbour: left of the sample for even x, right for odd x, edges repeated.
    const j = x & 1 ? Math.min(i + 1, cw - 1) : Math.max(i - 1, 0);
    if (layout === '422') {
      return x & 1 ? (3 * c(plane, i, y) + c(plane, j, y) + 2) >> 2 : (3 * c(plane, i, y) + c(plane, j, y) + 1) >> 2;
    }
    const near = y >> 1;
    const far = y & 1 ? Math.min(near + 1, ch - 1) : Math.max(near - 1, 0);
    const col = (k: number) => 3 * c(plane, k, near) + c(plane, k, far);
    return (3 * col(i) + col(j) + (x & 1 ? 7 : 8)) >> 4;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = planes[y * width + x]!;
      const o = (y * width + x) * 4;
      if (layout === 'gray') {
        out.set([l, l, l, 255], o);
        continue;
      }
      const cb = chroma(0, x, y) - 128;
      const cr = chroma(1, x, y) - 128;
      const clamp = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
      out.set([clamp(l + 1.402 * cr), clamp(l - 0.344136 * cb - 0.714136 * cr), clamp(l + 1.772 * cb), 255], o);
    }
  }
  return out;
}

describe('JPEG planes to RGBA', () => {
  for (const layout of ['420', '422', '444', 'gray'] as const) {
    it.each([
      [17, 11],
      [64, 48],
      [1, 1],
      [2, 3],
      [3, 2],
    ])(`${layout}: %d×%d matches the reference within 1 per channel`, (width, height) => {
      const next = random(width * 131 + height);
      const planes = Uint8Array.from({ length: planesSize(layout, width, height) }, next);
      const ours = jpegPlanesToRgba(planes, layout, width, height);
      expect([ours.width, ours.height]).toEqual([width, height]);
      const want = reference(planes, layout, width, height);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - want[i]!));
      expect(worst).toBeLessThanOrEqual(1);
    });
  }

  it('keeps neutral grey neutral and a flat colour flat', () => {
    const width = 9;
    const height = 7;
    const planes = new Uint8Array(planesSize('420', width, height));
    planes.fill(100, 0, width * height);
    planes.fill(128, width * height);
    const grey = jpegPlanesToRgba(planes, '420', width, height).data;
    for (let i = 0; i < grey.length; i += 4) expect([...grey.subarray(i, i + 4)]).toEqual([100, 100, 100, 255]);
    // Y 76, Cb 85, Cr 255 is the JFIF coding of pure red.
    planes.fill(76, 0, width * height);
    planes.fill(85, width * height, width * height + 5 * 4);
    planes.fill(255, width * height + 5 * 4);
    const red = jpegPlanesToRgba(planes, '420', width, height).data;
    for (let i = 0; i < red.length; i += 4) expect([...red.subarray(i, i + 3)]).toEqual([254, 0, 0]);
  });

  const variants = simdSupported() ? (['simd', 'scalar'] as const) : (['scalar'] as const);
  for (const variant of variants) {
    for (const layout of ['420', '422', '444', 'gray'] as const) {
      it(`the ${variant} kernel, ${layout}: the reference's bytes at every size`, () => {
        for (const [width, height] of [
          [1, 1],
          [2, 3],
          [15, 4],
          [16, 5],
          [17, 3],
          [31, 2],
          [33, 7],
          [64, 48],
          [257, 19],
        ] as const) {
          const next = random(width * 7919 + height);
          const ycc = new YccPlanes(layout, width, height, variant);
          expect(ycc.variant).toBe(variant);
          const planes = Uint8Array.from({ length: planesSize(layout, width, height) }, next);
          ycc.planes.set(planes);
          const want = jpegPlanesToRgba(planes, layout, width, height).data;
          expect(differing(ycc.toRgba().data, want), `${width}×${height}`).toBe(0);
          // In a Resizer: the planes after its source, converted into the source.
          const resizer = new Resizer({ width, height }, { variant });
          resizer.yccPlanes(layout).set(planes);
          resizer.fromYcc(layout);
          expect(differing(resizer.source, want), `${width}×${height} in a Resizer`).toBe(0);
        }
      });
    }
  }

  for (const variant of variants) {
    for (const layout of ['420', '422', '444', 'gray'] as const) {
      it(`the ${variant} kernel, ${layout}: resizing from the planes gives the bytes of resizing their RGBA`, () => {
        for (const [width, height, toW, toH] of [
          [33, 21, 10, 7],
          [64, 48, 17, 48],
          [257, 19, 64, 5],
          [5, 3, 9, 7],
        ] as const) {
          const next = random(width * 31 + height * 7 + toW);
          const planes = Uint8Array.from({ length: planesSize(layout, width, height) }, next);
          const rgba = jpegPlanesToRgba(planes, layout, width, height);
          for (const passOrder of ['horizontal-first', 'vertical-first'] as const) {
            for (const linearLight of [false, true]) {
              const options = { width: toW, height: toH, kernel: 'lanczos3', passOrder, linearLight } as const;
              const want = new Resizer(rgba, { variant }).resize(options).data;
              const resizer = new Resizer({ width, height }, { variant });
              resizer.yccPlanes(layout).set(planes);
              resizer.fromYcc(layout);
              const label = `${width}×${height} → ${toW}×${toH} ${passOrder}${linearLight ? ' linear' : ''}`;
              // Twice: the planes stay the source for every size asked of them.
              expect(differing(resizer.resize(options).data, want), label).toBe(0);
              expect(differing(resizer.resize(options).data, want), `${label}, again`).toBe(0);
              // Asking for the pixels converts them once; later sizes read that RGBA.
              expect(differing(resizer.source, rgba.data), `${label}: the source`).toBe(0);
              expect(differing(resizer.resize(options).data, want), `${label}, from the RGBA`).toBe(0);
            }
          }
        }
      });
    }
  }
});
