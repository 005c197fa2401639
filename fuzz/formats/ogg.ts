/**
 * Ogg: pages ("OggS", granule position, sequence number, CRC, a lacing table whose values give
 * the page size), with the codec headers of the first packets: OpusHead (channels, pre-skip,
 * rate, mapping family), the Vorbis identification header (channels, rate, block sizes), and the
 * comment headers' vendor length and comment count. `fixOggCrcs` recomputes page CRCs.
 */
import { oggCrc } from './checksums.js';
import { ascii, type Layout, LayoutBuilder, u32le } from './layout.js';

const HEADER = 27;

export function isOgg(b: Uint8Array): boolean {
  return ascii(b, 0, 'OggS');
}

function pageEnd(b: Uint8Array, at: number): number {
  const segments = b[at + 26] ?? 0;
  let end = at + HEADER + segments;
  for (let i = 0; i < segments; i++) end += b[at + HEADER + i] ?? 0;
  return end;
}

export function walkOgg(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('ogg', bytes);
  const n = bytes.byteLength;
  for (let at = 0, page = 0; at + HEADER <= n && ascii(bytes, at, 'OggS') && !out.full; page++) {
    const segments = bytes[at + 26]!;
    const body = at + HEADER + segments;
    const end = pageEnd(bytes, at);
    const index = out.span(`page${page}`, at, body, end, undefined);
    const name = `page${page}`;
    // Fields of every page would swamp the choice: the first pages carry the headers, a few more do for the rest.
    if (page < 4 || page % 16 === 0) {
      out.field(`${name}.granule_position`, 'duration', { offset: at + 6, bits: 64, le: true });
      out.field(`${name}.sequence`, 'value', { offset: at + 18, bits: 32, le: true });
      out.field(`${name}.segments`, 'count', { offset: at + 26, bits: 8 });
      for (const i of new Set([0, 1, segments - 1])) {
        if (i >= 0 && i < segments) out.field(`${name}.lacing[${i}]`, 'size', { offset: at + HEADER + i, bits: 8, span: index });
      }
    }
    if (page < 3) codecHeader(out, name, body, Math.min(end, n));
    at = end;
  }
  return out.done();
}

function codecHeader(out: LayoutBuilder, page: string, at: number, end: number): void {
  const b = out.bytes;
  const f = (field: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number, le = true) => {
    if (offset + bits / 8 <= end) out.field(`${page}.${field}`, role, le && bits > 8 ? { offset, bits, le: true } : { offset, bits });
  };
  if (ascii(b, at, 'OpusHead')) {
    f('OpusHead.channels', 'channels', at + 9, 8);
    f('OpusHead.pre_skip', 'duration', at + 10, 16);
    f('OpusHead.input_sample_rate', 'rate', at + 12, 32);
    f('OpusHead.mapping_family', 'value', at + 18, 8);
  } else if (b[at] === 1 && ascii(b, at + 1, 'vorbis')) {
    f('vorbis.channels', 'channels', at + 11, 8);
    f('vorbis.sample_rate', 'rate', at + 12, 32);
    f('vorbis.blocksizes', 'value', at + 28, 8);
  } else if (b[at] === 3 && ascii(b, at + 1, 'vorbis')) {
    comments(out, page, 'vorbis_comment', at + 7, end);
  } else if (ascii(b, at, 'OpusTags')) {
    comments(out, page, 'OpusTags', at + 8, end);
  } else if (b[at] === 0x7f && ascii(b, at + 1, 'FLAC')) {
    f('flac.header_packets', 'count', at + 7, 16, false);
  }
}

function comments(out: LayoutBuilder, page: string, name: string, at: number, end: number): void {
  if (at + 4 > end) return;
  out.field(`${page}.${name}.vendor_length`, 'size', { offset: at, bits: 32, le: true });
  const count = at + 4 + u32le(out.bytes, at);
  if (count + 4 <= end) out.field(`${page}.${name}.count`, 'count', { offset: count, bits: 32, le: true });
  if (count + 8 <= end) out.field(`${page}.${name}.comment[0].length`, 'size', { offset: count + 4, bits: 32, le: true });
}

/** Recomputes the CRC of every whole page, finding pages by their capture pattern. */
export function fixOggCrcs(b: Uint8Array): void {
  let pages = 0;
  for (let at = 0; at + HEADER <= b.byteLength && pages < 200_000; ) {
    if (!ascii(b, at, 'OggS')) {
      at++;
      continue;
    }
    const end = pageEnd(b, at);
    if (end > b.byteLength) return;
    b.fill(0, at + 22, at + 26);
    const crc = oggCrc(b, at, end);
    b[at + 22] = crc & 0xff;
    b[at + 23] = (crc >>> 8) & 0xff;
    b[at + 24] = (crc >>> 16) & 0xff;
    b[at + 25] = crc >>> 24;
    pages++;
    at = end;
  }
}
