/**
 * The segment index writer and reader: what is written reads back, 64-bit times survive, and a
 * box that lies about its length or points at another index is refused instead of misread.
 */
import { describe, expect, it } from 'vitest';
import { MAX_SIDX_REFERENCES, readSidx, sidx, sidxSize } from '../../src/packaging/sidx.js';

const index = {
  trackId: 2,
  timescale: 90_000,
  // Past 32 bits: a programme of half a day at 90 kHz.
  earliestPresentationTime: 12 * 3600 * 90_000,
  firstOffset: 0,
  references: [
    { size: 51_234, duration: 360_000 },
    { size: 48_000, duration: 360_000 },
    { size: 9_876, duration: 93_600 },
  ],
};

describe('sidx', () => {
  it('reads back what it writes, at its stated size', () => {
    const box = sidx(index);
    expect(box.byteLength).toBe(sidxSize(3));
    const back = readSidx(box);
    expect(back).toEqual({ ...index, end: box.byteLength });
    // starts_with_SAP and SAP type 1 on every reference.
    const view = new DataView(box.buffer, box.byteOffset);
    for (let i = 0; i < 3; i++) expect(view.getUint32(40 + i * 12 + 8)).toBe(0x90000000);
  });

  it('reads an index found later in a file', () => {
    const box = sidx(index);
    const file = new Uint8Array(100 + box.byteLength);
    file.set(box, 100);
    expect(readSidx(file, 100).end).toBe(100 + box.byteLength);
  });

  it('refuses a truncated box, a count past the box and a hierarchical reference', () => {
    const box = sidx(index);
    expect(() => readSidx(box.subarray(0, box.byteLength - 4))).toThrow(/truncated/);
    const lying = box.slice();
    new DataView(lying.buffer).setUint16(38, 4);
    expect(() => readSidx(lying)).toThrow(/truncated/);
    const nested = box.slice();
    nested[40] = nested[40]! | 0x80;
    expect(() => readSidx(nested)).toThrow(/another index/);
    expect(() => readSidx(new Uint8Array(16))).toThrow(/no sidx/);
  });

  it('refuses more segments than one index holds, and a segment too large to address', () => {
    const many = { ...index, references: Array.from({ length: MAX_SIDX_REFERENCES + 1 }, () => ({ size: 1, duration: 1 })) };
    expect(() => sidx(many)).toThrow(/at most 65535/);
    expect(() => sidx({ ...index, references: [{ size: 2 ** 31, duration: 1 }] })).toThrow(/more than a segment index can address/);
  });
});
