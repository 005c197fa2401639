// Separable RGBA8 resize over premultiplied f32 pixels.
//
// The glue (src/kernels/resize.ts) owns the memory layout: it writes the source pixels, the
// precomputed weight tables and the transfer-curve LUTs, then calls `horizontal` over the source
// rows and `vertical` over the destination rows. This module never allocates; every buffer is a
// pointer handed in. Row ranges are parameters so a caller can split one image across calls.
//
// Pixels are carried as four f32 on the 0..255 scale, premultiplied by alpha: f32 keeps the whole
// pipeline within rounding of the f64 reference (which an i16 fixed-point path would not after
// un-premultiplying low-alpha pixels), and one pixel is exactly one v128.
//
// Weight tables: `bounds` holds (first source index, tap count) as two i32 per output index;
// `weights` holds `taps` f32 per output index (a fixed stride, so index * taps finds the row).

/** First 16-byte aligned byte the glue may use. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/**
 * Converts source rows [y0, y1) to premultiplied f32 (through `row`, one source row of f32x4) and
 * filters them horizontally into `inter`, which holds dstW pixels per source row.
 * `toLinear` is 0 for sRGB-space filtering, otherwise a 256-entry f32 LUT (0..255 scale).
 */
export function horizontal(
  src: usize, srcW: i32, y0: i32, y1: i32, row: usize,
  inter: usize, dstW: i32, bounds: usize, weights: usize, taps: i32, toLinear: usize,
): void {
  const srcStride = <usize>srcW << 2;
  const interStride = <usize>dstW << 4;
  for (let y = y0; y < y1; y++) {
    const s = src + <usize>y * srcStride;
    if (toLinear) loadRowLinear(s, srcW, row, toLinear);
    else loadRow(s, srcW, row);
    filterRow(row, inter + <usize>y * interStride, dstW, bounds, weights, taps);
  }
}

/**
 * Filters `inter` vertically into destination rows [y0, y1) of `dst` (RGBA8, dstW wide),
 * un-premultiplying and rounding. `toSrgb` is 0 for sRGB-space filtering, otherwise a
 * 65536-entry u8 LUT indexed by linear value * 65535 / 255.
 */
export function vertical(
  inter: usize, dstW: i32, y0: i32, y1: i32, dst: usize,
  bounds: usize, weights: usize, taps: i32, toSrgb: usize,
): void {
  const stride = <usize>dstW << 4;
  for (let y = y0; y < y1; y++) {
    const b = bounds + (<usize>y << 3);
    const base = inter + <usize>load<i32>(b) * stride;
    const n = load<i32>(b, 4);
    const w = weights + <usize>y * (<usize>taps << 2);
    const out = dst + <usize>y * (<usize>dstW << 2);
    if (ASC_FEATURE_SIMD) verticalRowSimd(base, stride, dstW, n, w, out, toSrgb);
    else verticalRowScalar(base, stride, dstW, n, w, out, toSrgb);
  }
}

// ---------------------------------------------------------------------------------------------
// Source row → premultiplied f32x4

// @ts-ignore: decorator
@inline function loadRow(s: usize, w: i32, row: usize): void {
  if (ASC_FEATURE_SIMD) {
    for (let x = 0; x < w; x++) {
      const px = v128.load32_zero(s + (<usize>x << 2));
      let f = f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(px)));
      const a = f32x4.extract_lane(f, 3);
      // Lane 3 becomes 255 so the one multiply by a/255 leaves alpha itself in lane 3.
      f = f32x4.mul(f32x4.replace_lane(f, 3, 255), f32x4.splat(a * (<f32>1 / 255)));
      v128.store(row + (<usize>x << 4), f);
    }
  } else {
    for (let x = 0; x < w; x++) {
      const p = load<u32>(s + (<usize>x << 2));
      const a = <f32>(p >>> 24);
      const k = a * (<f32>1 / 255);
      const o = row + (<usize>x << 4);
      store<f32>(o, <f32>(p & 255) * k);
      store<f32>(o, <f32>((p >>> 8) & 255) * k, 4);
      store<f32>(o, <f32>((p >>> 16) & 255) * k, 8);
      store<f32>(o, <f32>255 * k, 12);
    }
  }
}

// @ts-ignore: decorator
@inline function loadRowLinear(s: usize, w: i32, row: usize, lut: usize): void {
  for (let x = 0; x < w; x++) {
    const p = load<u32>(s + (<usize>x << 2));
    const r = load<f32>(lut + ((<usize>p & 255) << 2));
    const g = load<f32>(lut + ((<usize>(p >>> 8) & 255) << 2));
    const b = load<f32>(lut + ((<usize>(p >>> 16) & 255) << 2));
    const a = <f32>(p >>> 24);
    const k = a * (<f32>1 / 255);
    const o = row + (<usize>x << 4);
    if (ASC_FEATURE_SIMD) {
      v128.store(o, f32x4.mul(f32x4(r, g, b, 255), f32x4.splat(k)));
    } else {
      store<f32>(o, r * k);
      store<f32>(o, g * k, 4);
      store<f32>(o, b * k, 8);
      store<f32>(o, <f32>255 * k, 12);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Horizontal convolution of one f32x4 row

// @ts-ignore: decorator
@inline function filterRow(row: usize, out: usize, dstW: i32, bounds: usize, weights: usize, taps: i32): void {
  const wStride = <usize>taps << 2;
  for (let i = 0; i < dstW; i++) {
    const b = bounds + (<usize>i << 3);
    const first = load<i32>(b);
    const n = load<i32>(b, 4);
    let p = row + (<usize>first << 4);
    let w = weights + <usize>i * wStride;
    const o = out + (<usize>i << 4);
    if (ASC_FEATURE_SIMD) {
      // Two accumulators break the add dependency chain; taps come in pairs.
      let acc0 = f32x4.splat(0);
      let acc1 = f32x4.splat(0);
      let k = 0;
      for (; k + 1 < n; k += 2) {
        acc0 = f32x4.add(acc0, f32x4.mul(v128.load(p), f32x4.splat(load<f32>(w))));
        acc1 = f32x4.add(acc1, f32x4.mul(v128.load(p, 16), f32x4.splat(load<f32>(w, 4))));
        p += 32;
        w += 8;
      }
      if (k < n) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(p), f32x4.splat(load<f32>(w))));
      v128.store(o, f32x4.add(acc0, acc1));
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

// ---------------------------------------------------------------------------------------------
// Vertical convolution of one destination row, straight to RGBA8

// @ts-ignore: decorator
@inline function verticalRowSimd(base: usize, stride: usize, dstW: i32, n: i32, w: usize, out: usize, toSrgb: usize): void {
  let x = 0;
  // Four pixels (one 64-byte line of `inter`) per step keeps four accumulators in registers
  // while the taps walk down the column.
  for (; x + 4 <= dstW; x += 4) {
    let p = base + (<usize>x << 4);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      const c = f32x4.splat(load<f32>(w + (<usize>k << 2)));
      a0 = f32x4.add(a0, f32x4.mul(v128.load(p), c));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), c));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), c));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), c));
      p += stride;
    }
    const o = out + (<usize>x << 2);
    storePixelSimd(o, a0, toSrgb);
    storePixelSimd(o + 4, a1, toSrgb);
    storePixelSimd(o + 8, a2, toSrgb);
    storePixelSimd(o + 12, a3, toSrgb);
  }
  for (; x < dstW; x++) {
    let p = base + (<usize>x << 4);
    let acc = f32x4.splat(0);
    for (let k = 0; k < n; k++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load(p), f32x4.splat(load<f32>(w + (<usize>k << 2)))));
      p += stride;
    }
    storePixelSimd(out + (<usize>x << 2), acc, toSrgb);
  }
}

// @ts-ignore: decorator
@inline function verticalRowScalar(base: usize, stride: usize, dstW: i32, n: i32, w: usize, out: usize, toSrgb: usize): void {
  for (let x = 0; x < dstW; x++) {
    let p = base + (<usize>x << 4);
    let r: f32 = 0, g: f32 = 0, b: f32 = 0, a: f32 = 0;
    for (let k = 0; k < n; k++) {
      const c = load<f32>(w + (<usize>k << 2));
      r += load<f32>(p) * c;
      g += load<f32>(p, 4) * c;
      b += load<f32>(p, 8) * c;
      a += load<f32>(p, 12) * c;
      p += stride;
    }
    storePixelScalar(out + (<usize>x << 2), r, g, b, a, toSrgb);
  }
}

// ---------------------------------------------------------------------------------------------
// Un-premultiply, round, pack
//
// Alpha is clamped first (ringing kernels overshoot) and colours are divided by the clamped
// value. A pixel whose alpha rounds to 0 is written as 0,0,0,0: its colour is invisible and,
// divided by a near-zero alpha, would only be amplified float noise.

// Multiplying by 65535/255 maps the 0..255 linear scale onto the 65536-entry encode LUT.
const LUT_SCALE: f32 = <f32>65535 / 255;

// @ts-ignore: decorator
@inline function storePixelSimd(o: usize, acc: v128, toSrgb: usize): void {
  const a = min(f32x4.extract_lane(acc, 3), <f32>255);
  if (a < 0.5) {
    store<u32>(o, 0);
    return;
  }
  const k = <f32>255 / a;
  let v = f32x4.replace_lane(f32x4.mul(acc, f32x4.splat(k)), 3, a);
  v = f32x4.min(f32x4.max(v, f32x4.splat(0)), f32x4.splat(255));
  if (toSrgb) {
    const i = i32x4.trunc_sat_f32x4_u(f32x4.add(f32x4.mul(v, f32x4(LUT_SCALE, LUT_SCALE, LUT_SCALE, 1)), f32x4.splat(0.5)));
    const r = <u32>load<u8>(toSrgb + <usize>i32x4.extract_lane(i, 0));
    const g = <u32>load<u8>(toSrgb + <usize>i32x4.extract_lane(i, 1));
    const b = <u32>load<u8>(toSrgb + <usize>i32x4.extract_lane(i, 2));
    store<u32>(o, r | (g << 8) | (b << 16) | (<u32>i32x4.extract_lane(i, 3) << 24));
  } else {
    const i = i32x4.trunc_sat_f32x4_u(f32x4.add(v, f32x4.splat(0.5)));
    const h = i16x8.narrow_i32x4_u(i, i);
    v128.store32_lane(o, i8x16.narrow_i16x8_u(h, h), 0);
  }
}

// @ts-ignore: decorator
@inline function storePixelScalar(o: usize, r: f32, g: f32, b: f32, a: f32, toSrgb: usize): void {
  a = min(a, <f32>255);
  if (a < 0.5) {
    store<u32>(o, 0);
    return;
  }
  const k = <f32>255 / a;
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
