/**
 * Embedded ICC profiles honoured: RGB matrix/TRC profiles (rXYZ/gXYZ/bXYZ + rTRC/gTRC/bTRC as
 * `curv` or `para`) and gray profiles (kTRC) are converted to sRGB in place: each channel through
 * its curve to linear, the 3×3 matrix to XYZ (D50 PCS), sRGB's inverse matrix, the sRGB curve.
 * A profile that is sRGB within rounding is left alone. CMYK JPEGs never come here: their inks
 * are decoded and converted by cmyk.ts and icc-lut.ts; any other profile is reported `ignored`.
 */
import type { RgbaImage } from '../kernels/resize.js';
import { linearToSrgb, SRGB_TO_XYZ_D50, srgbToLinear } from './icc-srgb.js';
import { invert3, multiply3 } from './matrix3.js';

type Curve = (v: number) => number;

interface Profile {
  space: string;
  tags: Map<string, Uint8Array>;
}

function parse(icc: Uint8Array): Profile | undefined {
  if (icc.length < 132) return undefined;
  const v = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const sig = (at: number) => String.fromCharCode(...icc.subarray(at, at + 4));
  if (sig(36) !== 'acsp') return undefined;
  const count = v.getUint32(128);
  const tags = new Map<string, Uint8Array>();
  for (let i = 0; i < count && 132 + i * 12 + 12 <= icc.length; i++) {
    const e = 132 + i * 12;
    const offset = v.getUint32(e + 4);
    const size = v.getUint32(e + 8);
    if (offset + size <= icc.length) tags.set(sig(e), icc.subarray(offset, offset + size));
  }
  return { space: sig(16), tags };
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function readXyz(b: Uint8Array | undefined): [number, number, number] | undefined {
  if (!b || b.length < 20) return undefined;
  const v = view(b);
  return [v.getInt32(8) / 65536, v.getInt32(12) / 65536, v.getInt32(16) / 65536];
}

/** `curv` (identity, gamma or table) and `para` (ICC parametric types 0–4). */
function readCurve(b: Uint8Array | undefined): Curve | undefined {
  if (!b || b.length < 12) return undefined;
  const v = view(b);
  const type = String.fromCharCode(...b.subarray(0, 4));
  if (type === 'curv') {
    const n = v.getUint32(8);
    if (n === 0) return (x) => x;
    if (n === 1) {
      const gamma = v.getUint16(12) / 256;
      return (x) => x ** gamma;
    }
    if (b.length < 12 + n * 2) return undefined;
    const table = new Float64Array(n);
    for (let i = 0; i < n; i++) table[i] = v.getUint16(12 + i * 2) / 65535;
    return (x) => {
      const p = Math.min(1, Math.max(0, x)) * (n - 1);
      const i = Math.min(n - 2, Math.floor(p));
      return table[i]! + (table[i + 1]! - table[i]!) * (p - i);
    };
  }
  if (type === 'para') {
    const fn = v.getUint16(8);
    const counts = [1, 3, 4, 5, 7];
    const k = counts[fn];
    if (k === undefined || b.length < 12 + k * 4) return undefined;
    const p = Array.from({ length: k }, (_, i) => v.getInt32(12 + i * 4) / 65536);
    const [g, a = 1, bb = 0, c = 0, d = 0, e = 0, f = 0] = p as [number, ...number[]];
    switch (fn) {
      case 0:
        return (x) => x ** g;
      case 1:
        return (x) => (x >= -bb / a ? (a * x + bb) ** g : 0);
      case 2:
        return (x) => (x >= -bb / a ? (a * x + bb) ** g + c : c);
      case 3:
        return (x) => (x >= d ? (a * x + bb) ** g : c * x);
      default:
        return (x) => (x >= d ? (a * x + bb) ** g + e : c * x + f);
    }
  }
  return undefined;
}

export type IccOutcome = 'srgb' | 'converted' | 'ignored';

/** Converts `img` (RGBA8, in place) from the embedded profile to sRGB; `img` is asked for only if its pixels change. */
export function convertToSrgb(img: () => RgbaImage, icc: Uint8Array): IccOutcome {
  const profile = parse(icc);
  if (!profile) return 'ignored';
  if (profile.space === 'GRAY') {
    const k = readCurve(profile.tags.get('kTRC'));
    if (!k) return 'ignored';
    return applyLuts(img, [k, k, k], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  }
  if (profile.space !== 'RGB ') return 'ignored';
  const r = readXyz(profile.tags.get('rXYZ'));
  const g = readXyz(profile.tags.get('gXYZ'));
  const b = readXyz(profile.tags.get('bXYZ'));
  const curves = ['rTRC', 'gTRC', 'bTRC'].map((t) => readCurve(profile.tags.get(t)));
  if (!r || !g || !b || curves.some((c) => !c)) return 'ignored';
  const toXyz = [r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]];
  const m = multiply3(invert3(SRGB_TO_XYZ_D50), toXyz);
  return applyLuts(img, curves as Curve[], m);
}

function applyLuts(img: () => RgbaImage, curves: Curve[], m: number[]): IccOutcome {
  const decode = curves.map((curve) => Float32Array.from({ length: 256 }, (_, i) => curve(i / 255)));
  const identity = m.every((v, i) => Math.abs(v - (i % 4 === 0 ? 1 : 0)) < 0.002);
  const srgbLike = decode.every((lut) => lut.every((v, i) => Math.abs(v - srgbToLinear(i / 255)) < 0.002));
  if (identity && srgbLike) return 'srgb';
  const ENC = 4096;
  const encode = Uint8Array.from({ length: ENC + 1 }, (_, i) => Math.round(linearToSrgb(i / ENC) * 255));
  const [dr, dg, db] = decode as [Float32Array, Float32Array, Float32Array];
  const d = img().data;
  const clampIdx = (v: number) => (v <= 0 ? 0 : v >= 1 ? ENC : Math.round(v * ENC));
  for (let i = 0; i < d.length; i += 4) {
    const R = dr[d[i]!]!;
    const G = dg[d[i + 1]!]!;
    const B = db[d[i + 2]!]!;
    d[i] = encode[clampIdx(m[0]! * R + m[1]! * G + m[2]! * B)]!;
    d[i + 1] = encode[clampIdx(m[3]! * R + m[4]! * G + m[5]! * B)]!;
    d[i + 2] = encode[clampIdx(m[6]! * R + m[7]! * G + m[8]! * B)]!;
  }
  return 'converted';
}
