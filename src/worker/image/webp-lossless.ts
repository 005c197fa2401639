/**
 * A lossless WebP (VP8L) encoder in TypeScript, because the core's libwebp lossless encoder
 * crashes. Deliberately simple — the subtract-green transform, runs of a repeated pixel as
 * backward references to the previous pixel, everything else as literal ARGB, one group of five
 * canonical prefix codes, no colour cache — so files are larger than libwebp's, but every pixel
 * comes back exactly.
 * Bitstream: "WebP Lossless Bitstream Specification" (RFC 9649).
 */
import { codeLengths } from './huffman-lengths.js';

class BitWriter {
  private buf = new Uint8Array(1 << 16);
  private pos = 0;
  private acc = 0;
  private bits = 0;

  /** Writes the low `n` bits of `value`, least significant first (n ≤ 24). */
  put(value: number, n: number): void {
    this.acc |= (value & ((1 << n) - 1)) << this.bits;
    this.bits += n;
    while (this.bits >= 8) {
      this.byte(this.acc & 255);
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  private byte(b: number): void {
    if (this.pos === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.pos++] = b;
  }

  finish(): Uint8Array {
    if (this.bits > 0) this.byte(this.acc & 255);
    this.acc = 0;
    this.bits = 0;
    return this.buf.slice(0, this.pos);
  }
}

/** Canonical codes (bit-reversed, ready for LSB-first writing) from code lengths. */
function canonicalCodes(lengths: Uint8Array): Uint32Array {
  const codes = new Uint32Array(lengths.length);
  const max = Math.max(0, ...lengths);
  const blCount = new Uint32Array(max + 2);
  for (const l of lengths) if (l) blCount[l]!++;
  const next = new Uint32Array(max + 2);
  let code = 0;
  for (let bits = 1; bits <= max; bits++) {
    code = (code + blCount[bits - 1]!) << 1;
    next[bits] = code;
  }
  for (let s = 0; s < lengths.length; s++) {
    const l = lengths[s]!;
    if (!l) continue;
    let c = next[l]!++;
    let rev = 0;
    for (let i = 0; i < l; i++) {
      rev = (rev << 1) | (c & 1);
      c >>= 1;
    }
    codes[s] = rev;
  }
  return codes;
}

const CODE_LENGTH_ORDER = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

interface PrefixCode {
  lengths: Uint8Array;
  codes: Uint32Array;
}

/** Writes one prefix code and returns it for coding symbols. */
function writePrefixCode(w: BitWriter, counts: Uint32Array): PrefixCode {
  const used: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) used.push(i);
  if (used.length <= 2 && used.every((s) => s < 256)) {
    // Simple code: one symbol costs no bits; two cost one bit each.
    const symbols = used.length ? used : [0];
    w.put(1, 1);
    w.put(symbols.length - 1, 1);
    const wide = symbols[0]! > 1;
    w.put(wide ? 1 : 0, 1);
    w.put(symbols[0]!, wide ? 8 : 1);
    if (symbols.length === 2) w.put(symbols[1]!, 8);
    const lengths = new Uint8Array(counts.length);
    const codes = new Uint32Array(counts.length);
    if (symbols.length === 2) {
      lengths[symbols[0]!] = 1;
      lengths[symbols[1]!] = 1;
      codes[symbols[1]!] = 1;
    }
    return { lengths, codes };
  }
  const lengths = codeLengths(counts, 15);
  // Code lengths are sent as literals 0–15 with a code of their own (lengths ≤ 7).
  const clCounts = new Uint32Array(19);
  for (const l of lengths) clCounts[l]!++;
  let clLengths = codeLengths(clCounts, 7);
  if (clLengths.filter((l) => l > 0).length === 1) {
    // A single code-length symbol still needs a code of one bit; give a second symbol one too.
    const only = clLengths.indexOf(1);
    clLengths = new Uint8Array(19);
    clLengths[only] = 1;
    clLengths[only === 0 ? 1 : 0] = 1;
  }
  const clCodes = canonicalCodes(clLengths);
  let count = 19;
  while (count > 4 && clLengths[CODE_LENGTH_ORDER[count - 1]!] === 0) count--;
  w.put(0, 1); // normal code
  w.put(count - 4, 4);
  for (let i = 0; i < count; i++) w.put(clLengths[CODE_LENGTH_ORDER[i]!]!, 3);
  w.put(0, 1); // max_symbol: all symbols
  for (const l of lengths) w.put(clCodes[l]!, clLengths[l]!);
  return { lengths, codes: canonicalCodes(lengths) };
}

const MIN_RUN = 3;
const MAX_RUN = 4096;
/** Distance code 2 is the neighbour (1, 0): the previous pixel in scan order. */
const LEFT_DISTANCE_CODE = 2;

/** VP8L's prefix coding of lengths and distance codes (value ≥ 1): symbol, then extra bits. */
function prefix(value: number): { code: number; extraBits: number; extra: number } {
  const x = value - 1;
  if (x < 2) return { code: x, extraBits: 0, extra: 0 };
  const high = 31 - Math.clz32(x);
  const second = (x >> (high - 1)) & 1;
  return { code: 2 * high + second, extraBits: high - 1, extra: x & ((1 << (high - 1)) - 1) };
}

/** RGBA8 → a complete lossless `.webp` file. */
export function encodeWebpLossless(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const n = width * height;
  const argb = new Uint32Array(n);
  let alphaUsed = false;
  for (let i = 0; i < n; i++) {
    const r = rgba[i * 4]!;
    const g = rgba[i * 4 + 1]!;
    const b = rgba[i * 4 + 2]!;
    const a = rgba[i * 4 + 3]!;
    if (a !== 255) alphaUsed = true;
    // Subtract-green: red and blue are stored relative to green, which decorrelates most photos.
    argb[i] = ((a << 24) | (((r - g) & 255) << 16) | (g << 8) | ((b - g) & 255)) >>> 0;
  }
  const w = new BitWriter();
  w.put(0x2f, 8);
  w.put(width - 1, 14);
  w.put(height - 1, 14);
  w.put(alphaUsed ? 1 : 0, 1);
  w.put(0, 3); // version
  w.put(1, 1); // a transform follows
  w.put(2, 2); // SUBTRACT_GREEN
  imageStream(w, argb);
  const vp8l = w.finish();
  return riff([chunk('VP8L', vp8l)]);
}

/**
 * A lossy WebP with an alpha channel, from libwebp's opaque lossy file (`VP8 ` colour) and the
 * RGBA frame's alpha: the `ALPH` chunk is written here, losslessly compressed (a headerless VP8L
 * stream carrying alpha in green, as the container specification defines it), because the core's
 * libwebp compresses alpha with its lossless encoder, which crashes.
 */
export function webpWithAlpha(lossy: Uint8Array, rgba: Uint8Array, width: number, height: number): Uint8Array {
  const view = new DataView(lossy.buffer, lossy.byteOffset, lossy.byteLength);
  let vp8: Uint8Array | undefined;
  for (let at = 12; at + 8 <= lossy.length; ) {
    const size = view.getUint32(at + 4, true);
    if (String.fromCharCode(...lossy.subarray(at, at + 4)) === 'VP8 ') vp8 = lossy.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size & 1);
  }
  if (!vp8) throw new Error('libwebp wrote no VP8 chunk');
  const n = width * height;
  const argb = new Uint32Array(n);
  for (let i = 0; i < n; i++) argb[i] = ((255 << 24) | (rgba[i * 4 + 3]! << 8)) >>> 0;
  const w = new BitWriter();
  // ALPH header: no preprocessing, no filtering, compression 1 (lossless).
  w.put(1, 8);
  imageStream(w, argb);
  const header = new Uint8Array(10);
  header[0] = 0x10; // alpha
  const hv = new DataView(header.buffer);
  hv.setUint16(4, (width - 1) & 0xffff, true);
  header[6] = ((width - 1) >>> 16) & 255;
  hv.setUint16(7, (height - 1) & 0xffff, true);
  header[9] = ((height - 1) >>> 16) & 255;
  return riff([chunk('VP8X', header), chunk('ALPH', w.finish()), chunk('VP8 ', vp8)]);
}

/**
 * The rest of a VP8L image stream from the end of its transforms (this writes the bit that ends
 * them): no colour cache, one group of five prefix
 * codes, literal ARGB and runs of the previous pixel.
 */
function imageStream(w: BitWriter, argb: Uint32Array): void {
  const n = argb.length;
  // Tokens: a literal is the pixel index; a run is stored as −length (copies of the previous pixel).
  const tokens: number[] = [];
  for (let i = 0; i < n; ) {
    let run = 0;
    if (i > 0) while (i + run < n && run < MAX_RUN && argb[i + run] === argb[i - 1]) run++;
    if (run >= MIN_RUN) {
      tokens.push(-run);
      i += run;
    } else {
      tokens.push(i);
      i++;
    }
  }
  const counts = [new Uint32Array(256 + 24), new Uint32Array(256), new Uint32Array(256), new Uint32Array(256), new Uint32Array(40)];
  for (const t of tokens) {
    if (t < 0) {
      counts[0]![256 + prefix(-t).code]!++;
      counts[4]![prefix(LEFT_DISTANCE_CODE).code]!++;
      continue;
    }
    const p = argb[t]!;
    counts[0]![(p >>> 8) & 255]!++;
    counts[1]![(p >>> 16) & 255]!++;
    counts[2]![p & 255]!++;
    counts[3]![p >>> 24]!++;
  }
  w.put(0, 1); // no more transforms
  w.put(0, 1); // no colour cache
  w.put(0, 1); // no meta prefix codes: one group for the whole image
  const [green, red, blue, alpha, distance] = counts.map((c) => writePrefixCode(w, c)) as [PrefixCode, PrefixCode, PrefixCode, PrefixCode, PrefixCode];
  const left = prefix(LEFT_DISTANCE_CODE);
  for (const t of tokens) {
    if (t < 0) {
      const len = prefix(-t);
      w.put(green.codes[256 + len.code]!, green.lengths[256 + len.code]!);
      w.put(len.extra, len.extraBits);
      w.put(distance.codes[left.code]!, distance.lengths[left.code]!);
      w.put(left.extra, left.extraBits);
      continue;
    }
    const p = argb[t]!;
    const g = (p >>> 8) & 255;
    const r = (p >>> 16) & 255;
    const b = p & 255;
    const a = p >>> 24;
    w.put(green.codes[g]!, green.lengths[g]!);
    w.put(red.codes[r]!, red.lengths[r]!);
    w.put(blue.codes[b]!, blue.lengths[b]!);
    w.put(alpha.codes[a]!, alpha.lengths[a]!);
  }
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length + (data.length & 1));
  for (let i = 0; i < 4; i++) out[i] = type.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

function riff(chunks: Uint8Array[]): Uint8Array {
  const body = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(12 + body);
  const v = new DataView(out.buffer);
  out.set([0x52, 0x49, 0x46, 0x46], 0); // RIFF
  v.setUint32(4, 4 + body, true);
  out.set([0x57, 0x45, 0x42, 0x50], 8); // WEBP
  let at = 12;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
