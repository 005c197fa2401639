/**
 * EBML (Matroska, WebM): elements of a variable-length ID and a variable-length size (all ones:
 * unknown size), masters walked into. A size lie keeps the vint's length, so it is a field of
 * 7 bits per byte after the length marker. Fields: element sizes, Duration, TimecodeScale, picture
 * and display sizes, channels, sampling rate, CodecPrivate, block timecodes and lace counts.
 */
import { type Layout, LayoutBuilder, type Role } from './layout.js';

const MASTERS = new Map<number, string>([
  [0x1a45dfa3, 'EBML'],
  [0x18538067, 'Segment'],
  [0x114d9b74, 'SeekHead'],
  [0x4dbb, 'Seek'],
  [0x1549a966, 'Info'],
  [0x1654ae6b, 'Tracks'],
  [0xae, 'TrackEntry'],
  [0xe0, 'Video'],
  [0xe1, 'Audio'],
  [0x1f43b675, 'Cluster'],
  [0xa0, 'BlockGroup'],
  [0x1c53bb6b, 'Cues'],
  [0xbb, 'CuePoint'],
  [0xb7, 'CueTrackPositions'],
  [0x1254c367, 'Tags'],
  [0x7373, 'Tag'],
  [0x67c8, 'SimpleTag'],
  [0x63c0, 'Targets'],
  [0x1043a770, 'Chapters'],
  [0x45b9, 'EditionEntry'],
  [0xb6, 'ChapterAtom'],
  [0x6d80, 'ContentEncodings'],
  [0x6240, 'ContentEncoding'],
  [0x1941a469, 'Attachments'],
  [0x61a7, 'AttachedFile'],
  [0x75a1, 'BlockAdditions'],
  [0xa6, 'BlockMore'],
]);
const LEAVES: Record<number, string> = { 163: 'SimpleBlock', 161: 'Block', 25506: 'CodecPrivate', 134: 'CodecID', 236: 'Void', 17026: 'DocType' };

const VALUES: Record<number, [string, Role]> = {
  17545: ['Duration', 'duration'],
  2807729: ['TimecodeScale', 'rate'],
  176: ['PixelWidth', 'dimension'],
  186: ['PixelHeight', 'dimension'],
  21680: ['DisplayWidth', 'dimension'],
  21690: ['DisplayHeight', 'dimension'],
  159: ['Channels', 'channels'],
  181: ['SamplingFrequency', 'rate'],
  25188: ['BitDepth', 'value'],
  231: ['Timecode', 'duration'],
  2352003: ['DefaultDuration', 'duration'],
  22186: ['CodecDelay', 'duration'],
  22203: ['SeekPreRoll', 'duration'],
  21420: ['SeekPosition', 'size'],
  215: ['TrackNumber', 'value'],
  131: ['TrackType', 'value'],
};

const MAX_BLOCK_FIELDS = 200;

export function isEbml(b: Uint8Array): boolean {
  return b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3;
}

/** Length of the vint at `at` (1–8), or 0 when its first byte is 0. */
function vintLength(b: Uint8Array, at: number): number {
  const first = b[at] ?? 0;
  for (let l = 1; l <= 8; l++) if (first & (0x100 >> l)) return l;
  return 0;
}

export function walkEbml(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('ebml', bytes);
  const state = { blockFields: 0 };
  elements(out, 0, bytes.byteLength, undefined, state);
  return out.done();
}

function elements(out: LayoutBuilder, from: number, to: number, parent: number | undefined, state: { blockFields: number }): void {
  const b = out.bytes;
  for (let at = from; at < to && !out.full; ) {
    const idLength = vintLength(b, at);
    if (!idLength || idLength > 4) return;
    let id = 0;
    for (let i = 0; i < idLength; i++) id = id * 256 + (b[at + i] ?? 0);
    const sizeAt = at + idLength;
    const sizeLength = vintLength(b, sizeAt);
    if (!sizeLength) return;
    let size = (b[sizeAt] ?? 0) & (0xff >> sizeLength);
    let allOnes = size === 0xff >> sizeLength;
    for (let i = 1; i < sizeLength; i++) {
      size = size * 256 + (b[sizeAt + i] ?? 0);
      if (b[sizeAt + i] !== 0xff) allOnes = false;
    }
    const body = sizeAt + sizeLength;
    const end = allOnes ? to : Math.min(to, body + size);
    const name = MASTERS.get(id) ?? VALUES[id]?.[0] ?? LEAVES[id] ?? `0x${id.toString(16)}`;
    const index = out.span(name, at, body, end, parent, { offset: sizeAt, bits: 7 * sizeLength, bit: sizeLength });
    const value = VALUES[id];
    if (value && size >= 1 && size <= 8) out.field(`${out.path(index)}.value`, value[1], { offset: body, bits: 8 * size });
    if (id === 0x63a2) out.field(`${out.path(index)}.codec_private[0]`, 'count', { offset: body, bits: 8 });
    if ((id === 0xa3 || id === 0xa1) && state.blockFields < MAX_BLOCK_FIELDS) {
      // Block: track number (a vint), a signed 16-bit timecode, flags; with lacing, a frame count.
      const track = vintLength(b, body);
      if (track && body + track + 4 <= end) {
        state.blockFields++;
        out.field(`${out.path(index)}.timecode`, 'duration', { offset: body + track, bits: 16 });
        if ((b[body + track + 2] ?? 0) & 0x06) out.field(`${out.path(index)}.lace_count`, 'count', { offset: body + track + 3, bits: 8 });
      }
    }
    if (MASTERS.has(id)) elements(out, body, end, index, state);
    if (allOnes || body + size > to) return;
    at = body + size;
  }
}
