/**
 * engine.peaks and engine.analyze: audiowaveform-compatible JSON (version 2) from the same decode
 * as loudness, checked against signals whose every column is known.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Waveform } from '../dist/index.js';
import { withoutCall } from './helpers/call.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';
import { writeWav } from './helpers/wav.js';

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir('sandcodec-peaks-');
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

/** 1 s of silence, then 1 s of a 441 Hz sine at `amp` (left) and amp/2 (right), 44.1 kHz float. */
function stepFile(name: string, amp: number): string {
  const path = join(dir, name);
  const rate = 44100;
  writeWav(path, { format: 'f32', sampleRate: rate, channels: 2, frames: 2 * rate }, (chunk, first, frames) => {
    for (let f = 0; f < frames; f++) {
      const i = first + f;
      const v = i < rate ? 0 : Math.sin((2 * Math.PI * 441 * i) / rate);
      chunk[2 * f] = amp * v;
      chunk[2 * f + 1] = (amp / 2) * v;
    }
  });
  return path;
}

function columns(w: Waveform): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  for (let x = 0; x < w.length; x++) {
    const col: Array<[number, number]> = [];
    for (let c = 0; c < w.channels; c++) col.push([w.data[(x * w.channels + c) * 2]!, w.data[(x * w.channels + c) * 2 + 1]!]);
    out.push(col);
  }
  return out;
}

describe('engine.peaks', () => {
  it('16-bit, channels mixed: silent columns are 0, sine columns reach the mixed amplitude', async () => {
    const w = await engine.peaks({ path: stepFile('step.wav', 0.8) }, { pixelsPerSecond: 20 });
    expect(w).toMatchObject({ version: 2, channels: 1, sample_rate: 44100, samples_per_pixel: 2205, bits: 16, length: 40 });
    expect(w.data).toHaveLength(80);
    const cols = columns(w);
    for (const [[lo, hi]] of cols.slice(0, 20) as Array<[[number, number]]>) expect([lo, hi]).toEqual([0, 0]);
    // Mixed: (0.8 + 0.4) / 2 = 0.6 of full scale; every 50 ms column holds whole cycles.
    const expected = 0.6 * 32767;
    for (const [[lo, hi]] of cols.slice(20) as Array<[[number, number]]>) {
      expect(Math.abs(hi - expected)).toBeLessThan(3);
      expect(Math.abs(lo + expected)).toBeLessThan(3);
    }
  });

  it('8-bit, split channels: one min/max pair per channel per column', async () => {
    const w = await engine.peaks({ path: stepFile('step2.wav', 0.8) }, { samplesPerPixel: 4410, bits: 8, splitChannels: true });
    expect(w).toMatchObject({ version: 2, channels: 2, samples_per_pixel: 4410, bits: 8, length: 20 });
    expect(w.data).toHaveLength(20 * 2 * 2);
    const last = columns(w)[19]!;
    expect(last[0]![1]).toBeGreaterThanOrEqual(Math.round(0.8 * 127) - 1);
    expect(last[0]![1]).toBeLessThanOrEqual(Math.ceil(0.8 * 127));
    expect(last[1]![1]).toBeGreaterThanOrEqual(Math.round(0.4 * 127) - 1);
    expect(last[1]![0]).toBeLessThanOrEqual(-Math.round(0.4 * 127) + 1);
    expect(w.data.every((v) => v >= -128 && v <= 127)).toBe(true);
  });

  it('a real file: one column per samples_per_pixel of decoded audio, the highest column is the sample peak', async () => {
    const path = media('audio', 'ambi_lunar_land.flac');
    const [w, probe, m] = await Promise.all([
      engine.peaks({ path }, { pixelsPerSecond: 50, splitChannels: true }),
      engine.probe({ path }, { decode: true }),
      engine.loudness({ path }),
    ]);
    const rate = probe.streams[0]!.sampleRate!;
    expect(w.sample_rate).toBe(rate);
    expect(w.samples_per_pixel).toBe(Math.round(rate / 50));
    expect(w.length).toBe(Math.ceil(Math.round(probe.decodedDuration! * rate) / w.samples_per_pixel));
    const top = Math.max(...w.data.map(Math.abs)) / 32767;
    expect(Math.abs(20 * Math.log10(top) - m.samplePeak)).toBeLessThan(0.01);
  });

  it('refuses bad options with E_OPTIONS naming the option', async () => {
    await expect(engine.peaks({ path: media('audio', 'loop_amen.flac') }, { bits: 12 as 8 })).rejects.toMatchObject({
      code: 'E_OPTIONS',
      details: { option: 'bits' },
    });
    await expect(engine.peaks({ path: media('audio', 'loop_amen.flac') }, { pixelsPerSecond: 0 })).rejects.toMatchObject({ code: 'E_OPTIONS' });
  });
});

describe('engine.analyze', () => {
  it('loudness and peaks from one decode equal the separate calls', async () => {
    const path = media('audio', 'illurock.opus');
    const both = await engine.analyze({ path }, { peaks: { pixelsPerSecond: 10 } });
    const [loudness, peaks] = await Promise.all([engine.loudness({ path }), engine.peaks({ path }, { pixelsPerSecond: 10 })]);
    expect(both.loudness).toEqual(withoutCall(loudness));
    expect(both.peaks).toEqual(withoutCall(peaks));
    const probe = await engine.probe({ path }, { decode: true });
    expect(both.sampleRate).toBe(48000);
    expect(both.channels).toBe(probe.streams[0]!.channels);
    expect(Math.abs(both.duration - probe.decodedDuration!)).toBeLessThan(0.02);
  });

  it('without loudness and peaks there is nothing to measure: E_OPTIONS', async () => {
    await expect(engine.analyze({ path: media('audio', 'loop_amen.flac') }, { loudness: false })).rejects.toMatchObject({ code: 'E_OPTIONS' });
  });

  it('an input without audio: E_UNSUPPORTED', async () => {
    const image = media('image', (await import('node:fs')).readdirSync(join(media('image', ''))).find((f) => f.endsWith('.png'))!);
    await expect(engine.loudness({ path: image })).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
  });
});
