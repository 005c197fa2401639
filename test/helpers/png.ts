/**
 * Minimal PNG reader for test fixtures: 8-bit, non-interlaced, colour types 0 (grey), 2 (RGB),
 * 4 (grey + alpha) and 6 (RGBA), always returned as RGBA8. Anything else throws, so a fixture
 * the reader cannot handle fails loudly instead of decoding wrong.
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  data: Uint8Array;
  width: number;
  height: number;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export function readPng(path: string): DecodedPng {
  return decodePng(readFileSync(path));
}

export function decodePng(file: Uint8Array): DecodedPng {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  SIGNATURE.forEach((b, i) => {
    if (file[i] !== b) throw new Error('not a PNG');
  });
  let width = 0,
    height = 0,
    channels = 0;
  const idat: Uint8Array[] = [];
  for (let at = 8; at < file.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...file.subarray(at + 4, at + 8));
    const body = file.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const [depth, colour, , , interlace] = body.subarray(8, 13);
      channels = CHANNELS[colour!] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) {
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
      }
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error('truncated PNG image data');
  const pixels = unfilter(raw, stride, height, channels);
  return { data: toRgba(pixels, width * height, channels), width, height };
}

/** Undoes the per-scanline filters (None, Sub, Up, Average, Paeth), in place of a copy. */
function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[row - stride + x]! : 0;
      const c = x >= bpp && y > 0 ? out[row - stride + x - bpp]! : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4:
          predictor = paeth(a, b, c);
          break;
        default:
          throw new Error(`bad PNG filter type ${filter} on row ${y}`);
      }
      out[row + x] = (line[x]! + predictor) & 255;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a),
    pb = Math.abs(p - b),
    pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

function toRgba(px: Uint8Array, count: number, channels: number): Uint8Array {
  if (channels === 4) return px;
  const out = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) {
    const s = i * channels;
    const grey = channels < 3;
    out[i * 4] = px[s]!;
    out[i * 4 + 1] = grey ? px[s]! : px[s + 1]!;
    out[i * 4 + 2] = grey ? px[s]! : px[s + 2]!;
    out[i * 4 + 3] = channels === 2 ? px[s + 1]! : 255;
  }
  return out;
}
