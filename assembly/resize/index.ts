// Separable RGBA8 resize over premultiplied f32 pixels.
//
// The glue (src/kernels/resize.ts) owns the memory layout: it writes the source pixels (or a
// JPEG's planes, converted a row at a time as they are read), the precomputed weight tables, the
// transfer-curve LUTs and a descriptor naming every buffer, then calls `run` over ranges of
// destination rows, in order. Nothing is allocated here.
//
// Pixels are carried as four f32 on the 0..255 scale, premultiplied by alpha: f32 keeps the whole
// pipeline within rounding of the f64 reference (an i16 fixed-point path would not be, once
// low-alpha pixels are un-premultiplied), and one pixel is exactly one v128.
//
// No full-size intermediate image exists. A ring buffer holds just the rows the current vertical
// window needs, each computed once. Either pass may go first (the glue picks by estimated cost):
//   horizontal first: ring = horizontally filtered source rows (dstW wide); each source row is
//                     converted and filtered once, then the vertical pass combines ring rows.
//                     Best for reductions: the ring is narrow and stays in cache.
//   vertical first:   ring = converted source rows (srcW wide); per output row the vertical
//                     pass combines whole source rows, then the horizontal pass filters that
//                     one row. Best when only the height shrinks.

// Weight tables: `bounds` holds (first source index, tap count) as two i32 per output index;
// `weights` holds `taps` f32 per output index (a fixed stride). Window starts never decrease.

// Descriptor: u32 fields at these byte offsets (mirrored by DESC in src/kernels/resize.ts).
const D_SRC = 0; // RGBA8 source
const D_SRC_W = 4;
const D_DST = 8; // RGBA8 destination
const D_DST_W = 12;
const D_RING = 16; // ringRows rows of f32x4, srcW (vertical first) or dstW (horizontal first) wide
const D_RING_ROWS = 20;
const D_ROW_A = 24; // srcW f32x4 scratch row
const D_ROW_B = 28; // dstW f32x4 scratch row
const D_PTRS = 32; // ringRows pointers: the current window's rows
const D_XB = 36;
const D_XW = 40;
const D_XTAPS = 44;
const D_YB = 48;
const D_YW = 52;
const D_YTAPS = 56;
const D_TO_LINEAR = 60; // 0, or 256 × f32 sRGB → linear (0..255 scale)
const D_TO_SRGB = 64; // 0, or 65536 × u8 linear → sRGB
const D_H_FIRST = 68; // 1: horizontal pass first
const D_FILLED = 72; // state: source rows below this are in the ring (or were skipped)
const D_ROW_C = 76; // srcW f32x4 scratch row: the second of a pair (horizontal first, SIMD)
// A JPEG's planes as the source instead of RGBA8 (see ycc.ts): each source row is converted as
// it is read, into one of two RGBA8 rows, so the whole picture is never held as RGBA.
const D_YCC = 80; // 0, or the planes
const D_YCC_LAYOUT = 84;
const D_SRC_H = 88;
const D_YCC_SCRATCH = 92; // two chroma rows of srcW + 16 bytes
const D_YCC_ROWS = 96; // two RGBA8 rows of srcW × 4 bytes

import { yccRow } from './ycc';

export { yccToRgba } from './ycc';

/** First 16-byte aligned byte the glue may use. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** Produces destination rows [y0, y1). Calls must cover the rows in increasing order. */
export function run(desc: usize, y0: i32, y1: i32): void {
  const srcW = load<i32>(desc, D_SRC_W);
  const dstW = load<i32>(desc, D_DST_W);
  const hFirst = load<i32>(desc, D_H_FIRST) != 0;
  const ring = load<usize>(desc, D_RING);
  const ringRows = load<i32>(desc, D_RING_ROWS);
  const rowA = load<usize>(desc, D_ROW_A);
  const rowB = load<usize>(desc, D_ROW_B);
  const ptrs = load<usize>(desc, D_PTRS);
  const yb = load<usize>(desc, D_YB);
  const yw = load<usize>(desc, D_YW);
  const yTaps = load<i32>(desc, D_YTAPS);
  const toSrgb = load<usize>(desc, D_TO_SRGB);
  const ringW = hFirst ? dstW : srcW;
  const ringStride = <usize>ringW << 4;
  for (let y = y0; y < y1; y++) {
    const first = load<i32>(yb + (<usize>y << 3));
    const n = load<i32>(yb + (<usize>y << 3), 4);
    fillRing(desc, first, first + n, ring, ringRows, ringStride, hFirst, rowA);
    for (let k = 0; k < n; k++) {
      store<usize>(ptrs + (<usize>k << 2), ring + <usize>((first + k) % ringRows) * ringStride);
    }
    // A single tap has weight exactly 1 (identity or nearest): use the ring row as it is.
    let row = load<usize>(ptrs);
    if (n > 1) {
      row = hFirst ? rowB : rowA;
      vertical(ptrs, n, yw + <usize>y * (<usize>yTaps << 2), ringW, row);
    }
    if (!hFirst) {
      horizontal(desc, row, rowB);
      row = rowB;
    }
    finishRow(row, dstW, load<usize>(desc, D_DST) + <usize>y * (<usize>dstW << 2), toSrgb);
  }
}

/** Brings the source rows of window [first, end) not yet in the ring into it. */
// @ts-ignore: decorator
@inline function fillRing(
  desc: usize, first: i32, end: i32, ring: usize, ringRows: i32, ringStride: usize, hFirst: bool, rowA: usize,
): void {
  const filled = load<i32>(desc, D_FILLED);
  if (end <= filled) return;
  const src = load<usize>(desc, D_SRC);
  const srcW = load<i32>(desc, D_SRC_W);
  const lut = load<usize>(desc, D_TO_LINEAR);
  // Rows between the old fill mark and this window (skipped by nearest) are never needed.
  const ycc = load<usize>(desc, D_YCC);
  const yccRows = load<usize>(desc, D_YCC_ROWS);
  let r = max(filled, first);
  if (ASC_FEATURE_SIMD && hFirst) {
    // Two rows at a time share every weight load of the horizontal pass.
    const rowC = load<usize>(desc, D_ROW_C);
    for (; r + 1 < end; r += 2) {
      const s0 = sourceRow(desc, src, srcW, ycc, r, yccRows);
      const s1 = sourceRow(desc, src, srcW, ycc, r + 1, yccRows + (<usize>srcW << 2));
      if (lut) {
        loadRowLinear(s0, srcW, rowA, lut);
        loadRowLinear(s1, srcW, rowC, lut);
      } else {
        loadRow(s0, srcW, rowA);
        loadRow(s1, srcW, rowC);
      }
      horizontalPairSimd(desc, rowA, rowC, ring + <usize>(r % ringRows) * ringStride, ring + <usize>((r + 1) % ringRows) * ringStride);
    }
  }
  for (; r < end; r++) {
    const s = sourceRow(desc, src, srcW, ycc, r, yccRows);
    const slot = ring + <usize>(r % ringRows) * ringStride;
    const o = hFirst ? rowA : slot;
    if (lut) loadRowLinear(s, srcW, o, lut);
    else loadRow(s, srcW, o);
    if (hFirst) horizontal(desc, rowA, slot);
  }
  store<i32>(desc, end, D_FILLED);
}

/** Source row `r` as RGBA8: in the source, or converted from the planes into `into`. */
// @ts-ignore: decorator
@inline function sourceRow(desc: usize, src: usize, srcW: i32, ycc: usize, r: i32, into: usize): usize {
  if (!ycc) return src + <usize>r * (<usize>srcW << 2);
  yccRow(ycc, load<i32>(desc, D_YCC_LAYOUT), srcW, load<i32>(desc, D_SRC_H), r, into, load<usize>(desc, D_YCC_SCRATCH));
  return into;
}

// ---------------------------------------------------------------------------------------------
// Source row → premultiplied f32x4

const INV255: f32 = <f32>1 / 255;

// @ts-ignore: decorator
@inline function loadRow(s: usize, w: i32, row: usize): void {
  if (ASC_FEATURE_SIMD) {
    let x = 0;
    // Four pixels per 16-byte load, widened u8 → u16 → u32 → f32.
    for (; x + 4 <= w; x += 4) {
      const v = v128.load(s + (<usize>x << 2));
      const lo = i16x8.extend_low_i8x16_u(v);
      const hi = i16x8.extend_high_i8x16_u(v);
      const o = row + (<usize>x << 4);
      v128.store(o, premultiplySimd(i32x4.extend_low_i16x8_u(lo)));
      v128.store(o, premultiplySimd(i32x4.extend_high_i16x8_u(lo)), 16);
      v128.store(o, premultiplySimd(i32x4.extend_low_i16x8_u(hi)), 32);
      v128.store(o, premultiplySimd(i32x4.extend_high_i16x8_u(hi)), 48);
    }
    for (; x < w; x++) {
      const px = v128.load32_zero(s + (<usize>x << 2));
      v128.store(row + (<usize>x << 4), premultiplySimd(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(px))));
    }
  } else {
    for (let x = 0; x < w; x++) {
      const p = load<u32>(s + (<usize>x << 2));
      const a = <f32>(p >>> 24);
      const o = row + (<usize>x << 4);
      store<f32>(o, <f32>(p & 255) * a * INV255);
      store<f32>(o, <f32>((p >>> 8) & 255) * a * INV255, 4);
      store<f32>(o, <f32>((p >>> 16) & 255) * a * INV255, 8);
      store<f32>(o, a * <f32>255 * INV255, 12);
    }
  }
}

/** One pixel as u32 lanes (r, g, b, a) → premultiplied f32x4. */
// @ts-ignore: decorator
@inline function premultiplySimd(px: v128): v128 {
  const f = f32x4.convert_i32x4_u(px);
  // (r, g, b, a) × (a, a, a, 255) / 255 premultiplies colour and keeps alpha.
  const k = v128.shuffle<f32>(f, f32x4.splat(255), 3, 3, 3, 4);
  return f32x4.mul(f32x4.mul(f, k), f32x4.splat(INV255));
}

// @ts-ignore: decorator
@inline function loadRowLinear(s: usize, w: i32, row: usize, lut: usize): void {
  for (let x = 0; x < w; x++) {
    const p = load<u32>(s + (<usize>x << 2));
    const r = load<f32>(lut + ((<usize>p & 255) << 2));
    const g = load<f32>(lut + ((<usize>(p >>> 8) & 255) << 2));
    const b = load<f32>(lut + ((<usize>(p >>> 16) & 255) << 2));
    const a = <f32>(p >>> 24);
    const o = row + (<usize>x << 4);
    if (ASC_FEATURE_SIMD) {
      v128.store(o, f32x4.mul(f32x4.mul(f32x4(r, g, b, 255), f32x4.splat(a)), f32x4.splat(INV255)));
    } else {
      store<f32>(o, r * a * INV255);
      store<f32>(o, g * a * INV255, 4);
      store<f32>(o, b * a * INV255, 8);
      store<f32>(o, <f32>255 * a * INV255, 12);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Vertical pass: out[x] = Σ_k w[k] · row_k[x]

// @ts-ignore: decorator
@inline function vertical(ptrs: usize, n: i32, w: usize, width: i32, out: usize): void {
  if (ASC_FEATURE_SIMD) verticalSimd(ptrs, n, w, width, out);
  else verticalScalar(ptrs, n, w, width, out);
}

// @ts-ignore: decorator
@inline function verticalSimd(ptrs: usize, n: i32, w: usize, width: i32, out: usize): void {
  let x = 0;
  // Eight pixels (two 64-byte lines) per step: eight accumulators stay in registers while the
  // taps walk down the window, so each weight and row pointer is loaded once per eight pixels.
  for (; x + 8 <= width; x += 8) {
    const off = <usize>x << 4;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      const c = v128.load32_splat(w + (<usize>k << 2));
      const p = <usize>load<usize>(ptrs + (<usize>k << 2)) + off;
      a0 = f32x4.add(a0, f32x4.mul(v128.load(p), c));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), c));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), c));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), c));
      a4 = f32x4.add(a4, f32x4.mul(v128.load(p, 64), c));
      a5 = f32x4.add(a5, f32x4.mul(v128.load(p, 80), c));
      a6 = f32x4.add(a6, f32x4.mul(v128.load(p, 96), c));
      a7 = f32x4.add(a7, f32x4.mul(v128.load(p, 112), c));
    }
    const o = out + off;
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
    v128.store(o, a4, 64);
    v128.store(o, a5, 80);
    v128.store(o, a6, 96);
    v128.store(o, a7, 112);
  }
  for (; x < width; x++) {
    const off = <usize>x << 4;
    let acc = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      const p = <usize>load<usize>(ptrs + (<usize>k << 2)) + off;
      acc = f32x4.add(acc, f32x4.mul(v128.load(p), v128.load32_splat(w + (<usize>k << 2))));
    }
    v128.store(out + off, acc);
  }
}

// @ts-ignore: decorator
@inline function verticalScalar(ptrs: usize, n: i32, w: usize, width: i32, out: usize): void {
  for (let x = 0; x < width; x++) {
    const off = <usize>x << 4;
    let r: f32 = 0, g: f32 = 0, b: f32 = 0, a: f32 = 0;
    for (let k = 0; k < n; k++) {
      const c = load<f32>(w + (<usize>k << 2));
      const p = <usize>load<usize>(ptrs + (<usize>k << 2)) + off;
      r += load<f32>(p) * c;
      g += load<f32>(p, 4) * c;
      b += load<f32>(p, 8) * c;
      a += load<f32>(p, 12) * c;
    }
    const o = out + off;
    store<f32>(o, r);
    store<f32>(o, g, 4);
    store<f32>(o, b, 8);
    store<f32>(o, a, 12);
  }
}

// ---------------------------------------------------------------------------------------------
// Horizontal pass: out[i] = Σ_k w[i][k] · row[first_i + k]

// @ts-ignore: decorator
@inline function horizontal(desc: usize, row: usize, out: usize): void {
  const dstW = load<i32>(desc, D_DST_W);
  const xb = load<usize>(desc, D_XB);
  const xw = load<usize>(desc, D_XW);
  const wStride = <usize>load<i32>(desc, D_XTAPS) << 2;
  for (let i = 0; i < dstW; i++) {
    const b = xb + (<usize>i << 3);
    let p = row + (<usize>load<i32>(b) << 4);
    const n = load<i32>(b, 4);
    let w = xw + <usize>i * wStride;
    const o = out + (<usize>i << 4);
    if (ASC_FEATURE_SIMD) {
      // Four accumulators hide the add latency; taps come in fours, the rest one by one.
      let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
      let k = 0;
      for (; k + 3 < n; k += 4) {
        acc0 = f32x4.add(acc0, f32x4.mul(v128.load(p), v128.load32_splat(w)));
        acc1 = f32x4.add(acc1, f32x4.mul(v128.load(p, 16), v128.load32_splat(w, 4)));
        acc2 = f32x4.add(acc2, f32x4.mul(v128.load(p, 32), v128.load32_splat(w, 8)));
        acc3 = f32x4.add(acc3, f32x4.mul(v128.load(p, 48), v128.load32_splat(w, 12)));
        p += 64;
        w += 16;
      }
      for (; k < n; k++) {
        acc0 = f32x4.add(acc0, f32x4.mul(v128.load(p), v128.load32_splat(w)));
        p += 16;
        w += 4;
      }
      v128.store(o, f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
    } else {
      let r: f32 = 0, g: f32 = 0, bl: f32 = 0, a: f32 = 0;
      for (let k = 0; k < n; k++) {
        const c = load<f32>(w);
        r += load<f32>(p) * c;
        g += load<f32>(p, 4) * c;
        bl += load<f32>(p, 8) * c;
        a += load<f32>(p, 12) * c;
        p += 16;
        w += 4;
      }
      store<f32>(o, r);
      store<f32>(o, g, 4);
      store<f32>(o, bl, 8);
      store<f32>(o, a, 12);
    }
  }
}

/** `horizontal` over two rows at once: each weight is loaded once for both. */
// @ts-ignore: decorator
@inline function horizontalPairSimd(desc: usize, row0: usize, row1: usize, out0: usize, out1: usize): void {
  const dstW = load<i32>(desc, D_DST_W);
  const xb = load<usize>(desc, D_XB);
  const xw = load<usize>(desc, D_XW);
  const wStride = <usize>load<i32>(desc, D_XTAPS) << 2;
  for (let i = 0; i < dstW; i++) {
    const b = xb + (<usize>i << 3);
    const start = <usize>load<i32>(b) << 4;
    const n = load<i32>(b, 4);
    let p = row0 + start;
    let q = row1 + start;
    let w = xw + <usize>i * wStride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let k = 0;
    for (; k + 1 < n; k += 2) {
      const c0 = v128.load32_splat(w);
      const c1 = v128.load32_splat(w, 4);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(p), c0));
      b0 = f32x4.add(b0, f32x4.mul(v128.load(q), c0));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), c1));
      b1 = f32x4.add(b1, f32x4.mul(v128.load(q, 16), c1));
      p += 32;
      q += 32;
      w += 8;
    }
    if (k < n) {
      const c = v128.load32_splat(w);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(p), c));
      b0 = f32x4.add(b0, f32x4.mul(v128.load(q), c));
    }
    v128.store(out0 + (<usize>i << 4), f32x4.add(a0, a1));
    v128.store(out1 + (<usize>i << 4), f32x4.add(b0, b1));
  }
}

// ---------------------------------------------------------------------------------------------
// Un-premultiply, round, pack
//
// Colours are divided by the filtered alpha as it is, and only then are both clamped: where a
// ringing kernel overshoots alpha past 255, colour and alpha overshoot together, so dividing by
// the clamped alpha would brighten opaque edges. A pixel whose alpha rounds to 0 is written as
// 0,0,0,0: its colour is invisible and, divided by a near-zero alpha, only amplified float noise.

// @ts-ignore: decorator
@inline function finishRow(row: usize, width: i32, out: usize, toSrgb: usize): void {
  let x = 0;
  if (ASC_FEATURE_SIMD && !toSrgb) {
    // Four pixels narrowed together into one 16-byte store.
    for (; x + 4 <= width; x += 4) {
      const p = row + (<usize>x << 4);
      const half = f32x4.splat(0.5);
      const i0 = i32x4.trunc_sat_f32x4_u(f32x4.add(unpremultiplySimd(v128.load(p)), half));
      const i1 = i32x4.trunc_sat_f32x4_u(f32x4.add(unpremultiplySimd(v128.load(p, 16)), half));
      const i2 = i32x4.trunc_sat_f32x4_u(f32x4.add(unpremultiplySimd(v128.load(p, 32)), half));
      const i3 = i32x4.trunc_sat_f32x4_u(f32x4.add(unpremultiplySimd(v128.load(p, 48)), half));
      v128.store(out + (<usize>x << 2), i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(i0, i1), i16x8.narrow_i32x4_u(i2, i3)));
    }
  }
  for (; x < width; x++) {
    const p = row + (<usize>x << 4);
    const o = out + (<usize>x << 2);
    if (ASC_FEATURE_SIMD) storePixelSimd(o, v128.load(p), toSrgb);
    else storePixelScalar(o, load<f32>(p), load<f32>(p, 4), load<f32>(p, 8), load<f32>(p, 12), toSrgb);
  }
}

// Multiplying by 65535/255 maps the 0..255 linear scale onto the 65536-entry encode LUT.
const LUT_SCALE: f32 = <f32>65535 / 255;

// @ts-ignore: decorator
@inline function storePixelSimd(o: usize, acc: v128, toSrgb: usize): void {
  const v = unpremultiplySimd(acc);
  if (toSrgb) {
    const i = i32x4.trunc_sat_f32x4_u(f32x4.add(f32x4.mul(v, f32x4(LUT_SCALE, LUT_SCALE, LUT_SCALE, 1)), f32x4.splat(0.5)));
    // A masked (invisible) pixel indexes entry 0, which encodes to 0.
    const a = <u32>i32x4.extract_lane(i, 3);
    const r = <u32>load<u8>(toSrgb + <usize>i32x4.extract_lane(i, 0));
    const g = <u32>load<u8>(toSrgb + <usize>i32x4.extract_lane(i, 1));
    const b = <u32>load<u8>(toSrgb + <usize>i32x4.extract_lane(i, 2));
    store<u32>(o, r | (g << 8) | (b << 16) | (a << 24));
  } else {
    const i = i32x4.trunc_sat_f32x4_u(f32x4.add(v, f32x4.splat(0.5)));
    const h = i16x8.narrow_i32x4_u(i, i);
    v128.store32_lane(o, i8x16.narrow_i16x8_u(h, h), 0);
  }
}

/** Premultiplied f32x4 → straight colour and alpha, clamped to 0..255 (all 0 when invisible). */
// @ts-ignore: decorator
@inline function unpremultiplySimd(acc: v128): v128 {
  const aa = v128.shuffle<f32>(acc, acc, 3, 3, 3, 3);
  // (255/a, 255/a, 255/a, 1): colours are un-premultiplied, alpha passes through. Where a is 0
  // or negative the quotient is junk, but the mask below zeroes that pixel.
  const k = v128.shuffle<f32>(f32x4.div(f32x4.splat(255), aa), f32x4.splat(1), 0, 1, 2, 4);
  // pmin/pmax are single instructions where the NaN-exact min/max are not; a NaN can only come
  // from a masked-out lane.
  const v = f32x4.pmin(f32x4.pmax(f32x4.mul(acc, k), f32x4.splat(0)), f32x4.splat(255));
  return v128.and(v, f32x4.ge(aa, f32x4.splat(0.5)));
}

// @ts-ignore: decorator
@inline function storePixelScalar(o: usize, r: f32, g: f32, b: f32, a: f32, toSrgb: usize): void {
  if (!(a >= 0.5)) {
    store<u32>(o, 0);
    return;
  }
  const k = <f32>255 / a;
  a = min(a, <f32>255);
  r = clamp255(r * k);
  g = clamp255(g * k);
  b = clamp255(b * k);
  const ai = <u32>(a + 0.5);
  if (toSrgb) {
    const ri = <u32>load<u8>(toSrgb + <usize>(r * LUT_SCALE + 0.5));
    const gi = <u32>load<u8>(toSrgb + <usize>(g * LUT_SCALE + 0.5));
    const bi = <u32>load<u8>(toSrgb + <usize>(b * LUT_SCALE + 0.5));
    store<u32>(o, ri | (gi << 8) | (bi << 16) | (ai << 24));
  } else {
    store<u32>(o, <u32>(r + 0.5) | (<u32>(g + 0.5) << 8) | (<u32>(b + 0.5) << 16) | (ai << 24));
  }
}

// @ts-ignore: decorator
@inline function clamp255(v: f32): f32 {
  return min(max(v, <f32>0), <f32>255);
}
