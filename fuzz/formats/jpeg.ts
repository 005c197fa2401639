/**
 * JPEG: markers with 16-bit segment lengths, entropy-coded data after each SOS (restart markers
 * inside it are boundaries too). Fields: segment lengths, SOF sizes and component counts and
 * sampling factors, SOS component counts, DRI, the EXIF in APP1 and the ICC profile in APP2.
 */
import { ascii, type Layout, LayoutBuilder, u16be } from './layout.js';
import { walkIcc, walkTiff } from './tiff.js';

const MAX_RESTARTS = 256;

export function isJpeg(b: Uint8Array): boolean {
  return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

export function walkJpeg(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('jpeg', bytes);
  const n = bytes.byteLength;
  out.span('SOI', 0, 2, 2, undefined);
  let at = 2;
  while (at + 2 <= n && !out.full) {
    if (bytes[at] !== 0xff) break;
    let m = bytes[at + 1]!;
    while (m === 0xff && at + 2 < n) m = bytes[++at + 1]!;
    const name = markerName(m);
    if (m === 0xd9) {
      out.span('EOI', at, at + 2, at + 2, undefined);
      break;
    }
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      out.span(name, at, at + 2, at + 2, undefined);
      at += 2;
      continue;
    }
    const length = u16be(bytes, at + 2);
    const body = at + 4;
    const end = at + 2 + length;
    const index = out.span(name, at, body, end, undefined, { offset: at + 2, bits: 16 });
    const f = (field: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number) => {
      if (offset + bits / 8 <= end) out.field(`${name}.${field}`, role, { offset, bits });
    };
    if (isSof(m)) {
      f('precision', 'value', body, 8);
      f('height', 'dimension', body + 1, 16);
      f('width', 'dimension', body + 3, 16);
      f('components', 'count', body + 5, 8);
      for (let c = 0; c < Math.min(bytes[body + 5] ?? 0, 4); c++) f(`component${c}.sampling`, 'value', body + 7 + 3 * c, 8);
    } else if (m === 0xda) {
      f('components', 'count', body, 8);
    } else if (m === 0xdd) {
      f('restart_interval', 'count', body, 16);
    } else if (m === 0xe1 && ascii(bytes, body, 'Exif\0\0')) {
      walkTiff(out, body + 6, Math.min(n, end), index);
    } else if (m === 0xe2 && ascii(bytes, body, 'ICC_PROFILE\0')) {
      f('icc.sequence', 'count', body + 12, 8);
      f('icc.chunks', 'count', body + 13, 8);
      walkIcc(out, body + 14, Math.min(n, end), index);
    } else if (m === 0xee && ascii(bytes, body, 'Adobe')) {
      f('adobe.transform', 'value', body + 11, 8);
    }
    at = end;
    if (m === 0xda) at = scan(out, bytes, end, index);
  }
  return out.done();
}

/** Walks entropy-coded data to the next marker that is not a stuffed byte or a restart. */
function scan(out: LayoutBuilder, b: Uint8Array, from: number, sos: number): number {
  let restarts = 0;
  let segment = from;
  for (let i = from; i + 1 < b.byteLength; i++) {
    if (b[i] !== 0xff) continue;
    const next = b[i + 1]!;
    if (next === 0x00 || next === 0xff) continue;
    if (next >= 0xd0 && next <= 0xd7) {
      if (restarts++ < MAX_RESTARTS) out.span('ecs', segment, segment, i, sos);
      segment = i + 2;
      i++;
      continue;
    }
    out.span('ecs', segment, segment, i, sos);
    return i;
  }
  out.span('ecs', segment, segment, b.byteLength, sos);
  return b.byteLength;
}

function markerName(m: number): string {
  if (m >= 0xe0 && m <= 0xef) return `APP${m - 0xe0}`;
  if (m >= 0xd0 && m <= 0xd7) return `RST${m - 0xd0}`;
  if (isSof(m)) return `SOF${m - 0xc0}`;
  const named: Record<number, string> = { 196: 'DHT', 204: 'DAC', 218: 'SOS', 219: 'DQT', 221: 'DRI', 254: 'COM', 1: 'TEM' };
  return named[m] ?? `M${m.toString(16).toUpperCase()}`;
}
