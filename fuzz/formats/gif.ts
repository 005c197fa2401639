/**
 * GIF: header and logical screen, then extension and image blocks made of length-prefixed
 * sub-blocks, and the trailer. Fields: screen and frame sizes, colour table sizes, LZW code size,
 * and sub-block lengths (the GIF size lie).
 */
import { ascii, type Layout, LayoutBuilder } from './layout.js';

const MAX_SUBBLOCK_FIELDS = 2_000;

export function isGif(b: Uint8Array): boolean {
  return ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a');
}

export function walkGif(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('gif', bytes);
  const n = bytes.byteLength;
  const le16 = (offset: number) => ({ offset, bits: 16, le: true });
  out.field('screen.width', 'dimension', le16(6));
  out.field('screen.height', 'dimension', le16(8));
  out.field('screen.flags', 'value', { offset: 10, bits: 8 });
  const flags = bytes[10] ?? 0;
  let at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  out.span('header', 0, 13, at, undefined);
  let subFields = 0;
  const subBlocks = (from: number, parent: number): number => {
    let p = from;
    while (p < n) {
      const len = bytes[p]!;
      if (subFields++ < MAX_SUBBLOCK_FIELDS) out.field(`${out.spans[parent]?.name ?? 'block'}.subblock@${p}`, 'size', { offset: p, bits: 8 });
      if (len === 0) return p + 1;
      p += 1 + len;
    }
    return n;
  };
  for (let frame = 0; at < n && !out.full; ) {
    const kind = bytes[at]!;
    if (kind === 0x3b) {
      out.span('trailer', at, at + 1, at + 1, undefined);
      break;
    }
    if (kind === 0x21) {
      const label = bytes[at + 1] ?? 0;
      const index = out.span(`ext${label.toString(16)}`, at, at + 2, n, undefined);
      if (label === 0xf9) out.field(`gce.delay`, 'duration', le16(at + 4));
      const end = subBlocks(at + 2, index);
      setEnd(out, index, end);
      at = end;
    } else if (kind === 0x2c) {
      const name = `image${frame++}`;
      const index = out.span(name, at, at + 10, n, undefined);
      out.field(`${name}.width`, 'dimension', le16(at + 5));
      out.field(`${name}.height`, 'dimension', le16(at + 7));
      out.field(`${name}.flags`, 'value', { offset: at + 9, bits: 8 });
      const f = bytes[at + 9] ?? 0;
      const data = at + 10 + (f & 0x80 ? 3 * 2 ** ((f & 7) + 1) : 0);
      out.field(`${name}.lzw_min_code_size`, 'value', { offset: data, bits: 8 });
      const end = subBlocks(data + 1, index);
      setEnd(out, index, end);
      at = end;
    } else {
      break;
    }
  }
  return out.done();
}

/** A block's end is known only after its sub-blocks are walked. */
function setEnd(out: LayoutBuilder, index: number, end: number): void {
  const span = out.spans[index];
  if (span) span.end = Math.min(end, out.bytes.byteLength);
}
