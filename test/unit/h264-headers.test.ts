/**
 * The slice-header reader that decides what encryption leaves clear, against native FFmpeg's
 * own parse of the same streams (test/fixtures/made/README.md, "H.264 slice headers").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { H264SyntaxError, ParameterSets, readSliceHeader, sliceHeaderSize } from '../../src/packaging/h264-headers.js';

const made = join(import.meta.dirname, '..', 'fixtures', 'made');
const oracle = JSON.parse(readFileSync(join(made, 'h264-slice-headers.json'), 'utf8')) as Record<string, number[]>;

/** The NAL units of an Annex B stream (start codes of 3 or 4 bytes). */
function annexB(bytes: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      starts.push(i + 3);
      i += 2;
    }
  }
  return starts.map((s, k) => {
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : bytes.length;
    while (end > s && bytes[end - 1] === 0) end--;
    return bytes.subarray(s, end);
  });
}

/** Writes an RBSP bit by bit, with Exp-Golomb codes, after a NAL header byte. */
class BitWriter {
  bits: number[] = [];
  u(v: number, n: number): this {
    for (let i = n - 1; i >= 0; i--) this.bits.push((v >> i) & 1);
    return this;
  }
  ue(v: number): this {
    const len = Math.floor(Math.log2(v + 1));
    return this.u(0, len).u(v + 1, len + 1);
  }
  se(v: number): this {
    return this.ue(v > 0 ? 2 * v - 1 : -2 * v);
  }
}

function rbsp(header: number, write: (w: BitWriter) => BitWriter): Uint8Array {
  const w = write(new BitWriter()).u(1, 1);
  while (w.bits.length % 8) w.bits.push(0);
  const out = [header];
  for (let i = 0; i < w.bits.length; i += 8) out.push(w.bits.slice(i, i + 8).reduce((a, b) => a * 2 + b, 0));
  return Uint8Array.from(out);
}

/** Emulation prevention (7.4.1): a 03 after 00 00 when the next byte is 00 to 03. */
function addEmulationPrevention(raw: Uint8Array): Uint8Array {
  const out: number[] = [];
  let zeros = 0;
  for (const b of raw) {
    if (zeros >= 2 && b <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(b);
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(out);
}

describe('H.264 slice headers', () => {
  it.each(Object.keys(oracle))('%s: every slice header ends where native FFmpeg says', (clip) => {
    const sets = new ParameterSets();
    const ends: number[] = [];
    for (const nal of annexB(readFileSync(join(made, clip)))) {
      const type = nal[0]! & 0x1f;
      if (type === 7 || type === 8) sets.add(nal);
      if (type === 1 || type === 5) {
        const header = readSliceHeader(nal, sets);
        ends.push(header.rbspBits);
        // The clear bytes cover the whole header, and no more than its last partial byte.
        expect(header.bytes * 8).toBeGreaterThanOrEqual(header.rbspBits);
      }
    }
    expect(ends.length).toBeGreaterThan(10);
    expect(ends).toEqual(oracle[clip]);
  });

  it('counts emulation prevention bytes in the stored size, and not in the RBSP bits', () => {
    // Baseline SPS with 16-bit frame_num, so a P slice's header holds two zero bytes in a row.
    const sps = rbsp(0x67, (w) => w.u(66, 8).u(0, 8).u(30, 8).ue(0).ue(12).ue(2).ue(1).u(0, 1).ue(0).ue(0).u(1, 1).u(1, 1).u(0, 1).u(0, 1));
    const pps = rbsp(0x68, (w) => w.ue(0).ue(0).u(0, 1).u(0, 1).ue(0).ue(0).ue(0).u(0, 1).u(0, 2).se(0).se(0).se(0).u(1, 1).u(0, 1).u(0, 1));
    // first_mb 0, P, PPS 0, frame_num 0 (16 zero bits), no override, no list change, a qp delta
    // whose code starts with 6 zeros (so 00 00 01 appears), deblocking off: 41 bits after the NAL
    // header; then slice data that needs escapes of its own.
    const slice = rbsp(0x01, (w) => w.ue(0).ue(5).ue(0).u(0, 16).u(0, 1).u(0, 1).se(32).ue(1).u(0, 3).u(0, 16).u(1, 8));
    const sets = new ParameterSets();
    sets.add(addEmulationPrevention(sps));
    sets.add(addEmulationPrevention(pps));
    const stored = addEmulationPrevention(slice);
    expect(stored.length).toBeGreaterThan(slice.length);
    const header = readSliceHeader(stored, sets);
    expect(header.rbspBits).toBe(8 + 41);
    // RBSP bytes 0..6 hold the header; the stored stream has one 03 inside them (after 00 00).
    const escapesBefore = (n: number) => addEmulationPrevention(slice.subarray(0, n)).length - n;
    expect(escapesBefore(7)).toBe(1);
    expect(header.bytes).toBe(7 + 1);
  });

  it('refuses a slice whose parameter sets were never sent, and a header cut short', () => {
    const nals = annexB(readFileSync(join(made, 'h264-high-b3-weightp.h264')));
    const slice = nals.find((n) => (n[0]! & 0x1f) === 5)!;
    expect(() => sliceHeaderSize(slice, new ParameterSets())).toThrow(H264SyntaxError);
    const sets = new ParameterSets();
    for (const nal of nals) if ((nal[0]! & 0x1f) >= 7 && (nal[0]! & 0x1f) <= 8) sets.add(nal);
    expect(() => sliceHeaderSize(slice.subarray(0, 2), sets)).toThrow(H264SyntaxError);
  });
});
