/**
 * FLAC: "fLaC", metadata blocks (a last-block flag, a type and a 24-bit length), then frames found
 * by their sync code and a valid header CRC-8. Fields: block lengths, STREAMINFO's bit-packed
 * rate, channels, depth, total samples and block/frame size bounds, VORBIS_COMMENT lengths and
 * count, PICTURE's string and data lengths and picture size.
 */
import { crc8 } from './checksums.js';
import { ascii, type Layout, LayoutBuilder, u24be, u32be, u32le } from './layout.js';

const MAX_FRAMES = 5_000;

export function isFlac(b: Uint8Array): boolean {
  return ascii(b, 0, 'fLaC');
}

export function walkFlac(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('flac', bytes);
  const n = bytes.byteLength;
  out.span('marker', 0, 4, 4, undefined);
  let at = 4;
  for (let last = false; !last && at + 4 <= n && !out.full; ) {
    const header = bytes[at]!;
    last = (header & 0x80) !== 0;
    const type = header & 0x7f;
    const length = u24be(bytes, at + 1);
    const body = at + 4;
    const end = body + length;
    const name = ['STREAMINFO', 'PADDING', 'APPLICATION', 'SEEKTABLE', 'VORBIS_COMMENT', 'CUESHEET', 'PICTURE'][type] ?? `block${type}`;
    out.span(name, at, body, end, undefined, { offset: at + 1, bits: 24 });
    out.field(`${name}.last`, 'value', { offset: at, bits: 1 });
    const f = (field: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number, bit = 0, le = false) => {
      if (offset + Math.ceil((bit + bits) / 8) <= Math.min(end, n)) out.field(`${name}.${field}`, role, le ? { offset, bits, le } : { offset, bits, bit });
    };
    if (type === 0) {
      f('min_blocksize', 'size', body, 16);
      f('max_blocksize', 'size', body + 2, 16);
      f('min_framesize', 'size', body + 4, 24);
      f('max_framesize', 'size', body + 7, 24);
      f('sample_rate', 'rate', body + 10, 20);
      f('channels_minus_one', 'channels', body + 12, 3, 4);
      f('bits_per_sample_minus_one', 'value', body + 12, 5, 7);
      f('total_samples', 'duration', body + 13, 36, 4);
    } else if (type === 4) {
      f('vendor_length', 'size', body, 32, 0, true);
      const count = body + 4 + u32le(bytes, body);
      f('count', 'count', count, 32, 0, true);
      f('comment[0].length', 'size', count + 4, 32, 0, true);
    } else if (type === 6) {
      f('mime_length', 'size', body + 4, 32);
      const desc = body + 8 + u32be(bytes, body + 4);
      f('description_length', 'size', desc, 32);
      const dims = desc + 4 + u32be(bytes, desc);
      f('width', 'dimension', dims, 32);
      f('height', 'dimension', dims + 4, 32);
      f('colours', 'count', dims + 12, 32);
      f('data_length', 'size', dims + 16, 32);
    } else if (type === 3) {
      f('seekpoint[0].sample', 'duration', body, 64);
      f('seekpoint[0].offset', 'size', body + 8, 64);
    }
    at = end;
  }
  frames(out, at);
  return out.done();
}

/** The length of a frame header up to its CRC-8 if `at` starts a valid one, else 0. */
function frameHeader(b: Uint8Array, at: number): number {
  if (b[at] !== 0xff || ((b[at + 1] ?? 0) & 0xfe) !== 0xf8) return 0;
  const blockCode = (b[at + 2] ?? 0) >> 4;
  const rateCode = (b[at + 2] ?? 0) & 15;
  if (blockCode === 0 || rateCode === 15 || ((b[at + 3] ?? 0) & 1) !== 0 || (b[at + 3] ?? 0) >> 4 >= 11) return 0;
  let p = at + 4;
  const lead = b[p] ?? 0xff;
  let extra = 0;
  if (lead >= 0xc0) for (let m = 0x40; lead & m && extra < 6; m >>= 1) extra++;
  p += 1 + extra;
  if (blockCode === 6) p += 1;
  if (blockCode === 7) p += 2;
  if (rateCode === 12) p += 1;
  if (rateCode === 13 || rateCode === 14) p += 2;
  if (p >= b.byteLength || crc8(b, at, p) !== b[p]) return 0;
  return p + 1 - at;
}

function frames(out: LayoutBuilder, from: number): void {
  const b = out.bytes;
  const starts: number[] = [];
  for (let i = from; i + 6 < b.byteLength && starts.length < MAX_FRAMES; i++) {
    const h = frameHeader(b, i);
    if (h) {
      starts.push(i);
      i += h;
    }
  }
  starts.forEach((start, k) => {
    out.span('frame', start, start + frameHeader(b, start), starts[k + 1] ?? b.byteLength, undefined);
  });
}
