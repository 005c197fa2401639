/**
 * A minimal baseline JPEG writer for four-component (CMYK and YCCK) test files, which neither
 * FFmpeg nor libvips can write as YCCK: 4:4:4, one interleaved scan, the Annex K Huffman tables,
 * an APP14 Adobe segment and optionally an embedded ICC profile. Inks are stored inverted as
 * Adobe's writers (and libjpeg with its Adobe marker) do; YCCK codes the first three inverted
 * inks as YCbCr of (255 − C, 255 − M, 255 − Y), exactly as libjpeg's cmyk_ycck_convert does.
 */

export interface CmykPicture {
  /** C, M, Y, K per pixel, 0 = no ink. */
  inks: Uint8Array;
  width: number;
  height: number;
}

export interface JpegWriterOptions {
  /** APP14 Adobe transform: 0 = plain (inverted) CMYK, 2 = YCCK. */
  transform: 0 | 2;
  /** 1–100, libjpeg's scaling of the Annex K luminance table. */
  quality?: number;
  icc?: Uint8Array;
}

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22,
  15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103,
  77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALUES = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42,
  0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35,
  0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67,
  0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
  0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
  0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4,
  0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

/** Code and length per symbol from BITS/HUFFVAL (Annex C). */
function huffmanCodes(bits: number[], values: number[]): { code: Uint16Array; size: Uint8Array } {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let c = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    for (let i = 0; i < bits[l - 1]!; i++) {
      code[values[k]!] = c++;
      size[values[k++]!] = l;
    }
    c <<= 1;
  }
  return { code, size };
}

const DC = huffmanCodes(DC_BITS, DC_VALUES);
const AC = huffmanCodes(AC_BITS, AC_VALUES);

/** cos((2x + 1)uπ / 16) · C(u) / 2, indexed [u * 8 + x]. */
const BASIS = (() => {
  const t = new Float64Array(64);
  for (let u = 0; u < 8; u++) for (let x = 0; x < 8; x++) t[u * 8 + x] = (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  return t;
})();

function fdct(block: Float64Array, out: Float64Array): void {
  const tmp = new Float64Array(64);
  for (let y = 0; y < 8; y++)
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let x = 0; x < 8; x++) s += BASIS[u * 8 + x]! * block[y * 8 + x]!;
      tmp[y * 8 + u] = s;
    }
  for (let u = 0; u < 8; u++)
    for (let v = 0; v < 8; v++) {
      let s = 0;
      for (let y = 0; y < 8; y++) s += BASIS[v * 8 + y]! * tmp[y * 8 + u]!;
      out[v * 8 + u] = s;
    }
}

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private bits = 0;

  put(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.bits === 8) {
        this.bytes.push(this.acc);
        if (this.acc === 0xff) this.bytes.push(0); // byte stuffing
        this.acc = 0;
        this.bits = 0;
      }
    }
  }

  finish(): number[] {
    while (this.bits > 0) this.put(1, 1);
    return this.bytes;
  }
}

function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a) {
    n++;
    a >>= 1;
  }
  return n;
}

function segment(marker: number, body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out.set([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255]);
  out.set(body, 4);
  return out;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/** The four stored planes: inverted inks, the first three YCbCr-coded for YCCK. */
function storedPlanes(pic: CmykPicture, transform: 0 | 2): Float64Array[] {
  const n = pic.width * pic.height;
  const planes = [0, 1, 2, 3].map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const [c, m, y, k] = [0, 1, 2, 3].map((p) => 255 - pic.inks[i * 4 + p]!) as [number, number, number, number];
    planes[3]![i] = k;
    if (transform === 0) {
      planes[0]![i] = c;
      planes[1]![i] = m;
      planes[2]![i] = y;
      continue;
    }
    const [r, g, b] = [255 - c, 255 - m, 255 - y];
    planes[0]![i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    planes[1]![i] = Math.round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
    planes[2]![i] = Math.round(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
  }
  return planes.map((p) => p.map((v) => Math.min(255, Math.max(0, v))));
}

export function writeCmykJpeg(pic: CmykPicture, opts: JpegWriterOptions): Uint8Array {
  const { width, height } = pic;
  const quality = opts.quality ?? 95;
  const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
  const quant = LUMA_QUANT.map((q) => Math.min(255, Math.max(1, Math.floor((q * scale + 50) / 100))));
  const planes = storedPlanes(pic, opts.transform);

  const out: Uint8Array[] = [Uint8Array.of(0xff, 0xd8)];
  if (opts.icc) {
    // One APP2 chunk holds at most 65519 profile bytes.
    const chunk = 65519;
    const count = Math.ceil(opts.icc.length / chunk);
    for (let i = 0; i < count; i++) {
      const part = opts.icc.subarray(i * chunk, (i + 1) * chunk);
      const body = new Uint8Array(14 + part.length);
      body.set([...ascii('ICC_PROFILE\0'), i + 1, count]);
      body.set(part, 14);
      out.push(segment(0xe2, body));
    }
  }
  out.push(segment(0xee, [...ascii('Adobe'), 0, 100, 0, 0, 0, 0, opts.transform]));
  out.push(segment(0xdb, [0, ...ZIGZAG.map((z) => quant[z]!)]));
  out.push(segment(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 4, ...[1, 2, 3, 4].flatMap((id) => [id, 0x11, 0])]));
  out.push(segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES, 0x10, ...AC_BITS, ...AC_VALUES]));
  out.push(segment(0xda, [4, ...[1, 2, 3, 4].flatMap((id) => [id, 0x00]), 0, 63, 0]));

  const w = new BitWriter();
  const preds = [0, 0, 0, 0];
  const block = new Float64Array(64);
  const coefs = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let p = 0; p < 4; p++) {
        // Edge blocks repeat the last row and column, as libjpeg pads.
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) {
            const sx = Math.min(bx + x, width - 1);
            const sy = Math.min(by + y, height - 1);
            block[y * 8 + x] = planes[p]![sy * width + sx]! - 128;
          }
        fdct(block, coefs);
        const q = ZIGZAG.map((z) => Math.round(coefs[z]! / quant[z]!));
        const diff = q[0]! - preds[p]!;
        preds[p] = q[0]!;
        const s = category(diff);
        w.put(DC.code[s]!, DC.size[s]!);
        w.put(diff < 0 ? (diff - 1) & ((1 << s) - 1) : diff, s);
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const v = q[k]!;
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            w.put(AC.code[0xf0]!, AC.size[0xf0]!);
            run -= 16;
          }
          const sz = category(v);
          const sym = (run << 4) | sz;
          w.put(AC.code[sym]!, AC.size[sym]!);
          w.put(v < 0 ? (v - 1) & ((1 << sz) - 1) : v, sz);
          run = 0;
        }
        if (run > 0) w.put(AC.code[0]!, AC.size[0]!);
      }
    }
  }
  out.push(Uint8Array.from(w.finish()), Uint8Array.of(0xff, 0xd9));
  const file = new Uint8Array(out.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of out) {
    file.set(part, at);
    at += part.length;
  }
  return file;
}
