/**
 * CMYK → sRGB through an ICC profile's A2B0 table (perceptual intent): `mft2` (lut16), `mft1`
 * (lut8) or `mAB ` (v4: B curves, matrix, M curves, CLUT, A curves, applied A → CLUT → M →
 * matrix → B). The PCS result (Lab or XYZ, D50) goes to linear sRGB and through the sRGB curve.
 * Without a usable profile the inks are mixed naively: R = (1 − C)(1 − K), as decoders do.
 */
import { D50, linearToSrgb, SRGB_TO_XYZ_D50 } from './icc-srgb.js';
import { invert3 } from './matrix3.js';

type Curve = (v: number) => number;

interface Pipeline {
  inputCurves: Curve[];
  /** Grid points per input dimension, 4 inputs. */
  grid: number[];
  /** CLUT outputs, normalised 0..1, 3 per grid point, first input varying slowest. */
  clut: Float32Array;
  /** After the CLUT (mAB: M curves, matrix, B curves; lut: output curves). */
  post: (v: [number, number, number]) => [number, number, number];
  /** Turns the normalised PCS values into XYZ (D50). */
  toXyz: (v: [number, number, number]) => [number, number, number];
}

const sig = (b: Uint8Array, at: number) => String.fromCharCode(...b.subarray(at, at + 4));

/**
 * Every size a table declares is checked against the bytes the tag holds before anything is
 * allocated: a 4-input CLUT of g points per input is g⁴ × 3 values, so a few bytes claiming
 * g = 100 would otherwise cost 1.2 GB. A tag that does not hold what it declares is unreadable,
 * and an unreadable profile is treated as absent.
 */
function need(b: Uint8Array, end: number, what: string): void {
  if (!(end <= b.length)) throw new Error(`${what} needs ${end} bytes, the tag has ${b.length}`);
}

function tags(icc: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const out = new Map<string, Uint8Array>();
  const count = v.getUint32(128);
  for (let i = 0; i < count && 144 + i * 12 <= icc.length; i++) {
    const e = 132 + i * 12;
    const offset = v.getUint32(e + 4);
    const size = v.getUint32(e + 8);
    if (offset + size <= icc.length) out.set(sig(icc, e), icc.subarray(offset, offset + size));
  }
  return out;
}

function tableCurve(table: Float32Array): Curve {
  const n = table.length;
  if (n === 0) return (x) => x;
  if (n === 1) return (x) => x;
  return (x) => {
    const p = Math.min(1, Math.max(0, x)) * (n - 1);
    const i = Math.min(n - 2, Math.floor(p));
    return table[i]! + (table[i + 1]! - table[i]!) * (p - i);
  };
}

/** A `curv` or `para` element inside an mAB; returns the curve and its padded byte length. */
function readCurveAt(b: Uint8Array, at: number): { curve: Curve; size: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  need(b, at + 12, 'a curve');
  const type = sig(b, at);
  if (type === 'curv') {
    const n = v.getUint32(at + 8);
    need(b, at + 12 + 2 * n, `a curve of ${n} entries`);
    const size = Math.ceil((12 + 2 * n) / 4) * 4;
    if (n === 0) return { curve: (x) => x, size };
    if (n === 1) {
      const g = v.getUint16(at + 12) / 256;
      return { curve: (x) => Math.max(0, x) ** g, size };
    }
    const t = new Float32Array(n);
    for (let i = 0; i < n; i++) t[i] = v.getUint16(at + 12 + 2 * i) / 65535;
    return { curve: tableCurve(t), size };
  }
  if (type === 'para') {
    const fn = v.getUint16(at + 8);
    const k = [1, 3, 4, 5, 7][fn];
    if (k === undefined) throw new Error(`parametric curve type ${fn}`);
    need(b, at + 12 + 4 * k, 'a parametric curve');
    const p = Array.from({ length: k }, (_, i) => v.getInt32(at + 12 + 4 * i) / 65536);
    const [g, a = 1, c0 = 0, c = 0, d = 0, e = 0, f = 0] = p as [number, ...number[]];
    const size = Math.ceil((12 + 4 * k) / 4) * 4;
    const pw = (x: number) => (x > 0 ? x ** g : 0);
    const curves: Curve[] = [
      (x) => pw(x),
      (x) => (x >= -c0 / a ? pw(a * x + c0) : 0),
      (x) => (x >= -c0 / a ? pw(a * x + c0) + c : c),
      (x) => (x >= d ? pw(a * x + c0) : c * x),
      (x) => (x >= d ? pw(a * x + c0) + e : c * x + f),
    ];
    return { curve: curves[fn]!, size };
  }
  throw new Error(`unsupported curve type ${type}`);
}

function labToXyz(L: number, a: number, b: number): [number, number, number] {
  const fy = (L + 16) / 116;
  const fx = fy + a / 500;
  const fz = fy - b / 200;
  const inv = (t: number) => (t > 6 / 29 ? t ** 3 : 3 * (6 / 29) ** 2 * (t - 4 / 29));
  return [D50[0]! * inv(fx), D50[1]! * inv(fy), D50[2]! * inv(fz)];
}

function parseLut(b: Uint8Array, pcs: string): Pipeline {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const wide = sig(b, 0) === 'mft2';
  need(b, wide ? 52 : 48, 'a lut header');
  const inputs = b[8]!;
  const outputs = b[9]!;
  const points = b[10]!;
  if (inputs !== 4 || outputs !== 3) throw new Error(`lut with ${inputs} → ${outputs} channels`);
  let at = 48;
  const inN = wide ? v.getUint16(48) : 256;
  const outN = wide ? v.getUint16(50) : 256;
  if (wide) at = 52;
  if (points < 2 || inN < 2 || outN < 2) throw new Error(`lut of ${points} grid points, ${inN} and ${outN} curve entries`);
  const unit = wide ? 2 : 1;
  need(b, at + (inputs * inN + points ** inputs * outputs + outputs * outN) * unit, `a lut of ${points}⁴ grid points`);
  const read = () => {
    const value = wide ? v.getUint16(at) / 65535 : b[at]! / 255;
    at += wide ? 2 : 1;
    return value;
  };
  const inputCurves = Array.from({ length: inputs }, () => tableCurve(Float32Array.from({ length: inN }, read)));
  const clut = new Float32Array(points ** inputs * outputs);
  for (let i = 0; i < clut.length; i++) clut[i] = read();
  const outCurves = Array.from({ length: outputs }, () => tableCurve(Float32Array.from({ length: outN }, read)));
  return {
    inputCurves,
    grid: [points, points, points, points],
    clut,
    post: ([x, y, z]) => [outCurves[0]!(x), outCurves[1]!(y), outCurves[2]!(z)],
    toXyz:
      pcs === 'Lab '
        ? wide
          ? ([L, a, bb]) => labToXyz((L * 65535 * 100) / 65280, (a * 65535) / 256 - 128, (bb * 65535) / 256 - 128)
          : ([L, a, bb]) => labToXyz(L * 100, a * 255 - 128, bb * 255 - 128)
        : ([x, y, z]) => [(x * 65535) / 32768, (y * 65535) / 32768, (z * 65535) / 32768],
  };
}

function parseMab(b: Uint8Array, pcs: string): Pipeline {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const inputs = b[8]!;
  const outputs = b[9]!;
  if (inputs !== 4 || outputs !== 3) throw new Error(`mAB with ${inputs} → ${outputs} channels`);
  need(b, 32, 'an mAB header');
  const [offB, offMatrix, offM, offClut, offA] = [12, 16, 20, 24, 28].map((o) => v.getUint32(o)) as [number, number, number, number, number];
  const curves = (at: number, n: number): Curve[] => {
    const out: Curve[] = [];
    for (let i = 0; i < n; i++) {
      const c = readCurveAt(b, at);
      out.push(c.curve);
      at += c.size;
    }
    return out;
  };
  const identity: Curve = (x) => x;
  const bCurves = offB ? curves(offB, 3) : [identity, identity, identity];
  const mCurves = offM ? curves(offM, 3) : [identity, identity, identity];
  const aCurves = offA ? curves(offA, 4) : [identity, identity, identity, identity];
  if (offMatrix) need(b, offMatrix + 48, 'a matrix');
  const matrix = offMatrix ? Array.from({ length: 12 }, (_, i) => v.getInt32(offMatrix + 4 * i) / 65536) : undefined;
  if (!offClut) throw new Error('mAB without a CLUT');
  need(b, offClut + 20, 'a CLUT header');
  const grid = Array.from({ length: 4 }, (_, i) => b[offClut + i]!);
  const precision = b[offClut + 16]!;
  if (grid.some((g) => g === 0) || (precision !== 1 && precision !== 2)) throw new Error(`CLUT of ${grid.join('×')} points, precision ${precision}`);
  const count = grid.reduce((n, g) => n * g, 1) * 3;
  need(b, offClut + 20 + count * precision, `a CLUT of ${grid.join('×')} points`);
  const clut = new Float32Array(count);
  for (let i = 0; i < count; i++) clut[i] = precision === 2 ? v.getUint16(offClut + 20 + 2 * i) / 65535 : b[offClut + 20 + i]! / 255;
  return {
    inputCurves: aCurves,
    grid,
    clut,
    post: ([x, y, z]) => {
      let r: [number, number, number] = [mCurves[0]!(x), mCurves[1]!(y), mCurves[2]!(z)];
      if (matrix) {
        const m = matrix;
        r = [
          m[0]! * r[0] + m[1]! * r[1] + m[2]! * r[2] + m[9]!,
          m[3]! * r[0] + m[4]! * r[1] + m[5]! * r[2] + m[10]!,
          m[6]! * r[0] + m[7]! * r[1] + m[8]! * r[2] + m[11]!,
        ];
      }
      return [bCurves[0]!(r[0]), bCurves[1]!(r[1]), bCurves[2]!(r[2])];
    },
    toXyz:
      pcs === 'Lab '
        ? ([L, a, bb]) => labToXyz(L * 100, a * 255 - 128, bb * 255 - 128)
        : ([x, y, z]) => [(x * 65535) / 32768, (y * 65535) / 32768, (z * 65535) / 32768],
  };
}

/** Quadrilinear interpolation in a 4-D grid of 3-vectors. */
function interpolate(p: Pipeline, input: number[], out: Float64Array): void {
  const { grid, clut } = p;
  const idx = [0, 0, 0, 0];
  const frac = [0, 0, 0, 0];
  for (let d = 0; d < 4; d++) {
    const g = grid[d]! - 1;
    const x = Math.min(1, Math.max(0, input[d]!)) * g;
    const i = Math.min(g - 1, Math.floor(x));
    idx[d] = Math.max(0, i);
    frac[d] = g === 0 ? 0 : x - idx[d]!;
  }
  const stride = [grid[1]! * grid[2]! * grid[3]! * 3, grid[2]! * grid[3]! * 3, grid[3]! * 3, 3];
  out.fill(0);
  for (let corner = 0; corner < 16; corner++) {
    let w = 1;
    let offset = 0;
    for (let d = 0; d < 4; d++) {
      const hi = (corner >> (3 - d)) & 1;
      w *= hi ? frac[d]! : 1 - frac[d]!;
      offset += (idx[d]! + (grid[d]! > 1 ? hi : 0)) * stride[d]!;
    }
    if (w === 0) continue;
    out[0]! += w * clut[offset]!;
    out[1]! += w * clut[offset + 1]!;
    out[2]! += w * clut[offset + 2]!;
  }
}

function loadPipeline(icc: Uint8Array): Pipeline | undefined {
  if (icc.length < 132 || sig(icc, 36) !== 'acsp' || sig(icc, 16) !== 'CMYK') return undefined;
  const pcs = sig(icc, 20);
  const a2b0 = tags(icc).get('A2B0');
  if (!a2b0) return undefined;
  try {
    const type = sig(a2b0, 0);
    if (type === 'mft2' || type === 'mft1') return parseLut(a2b0, pcs);
    if (type === 'mAB ') return parseMab(a2b0, pcs);
  } catch {
    // A profile we cannot read is treated as absent.
  }
  return undefined;
}

/**
 * Writes sRGB RGBA8 for `pixels` CMYK ink values (0 = no ink, 255 = full) given as four planes.
 * Returns whether the profile was used ('converted') or the naive mix ('ignored').
 */
export function cmykToSrgb(planes: Uint8Array[], pixels: number, icc: Uint8Array | undefined, out: Uint8Array): 'converted' | 'ignored' {
  const pipeline = icc ? loadPipeline(icc) : undefined;
  const [c, m, y, k] = planes as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  if (!pipeline) {
    for (let i = 0; i < pixels; i++) {
      const white = 255 - k[i]!;
      out[i * 4] = Math.round(((255 - c[i]!) * white) / 255);
      out[i * 4 + 1] = Math.round(((255 - m[i]!) * white) / 255);
      out[i * 4 + 2] = Math.round(((255 - y[i]!) * white) / 255);
      out[i * 4 + 3] = 255;
    }
    return 'ignored';
  }
  const toSrgb = invert3(SRGB_TO_XYZ_D50);
  const ENC = 4096;
  const encode = Uint8Array.from({ length: ENC + 1 }, (_, i) => Math.round(linearToSrgb(i / ENC) * 255));
  const index = (v: number) => (v <= 0 ? 0 : v >= 1 ? ENC : Math.round(v * ENC));
  const curves = pipeline.inputCurves.map((curve) => Float32Array.from({ length: 256 }, (_, i) => curve(i / 255)));
  // Print artwork repeats ink combinations (flat fills, text); converting each once pays off.
  const cache = new Map<number, number>();
  const acc = new Float64Array(3);
  const input = [0, 0, 0, 0];
  // Black point compensation (as lcms does it, in XYZ): the darkest the inks reach maps to sRGB
  // black, so shadows keep their detail instead of turning into a lifted grey.
  interpolate(
    pipeline,
    pipeline.inputCurves.map((curve) => curve(1)),
    acc,
  );
  const black = pipeline.toXyz(pipeline.post([acc[0]!, acc[1]!, acc[2]!]));
  const bpc = black.map((b, i) => ({ offset: b, scale: D50[i]! / (D50[i]! - b) }));
  for (let i = 0; i < pixels; i++) {
    const key = ((c[i]! << 24) | (m[i]! << 16) | (y[i]! << 8) | k[i]!) >>> 0;
    let rgb = cache.get(key);
    if (rgb === undefined) {
      input[0] = curves[0]![c[i]!]!;
      input[1] = curves[1]![m[i]!]!;
      input[2] = curves[2]![y[i]!]!;
      input[3] = curves[3]![k[i]!]!;
      interpolate(pipeline, input, acc);
      const pcs = pipeline.toXyz(pipeline.post([acc[0]!, acc[1]!, acc[2]!]));
      const [X, Y, Z] = pcs.map((v, ch) => (v - bpc[ch]!.offset) * bpc[ch]!.scale) as [number, number, number];
      const r = encode[index(toSrgb[0]! * X + toSrgb[1]! * Y + toSrgb[2]! * Z)]!;
      const g = encode[index(toSrgb[3]! * X + toSrgb[4]! * Y + toSrgb[5]! * Z)]!;
      const b = encode[index(toSrgb[6]! * X + toSrgb[7]! * Y + toSrgb[8]! * Z)]!;
      rgb = (r << 16) | (g << 8) | b;
      if (cache.size < 1 << 20) cache.set(key, rgb);
    }
    out[i * 4] = rgb >> 16;
    out[i * 4 + 1] = (rgb >> 8) & 255;
    out[i * 4 + 2] = rgb & 255;
    out[i * 4 + 3] = 255;
  }
  return 'converted';
}
