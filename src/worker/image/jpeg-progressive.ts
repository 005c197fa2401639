/**
 * Progressive JPEG by lossless transcoding: FFmpeg 5.1's mjpeg encoder writes baseline only, so
 * its output is Huffman-decoded here to quantised DCT coefficients and written again as a
 * progressive (SOF2) file with spectral-selection scans — DC of every component first, then each
 * component's low and high AC bands — and optimal Huffman tables per scan. The coefficients do
 * not change, so the pixels decode exactly as the baseline file's do.
 */
import { InternalError } from '../../errors.js';
import { concatBytes } from '../../util/bytes.js';
import { codeLengths } from './huffman-lengths.js';

const ZIGZAG_LENGTH = 64;

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Blocks per row and rows of blocks as stored (padded to whole MCUs when interleaved). */
  bw: number;
  bh: number;
  /** Blocks that hold picture (what a single-component scan covers). */
  usedW: number;
  usedH: number;
  coefs: Int16Array;
}

interface HuffmanTable {
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

function buildDecoder(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    valptr[l] = k;
    mincode[l] = code;
    code += counts[l - 1]!;
    k += counts[l - 1]!;
    maxcode[l] = counts[l - 1]! ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, valptr, mincode, values };
}

class BitReader {
  private acc = 0;
  private bits = 0;
  /** Set when a marker (other than stuffing) was reached. */
  marker = -1;
  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  bit(): number {
    if (this.bits === 0) {
      let byte = 0;
      if (this.marker < 0 && this.pos < this.data.length) {
        byte = this.data[this.pos]!;
        if (byte === 0xff) {
          const next = this.data[this.pos + 1]!;
          if (next === 0) this.pos += 2;
          else {
            this.marker = next;
            byte = 0;
          }
        } else {
          this.pos++;
        }
      }
      this.acc = byte;
      this.bits = 8;
    }
    this.bits--;
    return (this.acc >> this.bits) & 1;
  }

  receive(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }

  decode(t: HuffmanTable): number {
    let code = this.bit();
    let l = 1;
    while (code > t.maxcode[l]!) {
      code = (code << 1) | this.bit();
      if (++l > 16) throw new InternalError('progressive JPEG: bad Huffman code in the baseline scan');
    }
    return t.values[t.valptr[l]! + code - t.mincode[l]!]!;
  }

  /** Skips to the byte after an RSTn marker. */
  restart(): void {
    this.bits = 0;
    const next = this.marker >= 0 ? this.marker : this.data[this.pos] === 0xff ? this.data[this.pos + 1]! : -1;
    if (next >= 0xd0 && next <= 0xd7) {
      this.pos += 2;
      this.marker = -1;
    }
  }
}

function extend(v: number, s: number): number {
  return s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
}

/** Collects symbol frequencies (first pass) or writes bits (second pass). */
class ScanWriter {
  private out: number[] = [];
  private acc = 0;
  private bits = 0;
  constructor(
    private readonly counting: boolean,
    private readonly freq: Uint32Array[],
    private readonly codes: Array<{ code: Uint32Array; size: Uint8Array }> = [],
  ) {}

  symbol(table: number, s: number): void {
    if (this.counting) {
      this.freq[table]![s]!++;
      return;
    }
    const t = this.codes[table]!;
    this.put(t.code[s]!, t.size[s]!);
  }

  put(value: number, n: number): void {
    if (this.counting || n === 0) return;
    for (let i = n - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.bits === 8) this.flushByte();
    }
  }

  private flushByte(): void {
    this.out.push(this.acc);
    if (this.acc === 0xff) this.out.push(0);
    this.acc = 0;
    this.bits = 0;
  }

  finish(): Uint8Array {
    if (!this.counting && this.bits > 0) {
      while (this.bits > 0) this.put(1, 1); // pad with ones
    }
    return Uint8Array.from(this.out);
  }
}

function nbits(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a) {
    n++;
    a >>= 1;
  }
  return n;
}

/** Magnitude bits of a coefficient: v itself, or v − 1 in s bits when negative. */
function magnitude(v: number, s: number): number {
  return v < 0 ? (v - 1) & ((1 << s) - 1) : v;
}

/**
 * JPEG Huffman table from frequencies (code lengths ≤ 16, the all-ones code left unused as the
 * standard requires): BITS and HUFFVAL for the DHT segment, and each symbol's code and size.
 */
function buildTable(freq: Uint32Array): { bits: Uint8Array; values: Uint8Array; code: Uint32Array; size: Uint8Array } {
  const symbols: number[] = [];
  for (let s = 0; s < 256; s++) if (freq[s]! > 0) symbols.push(s);
  if (symbols.length === 0) symbols.push(0);
  // A reserved dummy symbol (256) takes the longest code, which is then the all-ones one.
  const counts = [...symbols.map((s) => freq[s]! || 1), 1];
  const lengths = Array.from(codeLengths(counts, 16));
  const dummy = lengths.length - 1;
  const max = Math.max(...lengths);
  if (lengths[dummy]! < max) {
    const deepest = lengths.indexOf(max);
    [lengths[dummy], lengths[deepest]] = [lengths[deepest]!, lengths[dummy]!];
  }
  const order = symbols.map((s, i) => ({ s, l: lengths[i]! })).sort((a, b) => a.l - b.l || a.s - b.s);
  const bits = new Uint8Array(16);
  for (const { l } of order) bits[l - 1]!++;
  const code = new Uint32Array(256);
  const size = new Uint8Array(256);
  let c = 0;
  let prev = order[0]?.l ?? 1;
  for (const { s, l } of order) {
    c <<= l - prev;
    prev = l;
    code[s] = c++;
    size[s] = l;
  }
  return { bits, values: Uint8Array.from(order.map((o) => o.s)), code, size };
}

function segment(marker: number, body: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out[0] = 0xff;
  out[1] = marker;
  out[2] = (body.length + 2) >> 8;
  out[3] = (body.length + 2) & 255;
  out.set(body, 4);
  return out;
}

/** Re-encodes a baseline (SOF0/SOF1, Huffman) JPEG as progressive. */
export function toProgressive(jpeg: Uint8Array): Uint8Array {
  const keep: Uint8Array[] = [];
  const dc = new Map<number, HuffmanTable>();
  const ac = new Map<number, HuffmanTable>();
  let sof: { height: number; width: number; comps: Component[]; body: Uint8Array } | undefined;
  let restartInterval = 0;
  let at = 2;
  for (;;) {
    if (jpeg[at] !== 0xff) throw new InternalError('progressive JPEG: unexpected bytes between segments');
    const marker = jpeg[at + 1]!;
    const len = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    const body = jpeg.subarray(at + 4, at + 2 + len);
    if (marker === 0xc0 || marker === 0xc1) {
      const n = body[5]!;
      const comps: Component[] = [];
      for (let i = 0; i < n; i++)
        comps.push({
          id: body[6 + i * 3]!,
          h: body[7 + i * 3]! >> 4,
          v: body[7 + i * 3]! & 15,
          tq: body[8 + i * 3]!,
          bw: 0,
          bh: 0,
          usedW: 0,
          usedH: 0,
          coefs: new Int16Array(0),
        });
      sof = { height: (body[1]! << 8) | body[2]!, width: (body[3]! << 8) | body[4]!, comps, body };
    } else if (marker === 0xc4) {
      for (let p = 0; p < body.length; ) {
        const tc = body[p]! >> 4;
        const th = body[p]! & 15;
        const counts = body.subarray(p + 1, p + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        const table = buildDecoder(counts, body.subarray(p + 17, p + 17 + total));
        (tc === 0 ? dc : ac).set(th, table);
        p += 17 + total;
      }
    } else if (marker === 0xdd) {
      restartInterval = (body[0]! << 8) | body[1]!;
    } else if (marker === 0xda) {
      if (!sof) throw new InternalError('progressive JPEG: scan before frame header');
      const scanEnd = decodeScan(jpeg, at + 2 + len, body, sof, dc, ac, restartInterval);
      return writeProgressive(keep, sof, scanEnd < jpeg.length ? jpeg.subarray(scanEnd) : new Uint8Array(0));
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new InternalError(`progressive JPEG: only baseline input is transcoded (SOF ${marker.toString(16)})`);
    } else {
      keep.push(jpeg.subarray(at, at + 2 + len)); // APPn, DQT, COM: kept as they are
    }
    at += 2 + len;
  }
}

function decodeScan(
  jpeg: Uint8Array,
  start: number,
  sos: Uint8Array,
  sof: { height: number; width: number; comps: Component[] },
  dc: Map<number, HuffmanTable>,
  ac: Map<number, HuffmanTable>,
  restartInterval: number,
): number {
  const hmax = Math.max(...sof.comps.map((c) => c.h));
  const vmax = Math.max(...sof.comps.map((c) => c.v));
  const mcusX = Math.ceil(sof.width / (8 * hmax));
  const mcusY = Math.ceil(sof.height / (8 * vmax));
  for (const c of sof.comps) {
    c.usedW = Math.ceil(Math.ceil((sof.width * c.h) / hmax) / 8);
    c.usedH = Math.ceil(Math.ceil((sof.height * c.v) / vmax) / 8);
    c.bw = mcusX * c.h;
    c.bh = mcusY * c.v;
    c.coefs = new Int16Array(c.bw * c.bh * ZIGZAG_LENGTH);
  }
  const ns = sos[0]!;
  if (ns !== sof.comps.length) throw new InternalError('progressive JPEG: the baseline file has more than one scan');
  const scan = Array.from({ length: ns }, (_, i) => {
    const comp = sof.comps.find((c) => c.id === sos[1 + i * 2])!;
    return { comp, dc: dc.get(sos[2 + i * 2]! >> 4)!, ac: ac.get(sos[2 + i * 2]! & 15)!, pred: 0 };
  });
  const reader = new BitReader(jpeg, start);
  const block = (s: (typeof scan)[number], bx: number, by: number) => {
    const base = (by * s.comp.bw + bx) * ZIGZAG_LENGTH;
    const t = reader.decode(s.dc);
    s.pred += extend(reader.receive(t), t);
    s.comp.coefs[base] = s.pred;
    for (let k = 1; k < 64; ) {
      const rs = reader.decode(s.ac);
      const r = rs >> 4;
      const size = rs & 15;
      if (size === 0) {
        if (r !== 15) break;
        k += 16;
        continue;
      }
      k += r;
      s.comp.coefs[base + k] = extend(reader.receive(size), size);
      k++;
    }
  };
  const single = ns === 1;
  const units = single ? scan[0]!.comp.usedW * scan[0]!.comp.usedH : mcusX * mcusY;
  for (let u = 0; u < units; u++) {
    if (restartInterval && u > 0 && u % restartInterval === 0) {
      reader.restart();
      for (const s of scan) s.pred = 0;
    }
    if (single) {
      const s = scan[0]!;
      block(s, u % s.comp.usedW, Math.floor(u / s.comp.usedW));
      continue;
    }
    const mx = u % mcusX;
    const my = Math.floor(u / mcusX);
    for (const s of scan) for (let v = 0; v < s.comp.v; v++) for (let h = 0; h < s.comp.h; h++) block(s, mx * s.comp.h + h, my * s.comp.v + v);
  }
  // The scan ends at the first marker that is not a restart (normally EOI).
  let end = reader.pos;
  while (end + 1 < jpeg.length && !(jpeg[end] === 0xff && jpeg[end + 1] !== 0 && (jpeg[end + 1]! < 0xd0 || jpeg[end + 1]! > 0xd7))) end++;
  return end;
}

function writeProgressive(keep: Uint8Array[], sof: { height: number; width: number; comps: Component[]; body: Uint8Array }, tail: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0xff, 0xd8), ...keep, segment(0xc2, sof.body)];
  const comps = sof.comps;
  const hmax = Math.max(...comps.map((c) => c.h));
  const vmax = Math.max(...comps.map((c) => c.v));
  const mcusX = Math.ceil(sof.width / (8 * hmax));
  const mcusY = Math.ceil(sof.height / (8 * vmax));

  // DC of every component, interleaved (one table for luma, one for chroma).
  const dcTableOf = (ci: number) => (ci === 0 ? 0 : 1);
  const dcScan = (w: ScanWriter) => {
    const preds = comps.map(() => 0);
    const one = (ci: number, bx: number, by: number) => {
      const c = comps[ci]!;
      const v = c.coefs[(by * c.bw + bx) * ZIGZAG_LENGTH]!;
      const diff = v - preds[ci]!;
      preds[ci] = v;
      const s = nbits(diff);
      w.symbol(dcTableOf(ci), s);
      w.put(magnitude(diff, s), s);
    };
    if (comps.length === 1) {
      const c = comps[0]!;
      for (let by = 0; by < c.usedH; by++) for (let bx = 0; bx < c.usedW; bx++) one(0, bx, by);
      return;
    }
    for (let my = 0; my < mcusY; my++) {
      for (let mx = 0; mx < mcusX; mx++) {
        comps.forEach((c, ci) => {
          for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) one(ci, mx * c.h + h, my * c.v + v);
        });
      }
    }
  };
  const dcTables = comps.length > 1 ? 2 : 1;
  const dcFreq = Array.from({ length: dcTables }, () => new Uint32Array(257));
  dcScan(new ScanWriter(true, dcFreq));
  const dcBuilt = dcFreq.map(buildTable);
  const dcWriter = new ScanWriter(false, dcFreq, dcBuilt);
  dcScan(dcWriter);
  parts.push(
    segment(
      0xc4,
      dcBuilt.flatMap((t, i) => [0x00 | i, ...t.bits, ...t.values]),
    ),
  );
  parts.push(segment(0xda, [comps.length, ...comps.flatMap((c, ci) => [c.id, dcTableOf(ci) << 4]), 0, 0, 0]));
  parts.push(dcWriter.finish());

  // AC bands, one component per scan: luma's low band first (a recognisable picture early).
  const bands: Array<[number, number, number]> =
    comps.length === 1
      ? [
          [0, 1, 5],
          [0, 6, 63],
        ]
      : [[0, 1, 5], ...comps.slice(1).map((_, i): [number, number, number] => [i + 1, 1, 63]), [0, 6, 63]];
  for (const [ci, ss, se] of bands) {
    const c = comps[ci]!;
    const acScan = (w: ScanWriter) => {
      let eobrun = 0;
      const flushEob = () => {
        if (eobrun === 0) return;
        const n = nbits(eobrun) - 1;
        w.symbol(0, n << 4);
        w.put(eobrun - (1 << n), n);
        eobrun = 0;
      };
      for (let by = 0; by < c.usedH; by++) {
        for (let bx = 0; bx < c.usedW; bx++) {
          const base = (by * c.bw + bx) * ZIGZAG_LENGTH;
          let run = 0;
          for (let k = ss; k <= se; k++) {
            const v = c.coefs[base + k]!;
            if (v === 0) {
              run++;
              continue;
            }
            flushEob();
            while (run > 15) {
              w.symbol(0, 0xf0);
              run -= 16;
            }
            const s = nbits(v);
            w.symbol(0, (run << 4) | s);
            w.put(magnitude(v, s), s);
            run = 0;
          }
          if (run > 0 && ++eobrun === 0x7fff) flushEob();
        }
      }
      flushEob();
    };
    const freq = [new Uint32Array(257)];
    acScan(new ScanWriter(true, freq));
    const built = buildTable(freq[0]!);
    const writer = new ScanWriter(false, freq, [built]);
    acScan(writer);
    parts.push(segment(0xc4, [0x10, ...built.bits, ...built.values]));
    parts.push(segment(0xda, [1, c.id, 0x00, ss, se, 0]));
    parts.push(writer.finish());
  }
  parts.push(tail.length >= 2 ? tail : Uint8Array.of(0xff, 0xd9));
  return concatBytes(parts);
}
