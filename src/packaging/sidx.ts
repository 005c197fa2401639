/**
 * The segment index (`sidx`, ISO/IEC 14496-12 8.16.3) of a single-file track: one reference per
 * media segment (its moof + mdat bytes, its duration, and that it starts with a sync sample), so a
 * DASH player (`SegmentBase indexRange`) finds each segment's byte range with one request.
 */
import { dv, fullBox, readBoxHeader, versionFlags } from './bmff.js';

export interface SidxReference {
  /** Bytes of the segment: its moof and mdat. */
  size: number;
  /** In the track's timescale. */
  duration: number;
}

export interface SegmentIndex {
  trackId: number;
  timescale: number;
  /** Presentation time of the first segment's earliest sample, in the timescale. */
  earliestPresentationTime: number;
  /** Bytes from the end of the `sidx` to the first segment. */
  firstOffset: number;
  references: SidxReference[];
}

/** A single-level index holds at most this many references (a 16-bit count). */
export const MAX_SIDX_REFERENCES = 0xffff;

export function sidxSize(count: number): number {
  // Box and full-box header, reference_ID, timescale, two 64-bit times, reserved, count, 12 bytes each.
  return 12 + 8 + 16 + 4 + 12 * count;
}

/** Version 1 (64-bit times): a track of a few hours at 90 kHz overflows 32 bits. */
export function sidx(index: SegmentIndex): Uint8Array {
  const { references } = index;
  if (references.length > MAX_SIDX_REFERENCES) throw new Error(`a segment index holds at most ${MAX_SIDX_REFERENCES} segments, not ${references.length}`);
  const body = new Uint8Array(sidxSize(references.length) - 12);
  const view = dv(body);
  view.setUint32(0, index.trackId);
  view.setUint32(4, index.timescale);
  view.setBigUint64(8, BigInt(index.earliestPresentationTime));
  view.setBigUint64(16, BigInt(index.firstOffset));
  view.setUint16(26, references.length);
  references.forEach((r, i) => {
    const at = 28 + i * 12;
    // reference_type 0: the bytes are media, not another index.
    if (r.size > 0x7fffffff) throw new Error(`segment ${i + 1} is ${r.size} bytes, more than a segment index can address`);
    view.setUint32(at, r.size);
    view.setUint32(at + 4, r.duration);
    // starts_with_SAP, SAP_type 1 (a closed GOP's IDR frame, or any audio frame), no delta.
    view.setUint32(at + 8, 0x90000000);
  });
  return fullBox('sidx', 1, 0, body);
}

/** Reads the `sidx` box at `at` in `bytes`; throws on anything it does not hold whole. */
export function readSidx(bytes: Uint8Array, at = 0): SegmentIndex & { end: number } {
  const header = readBoxHeader(bytes, at);
  if (header?.type !== 'sidx') throw new Error(`no sidx box at ${at}`);
  if (header.end > bytes.byteLength || header.end - header.payload < 4) throw new Error('the sidx box is truncated');
  const { version } = versionFlags(bytes, header);
  const view = dv(bytes);
  let p = header.payload + 4;
  const need = (n: number) => {
    if (p + n > header.end) throw new Error('the sidx box is truncated');
  };
  need(8);
  const trackId = view.getUint32(p);
  const timescale = view.getUint32(p + 4);
  p += 8;
  let earliestPresentationTime: number;
  let firstOffset: number;
  if (version === 0) {
    need(8);
    earliestPresentationTime = view.getUint32(p);
    firstOffset = view.getUint32(p + 4);
    p += 8;
  } else {
    need(16);
    earliestPresentationTime = Number(view.getBigUint64(p));
    firstOffset = Number(view.getBigUint64(p + 8));
    p += 16;
  }
  need(4);
  const count = view.getUint16(p + 2);
  p += 4;
  need(count * 12);
  const references: SidxReference[] = [];
  for (let i = 0; i < count; i++, p += 12) {
    const word = view.getUint32(p);
    if (word >>> 31) throw new Error('the sidx references another index (hierarchical indexes are not read)');
    references.push({ size: word & 0x7fffffff, duration: view.getUint32(p + 4) });
  }
  return { trackId, timescale, earliestPresentationTime, firstOffset, references, end: header.end };
}
