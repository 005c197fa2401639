/**
 * Small writers for hostile and unusual image files, built byte by byte so each test says exactly
 * what the file holds: PNG chunks, zlib streams of repeated data (bombs without the memory),
 * TIFF IFD chains (SubIFDs, pages), ICC profiles with CLUT tables, ISO BMFF `ftyp` boxes.
 */
import { crc32, deflateRawSync, constants as zlibConstants } from 'node:zlib';

export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const be32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);

// ---------------------------------------------------------------------------------------------
// zlib

const MOD_ADLER = 65521;

function adler32(data: Uint8Array, start = 1): number {
  let a = start & 0xffff;
  let b = start >>> 16;
  for (let i = 0; i < data.length; ) {
    const end = Math.min(data.length, i + 3800);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= MOD_ADLER;
    b %= MOD_ADLER;
  }
  return ((b << 16) | a) >>> 0;
}

/** zlib's adler32_combine: the checksum of A‖B from those of A and B and B's length. */
function adlerCombine(a1: number, a2: number, len2: number): number {
  const rem = len2 % MOD_ADLER;
  const s1 = a1 & 0xffff;
  let sum1 = s1 + (a2 & 0xffff) + MOD_ADLER - 1;
  let sum2 = ((rem * s1) % MOD_ADLER) + (a1 >>> 16) + (a2 >>> 16) + MOD_ADLER - rem;
  sum1 %= MOD_ADLER;
  sum2 %= MOD_ADLER;
  return ((sum2 << 16) | sum1) >>> 0;
}

/**
 * A zlib stream that inflates to `prefix` then `unit` repeated `times` times. Each part is
 * deflated on its own and ends byte-aligned (full flush, no back-references across parts), so
 * one compressed unit can be repeated: a 1 GiB bomb costs ~1 MB to write and no more to hold.
 */
export function zlibRepeated(unit: Uint8Array, times: number, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  const flushed = (data: Uint8Array) => new Uint8Array(deflateRawSync(data, { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH }));
  const parts: Uint8Array[] = [Uint8Array.of(0x78, 0xda)];
  let adler = 1;
  if (prefix.length > 0) {
    parts.push(flushed(prefix));
    adler = adler32(prefix);
  }
  const packed = flushed(unit);
  const unitAdler = adler32(unit);
  for (let i = 0; i < times; i++) {
    parts.push(packed);
    adler = adlerCombine(adler, unitAdler, unit.length);
  }
  parts.push(Uint8Array.of(0x03, 0x00), be32(adler)); // final empty fixed block
  return concat(parts);
}

// ---------------------------------------------------------------------------------------------
// PNG

export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat([ascii(type), data]);
  return concat([be32(data.length), body, be32(crc32(body))]);
}

export interface PngParts {
  width: number;
  height: number;
  /** Colour type 2 (RGB) by default; 0 grey, 6 RGBA. */
  colorType?: 0 | 2 | 6;
  /** 8 by default. */
  bitDepth?: 8 | 16;
  /** Chunks between IHDR and IDAT. */
  before?: Uint8Array[];
  /** Chunks between IDAT and IEND. */
  after?: Uint8Array[];
  /** The zlib stream of the filtered rows; default: rows of a horizontal ramp. */
  idat?: Uint8Array;
}

const PNG_CHANNELS = { 0: 1, 2: 3, 6: 4 } as const;

export function pngFile(p: PngParts): Uint8Array {
  const colorType = p.colorType ?? 2;
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, p.width);
  v.setUint32(4, p.height);
  const bitDepth = p.bitDepth ?? 8;
  ihdr[8] = bitDepth;
  ihdr[9] = colorType;
  return concat([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk('IHDR', ihdr),
    ...(p.before ?? []),
    pngChunk('IDAT', p.idat ?? rampRows(p.width, p.height, (PNG_CHANNELS[colorType] * bitDepth) / 8)),
    ...(p.after ?? []),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** The zlib stream of `height` identical filtered rows of a ramp (filter byte 0), `channels` bytes per pixel. */
export function rampRows(width: number, height: number, channels: number): Uint8Array {
  const row = new Uint8Array(1 + width * channels);
  for (let x = 0; x < width * channels; x++) row[1 + x] = (x * 7) & 255;
  // Rows grouped so each repeated unit is ~1 MB at most.
  const perUnit = Math.max(1, Math.min(height, Math.floor((1 << 20) / row.length)));
  let units = Math.floor(height / perUnit);
  let rest = height - units * perUnit;
  if (rest === 0 && units > 0) {
    units--;
    rest = perUnit;
  }
  const block = new Uint8Array(row.length * perUnit);
  for (let r = 0; r < perUnit; r++) block.set(row, r * row.length);
  const prefix = block.subarray(0, rest * row.length);
  return zlibRepeated(block, units, prefix);
}

/** An iCCP chunk: profile name, compression method 0, the zlib stream. */
export function iccpChunk(zlibStream: Uint8Array, name = 'icc'): Uint8Array {
  return pngChunk('iCCP', concat([ascii(`${name}\0`), Uint8Array.of(0), zlibStream]));
}

// ---------------------------------------------------------------------------------------------
// TIFF (little-endian)

export interface TiffEntry {
  tag: number;
  /** 3 SHORT, 4 LONG, 13 IFD. */
  type: 3 | 4 | 13;
  /** Values; or a reference to another IFD (by index) or a blob (by index), resolved to its offset. */
  values: Array<number | { ifd: number } | { blob: number }>;
}

export interface TiffIfd {
  entries: TiffEntry[];
  /** Index of the IFD chained after this one (the next page), if any. */
  next?: number;
}

/**
 * Lays out `blobs` (strip data, profiles) after the header, then the IFDs; entries may point at
 * either by index. IFD 0 is the first one the header names.
 */
export function tiffFile(ifds: TiffIfd[], blobs: Uint8Array[]): Uint8Array {
  let at = 8;
  const blobAt = blobs.map((b) => {
    const here = at;
    at += b.length + (b.length & 1);
    return here;
  });
  const ifdAt = ifds.map((ifd) => {
    const here = at;
    const outOfLine = ifd.entries.reduce((n, e) => n + (e.values.length * (e.type === 3 ? 2 : 4) > 4 ? e.values.length * (e.type === 3 ? 2 : 4) : 0), 0);
    at += 2 + ifd.entries.length * 12 + 4 + outOfLine;
    at += at & 1;
    return here;
  });
  const out = new Uint8Array(at);
  const v = new DataView(out.buffer);
  out.set(ascii('II*\0'));
  v.setUint32(4, ifdAt[0]!, true);
  blobs.forEach((b, i) => {
    out.set(b, blobAt[i]);
  });
  const resolve = (x: number | { ifd: number } | { blob: number }) => (typeof x === 'number' ? x : 'ifd' in x ? ifdAt[x.ifd]! : blobAt[x.blob]!);
  ifds.forEach((ifd, i) => {
    let p = ifdAt[i]!;
    const entries = [...ifd.entries].sort((a, b) => a.tag - b.tag);
    v.setUint16(p, entries.length, true);
    let extra = p + 2 + entries.length * 12 + 4;
    p += 2;
    for (const e of entries) {
      const size = e.type === 3 ? 2 : 4;
      v.setUint16(p, e.tag, true);
      v.setUint16(p + 2, e.type, true);
      v.setUint32(p + 4, e.values.length, true);
      let dst = p + 8;
      if (e.values.length * size > 4) {
        v.setUint32(p + 8, extra, true);
        dst = extra;
        extra += e.values.length * size;
      }
      e.values.forEach((x, k) => {
        if (size === 2) v.setUint16(dst + k * 2, resolve(x), true);
        else v.setUint32(dst + k * 4, resolve(x), true);
      });
      p += 12;
    }
    v.setUint32(p, ifd.next === undefined ? 0 : ifdAt[ifd.next]!, true);
  });
  return out;
}

/** The entries of one 8-bit grey strip of `width` × `height`, Deflate-compressed, in blob `blob`. */
export function greyImageEntries(width: number, height: number, blob: number, blobBytes: number): TiffEntry[] {
  return [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: [8] },
    { tag: 259, type: 3, values: [8] }, // Deflate
    { tag: 262, type: 3, values: [1] }, // BlackIsZero
    { tag: 273, type: 4, values: [{ blob }] },
    { tag: 277, type: 3, values: [1] },
    { tag: 278, type: 4, values: [height] },
    { tag: 279, type: 4, values: [blobBytes] },
  ];
}

/** The zlib stream of a `width` × `height` 8-bit grey picture of one level. */
export function greyStrip(width: number, height: number, level = 128): Uint8Array {
  const rowsPerUnit = Math.max(1, Math.min(height, Math.floor((1 << 20) / width)));
  const unit = new Uint8Array(width * rowsPerUnit).fill(level);
  const units = Math.floor(height / rowsPerUnit);
  return zlibRepeated(unit, units, new Uint8Array(width * (height - units * rowsPerUnit)).fill(level));
}

// ---------------------------------------------------------------------------------------------
// ICC

/** An ICC profile of `space` (e.g. 'CMYK', 'RGB ') holding the given tags, PCS Lab. */
export function iccProfile(space: string, tags: Array<[string, Uint8Array]>): Uint8Array {
  const table = 4 + tags.length * 12;
  let at = 128 + table;
  const placed = tags.map(([sig, data]) => {
    const here = at;
    at += Math.ceil(data.length / 4) * 4;
    return { sig, data, at: here };
  });
  const out = new Uint8Array(at);
  const v = new DataView(out.buffer);
  v.setUint32(0, at);
  v.setUint32(8, 0x02100000);
  out.set(ascii('prtr'), 12);
  out.set(ascii(space.padEnd(4)), 16);
  out.set(ascii('Lab '), 20);
  out.set(ascii('acsp'), 36);
  v.setUint32(128, tags.length);
  placed.forEach((t, i) => {
    out.set(ascii(t.sig), 132 + i * 12);
    v.setUint32(136 + i * 12, t.at);
    v.setUint32(140 + i * 12, t.data.length);
    out.set(t.data, t.at);
  });
  return out;
}

/**
 * The head of an `mft2` (lut16) tag of 4 inputs and 3 outputs claiming a CLUT of `grid` points per
 * input, followed by `tableBytes` of table data (the honest size is much larger).
 */
export function mft2Head(grid: number, tableBytes: number): Uint8Array {
  const out = new Uint8Array(52 + tableBytes);
  const v = new DataView(out.buffer);
  out.set(ascii('mft2'));
  out[8] = 4;
  out[9] = 3;
  out[10] = grid;
  for (const i of [0, 4, 8]) v.setInt32(12 + i * 4, 65536); // identity matrix
  v.setUint16(48, 2);
  v.setUint16(50, 2);
  return out;
}

/** The head of an `mft1` (lut8) tag of 4 inputs and 3 outputs claiming `grid` points per input. */
export function mft1Head(grid: number, tableBytes: number): Uint8Array {
  const out = new Uint8Array(48 + tableBytes);
  const v = new DataView(out.buffer);
  out.set(ascii('mft1'));
  out[8] = 4;
  out[9] = 3;
  out[10] = grid;
  for (const i of [0, 4, 8]) v.setInt32(12 + i * 4, 65536);
  return out;
}

/** The head of an `mAB ` tag (4 → 3) with only a CLUT of `grid` points per input. */
export function mabHead(grid: number, tableBytes: number, precision: 1 | 2 = 2): Uint8Array {
  const out = new Uint8Array(32 + 20 + tableBytes);
  const v = new DataView(out.buffer);
  out.set(ascii('mAB '));
  out[8] = 4;
  out[9] = 3;
  v.setUint32(24, 32); // CLUT offset
  out.fill(grid, 32, 36);
  out[48] = precision;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Other signatures

/** An ISO BMFF file start: an `ftyp` box with the major brand and compatible brands. */
export function ftyp(major: string, compatible: string[]): Uint8Array {
  const box = concat([ascii('ftyp'), ascii(major), new Uint8Array(4), ...compatible.map(ascii)]);
  return concat([be32(box.length + 4), box, be32(8), ascii('free')]);
}

// ---------------------------------------------------------------------------------------------
// JPEG scans

export interface JpegParts {
  /** SOI up to the first SOS. */
  head: Uint8Array;
  /** Each scan: its SOS segment and entropy-coded data, with any tables between scans. */
  scans: Uint8Array[];
  /** EOI. */
  tail: Uint8Array;
}

/** Splits a JPEG (one image) into the part before its first scan, its scans and EOI. */
export function jpegScans(file: Uint8Array): JpegParts {
  const sos: number[] = [];
  let at = 2;
  let eoi = -1;
  while (eoi < 0) {
    const marker = file[at + 1]!;
    if (marker === 0xd9) eoi = at;
    else if (marker === 0xda) {
      sos.push(at);
      at += 2 + ((file[at + 2]! << 8) | file[at + 3]!);
      // Skip the entropy-coded data: to the next 0xFF not followed by 0x00 or RSTn.
      while (!(file[at] === 0xff && file[at + 1] !== 0 && !(file[at + 1]! >= 0xd0 && file[at + 1]! <= 0xd7))) at++;
    } else at += 2 + ((file[at + 2]! << 8) | file[at + 3]!);
  }
  // Tables between scans stay with the scan that follows them.
  const bounds = [...sos.slice(1).map((s, i) => tablesStart(file, sos[i]!, s)), eoi];
  return {
    head: file.subarray(0, sos[0]!),
    scans: sos.map((s, i) => file.subarray(i === 0 ? s : bounds[i - 1]!, bounds[i]!)),
    tail: file.subarray(eoi),
  };
}

/** Where the segments before the SOS at `next` start (the end of the previous scan's data). */
function tablesStart(file: Uint8Array, prev: number, next: number): number {
  let at = prev + 2 + ((file[prev + 2]! << 8) | file[prev + 3]!);
  while (!(file[at] === 0xff && file[at + 1] !== 0 && !(file[at + 1]! >= 0xd0 && file[at + 1]! <= 0xd7))) at++;
  return Math.min(at, next);
}
