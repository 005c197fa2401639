/**
 * The sRGB colour space as numbers, and a small ICC v2 matrix/TRC profile built from them, written
 * into outputs that keep metadata so readers see what the pixels are.
 */

/** sRGB primaries adapted to the D50 PCS (Bradford), columns r, g, b: linear sRGB → XYZ(D50). */
export const SRGB_TO_XYZ_D50: readonly number[] = Object.freeze([
  0.4360747, 0.3850649, 0.1430804, 0.2225045, 0.7168786, 0.0606169, 0.0139322, 0.0971045, 0.7141733,
]);

export const D50 = Object.freeze([0.9642, 1.0, 0.8249]);

export function srgbToLinear(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

export function linearToSrgb(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
}

let cached: Uint8Array | undefined;

export function srgbProfile(): Uint8Array {
  cached ??= buildProfile();
  return cached;
}

function buildProfile(): Uint8Array {
  const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const s15 = (v: number) => Math.round(v * 65536);
  const xyz = (x: number, y: number, z: number) => {
    const b = new DataView(new ArrayBuffer(20));
    b.setUint32(0, 0x58595a20); // 'XYZ '
    b.setInt32(8, s15(x));
    b.setInt32(12, s15(y));
    b.setInt32(16, s15(z));
    return new Uint8Array(b.buffer);
  };
  const curve = (() => {
    const n = 1024;
    const b = new DataView(new ArrayBuffer(12 + n * 2));
    b.setUint32(0, 0x63757276); // 'curv'
    b.setUint32(8, n);
    for (let i = 0; i < n; i++) b.setUint16(12 + i * 2, Math.round(srgbToLinear(i / (n - 1)) * 65535));
    return new Uint8Array(b.buffer);
  })();
  const description = (() => {
    const name = 'sRGB (sandcodec)';
    const b = new DataView(new ArrayBuffer(12 + name.length + 1 + 8 + 3 + 67));
    b.setUint32(0, 0x64657363); // 'desc'
    b.setUint32(8, name.length + 1);
    new Uint8Array(b.buffer).set(text(name), 12);
    return new Uint8Array(b.buffer);
  })();
  const copyright = new Uint8Array([...text('text\0\0\0\0'), ...text('No copyright, use freely\0')]);
  const m = SRGB_TO_XYZ_D50;
  const tags: Array<[string, Uint8Array]> = [
    ['desc', description],
    ['cprt', copyright],
    ['wtpt', xyz(D50[0]!, D50[1]!, D50[2]!)],
    ['rXYZ', xyz(m[0]!, m[3]!, m[6]!)],
    ['gXYZ', xyz(m[1]!, m[4]!, m[7]!)],
    ['bXYZ', xyz(m[2]!, m[5]!, m[8]!)],
    ['rTRC', curve],
  ];
  const shared: Array<[string, string]> = [
    ['gTRC', 'rTRC'],
    ['bTRC', 'rTRC'],
  ];
  const tableSize = 4 + (tags.length + shared.length) * 12;
  const offsets = new Map<string, [number, number]>();
  let at = 128 + tableSize;
  for (const [sig, data] of tags) {
    offsets.set(sig, [at, data.length]);
    at += Math.ceil(data.length / 4) * 4;
  }
  const out = new Uint8Array(at);
  const v = new DataView(out.buffer);
  v.setUint32(0, at);
  v.setUint32(8, 0x02100000); // version 2.1
  out.set(text('mntrRGB XYZ '), 12);
  v.setUint16(24, 2024);
  v.setUint16(26, 1);
  v.setUint16(28, 1);
  out.set(text('acsp'), 36);
  v.setInt32(68, s15(D50[0]!));
  v.setInt32(72, s15(D50[1]!));
  v.setInt32(76, s15(D50[2]!));
  v.setUint32(128, tags.length + shared.length);
  let entry = 132;
  const writeEntry = (sig: string, [offset, size]: [number, number]) => {
    out.set(text(sig), entry);
    v.setUint32(entry + 4, offset);
    v.setUint32(entry + 8, size);
    entry += 12;
  };
  for (const [sig, data] of tags) {
    const place = offsets.get(sig)!;
    writeEntry(sig, place);
    out.set(data, place[0]);
  }
  for (const [sig, same] of shared) writeEntry(sig, offsets.get(same)!);
  return out;
}
