/**
 * The reference of the ycc kernel (assembly/ycc): JPEG YCbCr planes to RGBA8 the way libjpeg does
 * it, in plain TypeScript. Chroma is upsampled with libjpeg's "fancy" triangle filter (3/4 nearer
 * sample + 1/4 further, edges replicated, its alternating rounding), then the JFIF matrix (BT.601,
 * full range) in libjpeg's 16-bit fixed point, by its jdcolor.c tables. The kernel must produce
 * the same bytes.
 */
import type { RgbaImage } from './resize.js';
import { chromaSize, type YccLayout } from './ycc-common.js';

const SCALEBITS = 16;
const ONE_HALF = 1 << (SCALEBITS - 1);
const fix = (x: number) => Math.round(x * (1 << SCALEBITS));
// libjpeg's jdcolor.c tables, indexed by the chroma sample.
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (fix(1.402) * x + ONE_HALF) >> SCALEBITS;
  CB_B[i] = (fix(1.772) * x + ONE_HALF) >> SCALEBITS;
  CR_G[i] = -fix(0.71414) * x;
  CB_G[i] = -fix(0.34414) * x + ONE_HALF;
}

// Saturation by lookup: index v + CLAMP_OFFSET for v in [-CLAMP_OFFSET, 1023 - CLAMP_OFFSET].
const CLAMP_OFFSET = 384;
const CLAMP = Uint8Array.from({ length: 1024 }, (_, i) => Math.min(255, Math.max(0, i - CLAMP_OFFSET)));
// Alpha 255 in the top byte, as an int32 so that every word stays a small integer for the JIT.
const OPAQUE = 0xff000000 | 0;

/** Converts into `out` (width × height × 4 bytes) when given. */
export function yccToRgbaReference(
  planes: Uint8Array,
  layout: YccLayout,
  width: number,
  height: number,
  out: Uint8Array = new Uint8Array(width * height * 4),
): RgbaImage {
  // One little-endian word per pixel: R, G, B, A in memory order.
  const words = new Int32Array(out.buffer, out.byteOffset, width * height);
  const { cw, ch } = chromaSize(layout, width, height);
  const cbPlane = width * height;
  const crPlane = cbPlane + cw * ch;
  const cb = new Uint8Array(width + 1);
  const cr = new Uint8Array(width + 1);
  for (let y = 0; y < height; y++) {
    const yRow = y * width;
    if (layout === 'gray') {
      for (let x = 0; x < width; x++) {
        const v = planes[yRow + x]!;
        words[yRow + x] = OPAQUE | (v << 16) | (v << 8) | v;
      }
      continue;
    }
    if (layout === '444') {
      cb.set(planes.subarray(cbPlane + y * cw, cbPlane + y * cw + width));
      cr.set(planes.subarray(crPlane + y * cw, crPlane + y * cw + width));
    } else if (layout === '422') {
      upsampleRowH2(planes, cbPlane + y * cw, cw, cb);
      upsampleRowH2(planes, crPlane + y * cw, cw, cr);
    } else {
      // Output row y sits nearest chroma row y/2, and leans toward the one above (even y) or below.
      const near = y >> 1;
      const far = y & 1 ? Math.min(near + 1, ch - 1) : Math.max(near - 1, 0);
      upsampleRowH2V2(planes, cbPlane + near * cw, cbPlane + far * cw, cw, cb);
      upsampleRowH2V2(planes, crPlane + near * cw, crPlane + far * cw, cw, cr);
    }
    for (let x = 0; x < width; x++) {
      const l = planes[yRow + x]! + CLAMP_OFFSET;
      const b = cb[x]!;
      const r = cr[x]!;
      const red = CLAMP[l + CR_R[r]!]!;
      const green = CLAMP[l + ((CB_G[b]! + CR_G[r]!) >> SCALEBITS)]!;
      const blue = CLAMP[l + CB_B[b]!]!;
      words[yRow + x] = OPAQUE | (blue << 16) | (green << 8) | red;
    }
  }
  return { data: out, width, height };
}

/** libjpeg's h2v2_fancy_upsample for one output row: columns summed 3:1 across rows, then 3:1 across columns. */
function upsampleRowH2V2(planes: Uint8Array, nearAt: number, farAt: number, cw: number, out: Uint8Array): void {
  let thisSum = planes[nearAt]! * 3 + planes[farAt]!;
  if (cw === 1) {
    out[0] = (thisSum * 4 + 8) >> 4;
    out[1] = (thisSum * 4 + 7) >> 4;
    return;
  }
  let nextSum = planes[nearAt + 1]! * 3 + planes[farAt + 1]!;
  out[0] = (thisSum * 4 + 8) >> 4;
  out[1] = (thisSum * 3 + nextSum + 7) >> 4;
  let lastSum = thisSum;
  thisSum = nextSum;
  let o = 2;
  for (let i = 2; i < cw; i++) {
    nextSum = planes[nearAt + i]! * 3 + planes[farAt + i]!;
    out[o++] = (thisSum * 3 + lastSum + 8) >> 4;
    out[o++] = (thisSum * 3 + nextSum + 7) >> 4;
    lastSum = thisSum;
    thisSum = nextSum;
  }
  out[o++] = (thisSum * 3 + lastSum + 8) >> 4;
  out[o] = (thisSum * 4 + 7) >> 4;
}

/** libjpeg's h2v1_fancy_upsample for one row. */
function upsampleRowH2(planes: Uint8Array, at: number, cw: number, out: Uint8Array): void {
  if (cw === 1) {
    out[0] = planes[at]!;
    out[1] = planes[at]!;
    return;
  }
  out[0] = planes[at]!;
  out[1] = (planes[at]! * 3 + planes[at + 1]! + 2) >> 2;
  let o = 2;
  for (let i = 1; i < cw - 1; i++) {
    const v = planes[at + i]! * 3;
    out[o++] = (v + planes[at + i - 1]! + 1) >> 2;
    out[o++] = (v + planes[at + i + 1]! + 2) >> 2;
  }
  const last = at + cw - 1;
  out[o++] = (planes[last]! * 3 + planes[last - 1]! + 1) >> 2;
  out[o] = planes[last]!;
}
