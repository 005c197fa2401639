/**
 * Two payloads that ride inside other formats: EXIF (a TIFF structure: IFD entry counts, value
 * counts and offsets, the orientation) and ICC profiles (declared size, tag count, tag offsets and
 * sizes, curve and LUT table sizes). Image decoders parse both themselves, so both get lies.
 */
import { ascii, fourcc, type LayoutBuilder, u16be, u16le, u32be, u32le } from './layout.js';

const MAX_IFDS = 4;
const MAX_ENTRIES = 64;
const TYPE_SIZES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8];

/** Walks a TIFF header and its IFDs at `base` (offsets inside are relative to it). */
export function walkTiff(out: LayoutBuilder, base: number, end: number, parent: number | undefined): void {
  const b = out.bytes;
  const le = ascii(b, base, 'II');
  if (!le && !ascii(b, base, 'MM')) return;
  const u16 = (at: number) => (le ? u16le(b, at) : u16be(b, at));
  const u32 = (at: number) => (le ? u32le(b, at) : u32be(b, at));
  const f = (name: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number) => {
    if (offset + bits / 8 <= end) out.field(`exif.${name}`, role, le ? { offset, bits, le: true } : { offset, bits });
  };
  f('ifd0_offset', 'size', base + 4, 32);
  const queue = [u32(base + 4)];
  const seen = new Set<number>();
  for (let n = 0; n < MAX_IFDS && queue.length > 0; n++) {
    const rel = queue.shift()!;
    const at = base + rel;
    if (rel < 8 || seen.has(rel) || at + 2 > end) continue;
    seen.add(rel);
    const count = u16(at);
    out.span(`ifd@${rel}`, at, at + 2, Math.min(end, at + 2 + count * 12 + 4), parent);
    f(`ifd@${rel}.count`, 'count', at, 16);
    for (let i = 0; i < Math.min(count, MAX_ENTRIES); i++) {
      const e = at + 2 + i * 12;
      if (e + 12 > end) break;
      const tag = u16(e);
      const type = u16(e + 2);
      const values = u32(e + 4);
      const name = `ifd@${rel}.tag${tag.toString(16).padStart(4, '0')}`;
      f(`${name}.count`, 'count', e + 4, 32);
      if ((TYPE_SIZES[type] ?? 1) * values > 4) f(`${name}.offset`, 'size', e + 8, 32);
      if (tag === 0x0112) f(`${name}.orientation`, 'value', e + 8, 16);
      if (tag === 0xa002 || tag === 0xa003) f(`${name}.pixel_dimension`, 'dimension', e + 8, type === 3 ? 16 : 32);
      // ExifIFD, GPS IFD, Interop IFD: more IFDs to walk.
      if (tag === 0x8769 || tag === 0x8825 || tag === 0xa005) queue.push(u32(e + 8));
    }
    const next = at + 2 + count * 12;
    if (next + 4 <= end) {
      f(`ifd@${rel}.next`, 'size', next, 32);
      if (u32(next) !== 0) queue.push(u32(next));
    }
  }
}

/** Walks an ICC profile at `base`: header, tag table, and the table sizes of curves and LUTs. */
export function walkIcc(out: LayoutBuilder, base: number, end: number, parent: number | undefined): void {
  const b = out.bytes;
  if (base + 132 > end || !ascii(b, base + 36, 'acsp')) return;
  const f = (name: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number) => {
    if (offset + bits / 8 <= end) out.field(`icc.${name}`, role, { offset, bits });
  };
  f('profile_size', 'size', base, 32);
  f('tag_count', 'count', base + 128, 32);
  const count = Math.min(u32be(b, base + 128), 48);
  const span = out.span('icc', base, base + 128, Math.min(end, base + u32be(b, base)), parent);
  for (let i = 0; i < count; i++) {
    const e = base + 132 + i * 12;
    if (e + 12 > end) break;
    const sig = fourcc(b, e);
    f(`${sig}.offset`, 'size', e + 4, 32);
    f(`${sig}.size`, 'size', e + 8, 32);
    const at = base + u32be(b, e + 4);
    if (at + 12 > end) continue;
    const kind = fourcc(b, at);
    out.span(`${sig}:${kind}`, at, at + 8, Math.min(end, at + u32be(b, e + 8)), span);
    if (kind === 'curv') f(`${sig}.curv.count`, 'count', at + 8, 32);
    if (kind === 'mft2' || kind === 'mft1') {
      f(`${sig}.${kind}.input_channels`, 'channels', at + 8, 8);
      f(`${sig}.${kind}.output_channels`, 'channels', at + 9, 8);
      f(`${sig}.${kind}.grid_points`, 'count', at + 10, 8);
      if (kind === 'mft2') {
        f(`${sig}.mft2.input_entries`, 'count', at + 48, 16);
        f(`${sig}.mft2.output_entries`, 'count', at + 50, 16);
      }
    }
    if (kind === 'mAB ' || kind === 'mBA ') {
      f(`${sig}.${kind}.input_channels`, 'channels', at + 8, 8);
      f(`${sig}.${kind}.output_channels`, 'channels', at + 9, 8);
      f(`${sig}.${kind}.clut_offset`, 'size', at + 24, 32);
    }
  }
}
