/**
 * RIFF (WAV, WebP, AVI; little-endian sizes) and IFF (AIFF; big-endian `FORM`): chunks of id and
 * size, padded to even length, with `RIFF`/`LIST`/`FORM` holding children. Fields: WAV `fmt `
 * channels, rate and block align, `fact` frame count, AIFF `COMM` channels, frame count and the
 * exponent of its 80-bit sample rate, WebP canvas and frame sizes, and the EXIF and ICC inside.
 */
import { ascii, fourcc, type Layout, LayoutBuilder, u32be, u32le } from './layout.js';
import { walkIcc, walkTiff } from './tiff.js';

export function isRiff(b: Uint8Array): boolean {
  return b.byteLength >= 12 && (ascii(b, 0, 'RIFF') || ascii(b, 0, 'RIFX') || ascii(b, 0, 'FORM'));
}

export function walkRiff(bytes: Uint8Array): Layout {
  const le = ascii(bytes, 0, 'RIFF');
  const out = new LayoutBuilder(le ? `riff-${fourcc(bytes, 8).trim().toLowerCase()}` : `iff-${fourcc(bytes, 8).trim().toLowerCase()}`, bytes);
  chunks(out, 0, bytes.byteLength, undefined, le);
  return out.done();
}

function chunks(out: LayoutBuilder, from: number, to: number, parent: number | undefined, le: boolean): void {
  const b = out.bytes;
  for (let at = from; at + 8 <= to && !out.full; ) {
    const id = fourcc(b, at);
    const size = le ? u32le(b, at + 4) : u32be(b, at + 4);
    const body = at + 8;
    const declaredEnd = body + size + (size & 1);
    const end = Math.min(to, declaredEnd);
    const index = out.span(id, at, body, end, parent, le ? { offset: at + 4, bits: 32, le: true } : { offset: at + 4, bits: 32 });
    if ((id === 'RIFF' || id === 'LIST' || id === 'FORM' || id === 'RIFX') && size >= 4) chunks(out, body + 4, end, index, le);
    else fields(out, id, index, body, end, le);
    if (declaredEnd > to) return;
    at = declaredEnd;
  }
}

function fields(out: LayoutBuilder, id: string, index: number, body: number, end: number, le: boolean): void {
  const b = out.bytes;
  const name = out.path(index);
  const f = (field: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number, littleEndian = le) => {
    if (offset + bits / 8 <= end) out.field(`${name}.${field}`, role, littleEndian ? { offset, bits, le: true } : { offset, bits });
  };
  switch (id) {
    case 'fmt ':
      f('format_tag', 'value', body, 16);
      f('channels', 'channels', body + 2, 16);
      f('sample_rate', 'rate', body + 4, 32);
      f('byte_rate', 'rate', body + 8, 32);
      f('block_align', 'size', body + 12, 16);
      f('bits_per_sample', 'value', body + 14, 16);
      if (end - body >= 18) f('cb_size', 'size', body + 16, 16);
      break;
    case 'fact':
      f('sample_length', 'count', body, 32);
      break;
    case 'COMM':
      f('channels', 'channels', body, 16);
      f('sample_frames', 'count', body + 2, 32);
      f('sample_size', 'value', body + 6, 16);
      f('sample_rate.exponent', 'rate', body + 8, 16);
      break;
    case 'SSND':
      f('offset', 'size', body, 32);
      f('block_size', 'size', body + 4, 32);
      break;
    case 'VP8X':
      f('canvas_width_minus_one', 'dimension', body + 4, 24, true);
      f('canvas_height_minus_one', 'dimension', body + 7, 24, true);
      break;
    case 'VP8 ':
      // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height with 2 scale bits.
      if (b[body + 3] === 0x9d && b[body + 4] === 0x01 && b[body + 5] === 0x2a) {
        f('width', 'dimension', body + 6, 16, true);
        f('height', 'dimension', body + 8, 16, true);
      }
      break;
    case 'VP8L':
      // Signature 0x2f, then 14 bits of width - 1 and 14 of height - 1, lowest bit first.
      if (b[body] === 0x2f && body + 5 <= end) {
        out.field(`${name}.width_minus_one`, 'dimension', { offset: body + 1, bits: 14, le: true });
        out.field(`${name}.height_minus_one`, 'dimension', { offset: body + 2, bits: 14, bit: 6, le: true });
      }
      break;
    case 'ANMF':
      f('frame_width_minus_one', 'dimension', body + 6, 24, true);
      f('frame_height_minus_one', 'dimension', body + 9, 24, true);
      break;
    case 'ICCP':
      walkIcc(out, body, end, index);
      break;
    case 'EXIF':
      walkTiff(out, ascii(b, body, 'Exif') ? body + 6 : body, end, index);
      break;
    case 'avih':
      f('total_frames', 'count', body + 16, 32);
      f('streams', 'count', body + 24, 32);
      f('width', 'dimension', body + 32, 32);
      f('height', 'dimension', body + 36, 32);
      break;
  }
}
