/**
 * PNG: an 8-byte signature, then chunks of length, type, data and a CRC over type and data.
 * Fields: chunk lengths, IHDR's size, depth and colour type, APNG frame counts and sizes, the
 * EXIF in eXIf. `fixPngCrcs` recomputes every CRC, so a lie gets past the CRC check and reaches
 * the parser behind it.
 */
import { crc32 } from './checksums.js';
import { ascii, fourcc, type Layout, LayoutBuilder, u32be } from './layout.js';
import { walkTiff } from './tiff.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  return SIGNATURE.every((v, i) => b[i] === v);
}

export function walkPng(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('png', bytes);
  out.span('signature', 0, 8, 8, undefined);
  for (let at = 8; at + 12 <= bytes.byteLength && !out.full; ) {
    const length = u32be(bytes, at);
    const type = fourcc(bytes, at + 4);
    const body = at + 8;
    const end = body + length + 4;
    const index = out.span(type, at, body, end, undefined, { offset: at, bits: 32 });
    const f = (name: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number) => {
      if (offset + bits / 8 <= body + length) out.field(`${type}.${name}`, role, { offset, bits });
    };
    if (type === 'IHDR') {
      f('width', 'dimension', body, 32);
      f('height', 'dimension', body + 4, 32);
      f('bit_depth', 'value', body + 8, 8);
      f('colour_type', 'value', body + 9, 8);
      f('interlace', 'value', body + 12, 8);
    } else if (type === 'acTL') {
      f('num_frames', 'count', body, 32);
    } else if (type === 'fcTL') {
      f('width', 'dimension', body + 4, 32);
      f('height', 'dimension', body + 8, 32);
    } else if (type === 'eXIf') {
      walkTiff(out, body, Math.min(bytes.byteLength, body + length), index);
    } else if (type === 'PLTE' || type === 'tRNS') {
      // Sizes here are implied by the length only: the length lie covers them.
    }
    if (end > bytes.byteLength || type === 'IEND') break;
    at = end;
  }
  return out.done();
}

/** Recomputes the CRC of every whole chunk, walking by the (possibly mutated) lengths. */
export function fixPngCrcs(b: Uint8Array): void {
  if (!isPng(b)) return;
  for (let at = 8, n = 0; at + 12 <= b.byteLength && n < 100_000; n++) {
    const length = u32be(b, at);
    const end = at + 8 + length + 4;
    if (end > b.byteLength) return;
    const crc = crc32(b, at + 4, at + 8 + length);
    b[end - 4] = crc >>> 24;
    b[end - 3] = (crc >>> 16) & 0xff;
    b[end - 2] = (crc >>> 8) & 0xff;
    b[end - 1] = crc & 0xff;
    if (ascii(b, at + 4, 'IEND')) return;
    at = end;
  }
}
