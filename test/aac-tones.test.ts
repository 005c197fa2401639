/**
 * Steady tones through every AAC path (file presets and packaging): the decoded rendition must
 * follow the source frame by frame, without the clicks this build's AAC temporal noise shaping
 * writes on tones (2.3x peaks, 13 dB frames among 31 dB ones).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { makeTempDir, removeTempDir } from './helpers/media.js';
import { readWav } from './helpers/wav.js';

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

const FRAME = 1024;

/** Worst frame of `decoded` against `reference` (mono mixes, aligned): peak ratio and SNR. */
function worstFrames(reference: Float32Array, decoded: Float32Array) {
  let peakRatio = 0;
  let minSnr = Infinity;
  // The first and last frames hold the encoder's fade in and padding: steady state only.
  for (let f = FRAME; f + 2 * FRAME <= Math.min(reference.length, decoded.length); f += FRAME) {
    let signal = 0;
    let error = 0;
    let peakRef = 0;
    let peakDec = 0;
    for (let i = f; i < f + FRAME; i++) {
      signal += reference[i]! ** 2;
      error += (decoded[i]! - reference[i]!) ** 2;
      peakRef = Math.max(peakRef, Math.abs(reference[i]!));
      peakDec = Math.max(peakDec, Math.abs(decoded[i]!));
    }
    peakRatio = Math.max(peakRatio, peakDec / peakRef);
    minSnr = Math.min(minSnr, 10 * Math.log10(signal / error));
  }
  return { peakRatio, minSnr };
}

const mono = (wav: { samples: Float32Array; channels: number }) => {
  const out = new Float32Array(wav.samples.length / wav.channels);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (let c = 0; c < wav.channels; c++) sum += wav.samples[i * wav.channels + c]!;
    out[i] = sum / wav.channels;
  }
  return out;
};

const decode = async (input: { path: string } | { data: Uint8Array; name: string }) => mono(readWav((await engine.transcode(input, { preset: 'wav' })).bytes!));

describe('AAC on a steady tone', () => {
  // The tone of a generated video (440 Hz, AAC): the signal the clicks were found on.
  let source: string;
  let reference: Float32Array;

  beforeAll(async () => {
    source = (await engine.generateVideo({ seconds: 6, width: 160, height: 90, output: join(dir, 'source.mp4') })).path!;
    reference = await decode({ path: source });
  });

  it('file presets follow it frame by frame', async () => {
    for (const preset of ['aac-128', 'aac-256']) {
      const out = await engine.transcode({ path: source }, { preset });
      const worst = worstFrames(reference, await decode({ data: out.bytes!, name: `${preset}.m4a` }));
      expect(worst.peakRatio, `${preset} peak ratio`).toBeLessThan(1.2);
      expect(worst.minSnr, `${preset} worst frame SNR`).toBeGreaterThan(20);
    }
  });

  it('packaged renditions follow it frame by frame, once the edit list has trimmed the priming', async () => {
    const pkg = await engine.package({ path: source }, { audioOnly: true, audio: ['aac-128', 'aac-64'], outputDir: join(dir, 'pkg') });
    for (const a of pkg.audio) {
      const files = [a.init, ...a.segments.map((s) => `${a.id}/${s.file}`)].map((f) => readFileSync(join(pkg.outputDir, f)));
      const decoded = await decode({ data: Buffer.concat(files), name: `${a.id}.mp4` });
      // The decoder hands out the priming samples; a player drops what the edit list says.
      const worst = worstFrames(reference, decoded.subarray(a.priming));
      // 64 kbit/s quantizes a tone coarsely (about 1.25x peaks, 12 dB): still far from a click.
      const low = a.id === 'aac-64';
      expect(worst.peakRatio, `${a.id} peak ratio`).toBeLessThan(low ? 1.5 : 1.2);
      expect(worst.minSnr, `${a.id} worst frame SNR`).toBeGreaterThan(low ? 10 : 20);
    }
    expect(readdirSync(pkg.outputDir).sort()).toEqual(['.sandcodec-package.json', 'aac-128', 'aac-64', 'manifest.mpd', 'master.m3u8']);
  });
});
