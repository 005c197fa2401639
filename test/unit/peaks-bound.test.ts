/**
 * The waveform accumulator holds at most `maxColumns` columns, whatever the decoded length: past
 * it, columns are counted and dropped (the call refuses the result with `E_LIMIT`), so a header
 * that understates the duration cannot grow the caller's memory.
 */
import { describe, expect, it } from 'vitest';
import { PeaksAccumulator } from '../../src/worker/kernels/peaks.js';

function ramp(frames: number, channels: number): Float32Array {
  const out = new Float32Array(frames * channels);
  for (let i = 0; i < out.length; i++) out[i] = Math.sin(i / 50) * 0.5;
  return out;
}

describe('PeaksAccumulator bound', () => {
  it('keeps every column under the bound', () => {
    const acc = new PeaksAccumulator(2, 100, 16, true, 1000);
    acc.push(ramp(50_000, 2), 50_000);
    const r = acc.finish();
    expect(r.length).toBe(500);
    expect(r.overflow).toBe(0);
    expect(r.data.length).toBe(500 * 2 * 2);
  });

  it('counts and drops the columns past it, and never allocates past it', () => {
    const acc = new PeaksAccumulator(1, 10, 8, false, 64);
    for (let i = 0; i < 100; i++) acc.push(ramp(1000, 1), 1000);
    const r = acc.finish();
    expect(r.length).toBe(64);
    expect(r.overflow).toBe(100 * 100 - 64);
    expect(r.data.length).toBe(64 * 2);
    // The kept columns are the first ones, exactly as an unbounded accumulator makes them.
    const free = new PeaksAccumulator(1, 10, 8, false);
    for (let i = 0; i < 100; i++) free.push(ramp(1000, 1), 1000);
    expect([...r.data]).toEqual([...free.finish().data.subarray(0, 64 * 2)]);
  });
});
