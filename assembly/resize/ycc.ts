// JPEG YCbCr planes (FFmpeg's yuvj420p / yuvj422p / yuvj444p / gray) to RGBA8, exactly as
// libjpeg does it: chroma upsampled by its "fancy" triangle filter (3/4 the nearer sample, 1/4 the
// further, edges repeated, its alternating rounding), then the JFIF matrix in its 16-bit fixed
// point. The TypeScript reference is src/worker/kernels/ycc-reference.ts; both must agree byte
// for byte.
//
// Part of the resize kernel's module, so that a decoded JPEG's planes become the resize source in
// the same memory, with no RGBA copy between modules. The glue (src/worker/kernels/ycc.ts and
// Resizer in src/worker/kernels/resize.ts) owns the memory: it places the planes, the output and
// two scratch rows, then calls `yccToRgba`. Nothing is allocated here.

const LAYOUT_GRAY = 0;
const LAYOUT_444 = 1;
const LAYOUT_422 = 2;
// 3: 4:2:0

// libjpeg's jdcolor.c constants: FIX(x) = round(x × 2^16).
const FIX_1_402 = 91881;
const FIX_1_772 = 116130;
const FIX_0_71414 = 46802;
const FIX_0_34414 = 22554;
const ONE_HALF = 32768;

/**
 * Converts rows [y0, y1) of the planes at `planes` (Y width × height, then Cb and Cr, each cw × ch
 * with chroma sizes rounded up) to RGBA8 at `out`. `scratch` holds two rows of width + 16 bytes.
 */
export function yccToRgba(planes: usize, layout: i32, width: i32, height: i32, out: usize, scratch: usize, y0: i32, y1: i32): void {
  for (let y = y0; y < y1; y++) yccRow(planes, layout, width, height, y, out + ((<usize>y * <usize>width) << 2), scratch);
}

/**
 * Converts row `y` of the planes to RGBA8 at `out` (width × 4 bytes). The resize kernel calls it
 * for each source row it reads, so that a decoded JPEG is resized from its planes with no RGBA
 * copy of the whole picture.
 */
export function yccRow(planes: usize, layout: i32, width: i32, height: i32, y: i32, out: usize, scratch: usize): void {
  const w = <usize>width;
  if (layout == LAYOUT_GRAY) {
    grayRow(planes + <usize>y * w, out, width);
    return;
  }
  const cw = layout == LAYOUT_444 ? w : (w + 1) >> 1;
  const ch = layout == 3 ? (height + 1) >> 1 : height;
  const cbPlane = planes + w * <usize>height;
  const crPlane = cbPlane + cw * <usize>ch;
  let cb = scratch;
  let cr = scratch + w + 16;
  if (layout == LAYOUT_444) {
    cb = cbPlane + <usize>y * cw;
    cr = crPlane + <usize>y * cw;
  } else if (layout == LAYOUT_422) {
    upsampleH2(cbPlane + <usize>y * cw, <i32>cw, cb);
    upsampleH2(crPlane + <usize>y * cw, <i32>cw, cr);
  } else {
    // Output row y sits nearest chroma row y/2, and leans toward the one above (even y) or below.
    const near = y >> 1;
    const far = y & 1 ? min(near + 1, ch - 1) : max(near - 1, 0);
    upsampleH2V2(cbPlane + <usize>near * cw, cbPlane + <usize>far * cw, <i32>cw, cb);
    upsampleH2V2(crPlane + <usize>near * cw, crPlane + <usize>far * cw, <i32>cw, cr);
  }
  colorRow(planes + <usize>y * w, cb, cr, out, width);
}

function grayRow(lum: usize, out: usize, width: i32): void {
  let x = 0;
  if (ASC_FEATURE_SIMD) {
    for (; x + 16 <= width; x += 16) {
      const l = v128.load(lum + <usize>x);
      storeRgba(out + (<usize>x << 2), l, l, l);
    }
  }
  for (; x < width; x++) {
    const v = <u32>load<u8>(lum + <usize>x);
    store<u32>(out + (<usize>x << 2), 0xff000000 | (v << 16) | (v << 8) | v);
  }
}

@inline function clamp255(v: i32): u32 {
  return <u32>min(max(v, 0), 255);
}

function colorRow(lum: usize, cbRow: usize, crRow: usize, out: usize, width: i32): void {
  let x = 0;
  if (ASC_FEATURE_SIMD) {
    for (; x + 16 <= width; x += 16) {
      const l = v128.load(lum + <usize>x);
      const b = v128.load(cbRow + <usize>x);
      const r = v128.load(crRow + <usize>x);
      const l16lo = i16x8.extend_low_i8x16_u(l);
      const l16hi = i16x8.extend_high_i8x16_u(l);
      const b16lo = i16x8.extend_low_i8x16_u(b);
      const b16hi = i16x8.extend_high_i8x16_u(b);
      const r16lo = i16x8.extend_low_i8x16_u(r);
      const r16hi = i16x8.extend_high_i8x16_u(r);
      const red = i8x16.narrow_i16x8_u(
        i16x8.narrow_i32x4_s(redOf(i32x4.extend_low_i16x8_u(l16lo), i32x4.extend_low_i16x8_u(r16lo)), redOf(i32x4.extend_high_i16x8_u(l16lo), i32x4.extend_high_i16x8_u(r16lo))),
        i16x8.narrow_i32x4_s(redOf(i32x4.extend_low_i16x8_u(l16hi), i32x4.extend_low_i16x8_u(r16hi)), redOf(i32x4.extend_high_i16x8_u(l16hi), i32x4.extend_high_i16x8_u(r16hi))),
      );
      const green = i8x16.narrow_i16x8_u(
        i16x8.narrow_i32x4_s(
          greenOf(i32x4.extend_low_i16x8_u(l16lo), i32x4.extend_low_i16x8_u(b16lo), i32x4.extend_low_i16x8_u(r16lo)),
          greenOf(i32x4.extend_high_i16x8_u(l16lo), i32x4.extend_high_i16x8_u(b16lo), i32x4.extend_high_i16x8_u(r16lo)),
        ),
        i16x8.narrow_i32x4_s(
          greenOf(i32x4.extend_low_i16x8_u(l16hi), i32x4.extend_low_i16x8_u(b16hi), i32x4.extend_low_i16x8_u(r16hi)),
          greenOf(i32x4.extend_high_i16x8_u(l16hi), i32x4.extend_high_i16x8_u(b16hi), i32x4.extend_high_i16x8_u(r16hi)),
        ),
      );
      const blue = i8x16.narrow_i16x8_u(
        i16x8.narrow_i32x4_s(blueOf(i32x4.extend_low_i16x8_u(l16lo), i32x4.extend_low_i16x8_u(b16lo)), blueOf(i32x4.extend_high_i16x8_u(l16lo), i32x4.extend_high_i16x8_u(b16lo))),
        i16x8.narrow_i32x4_s(blueOf(i32x4.extend_low_i16x8_u(l16hi), i32x4.extend_low_i16x8_u(b16hi)), blueOf(i32x4.extend_high_i16x8_u(l16hi), i32x4.extend_high_i16x8_u(b16hi))),
      );
      storeRgba(out + (<usize>x << 2), red, green, blue);
    }
  }
  for (; x < width; x++) {
    const l = <i32>load<u8>(lum + <usize>x);
    const b = <i32>load<u8>(cbRow + <usize>x) - 128;
    const r = <i32>load<u8>(crRow + <usize>x) - 128;
    const red = clamp255(l + ((FIX_1_402 * r + ONE_HALF) >> 16));
    const green = clamp255(l + ((ONE_HALF - FIX_0_34414 * b - FIX_0_71414 * r) >> 16));
    const blue = clamp255(l + ((FIX_1_772 * b + ONE_HALF) >> 16));
    store<u32>(out + (<usize>x << 2), 0xff000000 | (blue << 16) | (green << 8) | red);
  }
}

/** 16 pixels of R, G and B bytes (alpha 255) interleaved to RGBA at `o`: RG and BA pairs, then pairs of pairs. */
@inline function storeRgba(o: usize, red: v128, green: v128, blue: v128): void {
  const alpha = i8x16.splat(-1);
  const rgLo = i8x16.shuffle(red, green, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const rgHi = i8x16.shuffle(red, green, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const baLo = i8x16.shuffle(blue, alpha, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const baHi = i8x16.shuffle(blue, alpha, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  v128.store(o, i16x8.shuffle(rgLo, baLo, 0, 8, 1, 9, 2, 10, 3, 11));
  v128.store(o, i16x8.shuffle(rgLo, baLo, 4, 12, 5, 13, 6, 14, 7, 15), 16);
  v128.store(o, i16x8.shuffle(rgHi, baHi, 0, 8, 1, 9, 2, 10, 3, 11), 32);
  v128.store(o, i16x8.shuffle(rgHi, baHi, 4, 12, 5, 13, 6, 14, 7, 15), 48);
}

@inline function redOf(l: v128, r: v128): v128 {
  const cr = i32x4.sub(r, i32x4.splat(128));
  return i32x4.add(l, i32x4.shr_s(i32x4.add(i32x4.mul(cr, i32x4.splat(FIX_1_402)), i32x4.splat(ONE_HALF)), 16));
}

@inline function greenOf(l: v128, b: v128, r: v128): v128 {
  const cb = i32x4.sub(b, i32x4.splat(128));
  const cr = i32x4.sub(r, i32x4.splat(128));
  const sum = i32x4.sub(i32x4.sub(i32x4.splat(ONE_HALF), i32x4.mul(cb, i32x4.splat(FIX_0_34414))), i32x4.mul(cr, i32x4.splat(FIX_0_71414)));
  return i32x4.add(l, i32x4.shr_s(sum, 16));
}

@inline function blueOf(l: v128, b: v128): v128 {
  const cb = i32x4.sub(b, i32x4.splat(128));
  return i32x4.add(l, i32x4.shr_s(i32x4.add(i32x4.mul(cb, i32x4.splat(FIX_1_772)), i32x4.splat(ONE_HALF)), 16));
}

/** libjpeg's h2v2_fancy_upsample for one output row: columns summed 3:1 across rows, then 3:1 across columns. */
function upsampleH2V2(near: usize, far: usize, cw: i32, out: usize): void {
  let thisSum = <i32>load<u8>(near) * 3 + <i32>load<u8>(far);
  if (cw == 1) {
    store<u8>(out, (thisSum * 4 + 8) >> 4);
    store<u8>(out, (thisSum * 4 + 7) >> 4, 1);
    return;
  }
  let nextSum = <i32>load<u8>(near, 1) * 3 + <i32>load<u8>(far, 1);
  store<u8>(out, (thisSum * 4 + 8) >> 4);
  store<u8>(out, (thisSum * 3 + nextSum + 7) >> 4, 1);
  let lastSum = thisSum;
  thisSum = nextSum;
  let o = out + 2;
  for (let i = 2; i < cw; i++) {
    nextSum = <i32>load<u8>(near + <usize>i) * 3 + <i32>load<u8>(far + <usize>i);
    store<u8>(o, (thisSum * 3 + lastSum + 8) >> 4);
    store<u8>(o, (thisSum * 3 + nextSum + 7) >> 4, 1);
    o += 2;
    lastSum = thisSum;
    thisSum = nextSum;
  }
  store<u8>(o, (thisSum * 3 + lastSum + 8) >> 4);
  store<u8>(o, (thisSum * 4 + 7) >> 4, 1);
}

/** libjpeg's h2v1_fancy_upsample for one row. */
function upsampleH2(at: usize, cw: i32, out: usize): void {
  const first = <i32>load<u8>(at);
  if (cw == 1) {
    store<u8>(out, first);
    store<u8>(out, first, 1);
    return;
  }
  store<u8>(out, first);
  store<u8>(out, (first * 3 + <i32>load<u8>(at, 1) + 2) >> 2, 1);
  let o = out + 2;
  for (let i = 1; i < cw - 1; i++) {
    const v = <i32>load<u8>(at + <usize>i) * 3;
    store<u8>(o, (v + <i32>load<u8>(at + <usize>i - 1) + 1) >> 2);
    store<u8>(o, (v + <i32>load<u8>(at + <usize>i + 1) + 2) >> 2, 1);
    o += 2;
  }
  const last = at + <usize>cw - 1;
  store<u8>(o, (<i32>load<u8>(last) * 3 + <i32>load<u8>(last - 1) + 1) >> 2);
  store<u8>(o, <i32>load<u8>(last), 1);
}
