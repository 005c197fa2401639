/**
 * One worker, one FFmpeg core, a thousand jobs in a row: the stack-pointer and stack-size
 * patches (DESIGN.md, crashes 1 and 2) are what keep this from dying with "memory access out of
 * bounds" after a few hundred runs or on the first 48 kHz Opus job.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';

let engine: Engine;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
});

afterAll(async () => {
  await engine?.close();
});

describe('soak', () => {
  it('48 kHz Opus encodes and decodes', async () => {
    const source = await engine.generate({ kind: 'noise', seconds: 5, sampleRate: 48000, channels: 2, preset: 'wav' });
    const opus = await engine.transcode(source.bytes!, { preset: 'opus-96' });
    expect(opus.codec).toBe('opus');
    const check = await engine.probe(opus.bytes!, { decode: true });
    expect(check.streams[0]).toMatchObject({ type: 'audio', codec: 'opus', sampleRate: 48000, channels: 2 });
    expect(check.decodedDuration).toBeCloseTo(5, 2);
    // 96 kbit/s asked: the average over the file lands near it (Ogg overhead included).
    expect((opus.size * 8) / 5).toBeGreaterThan(70_000);
    expect((opus.size * 8) / 5).toBeLessThan(125_000);
  });

  it('1,000 consecutive jobs on one worker all succeed', async () => {
    expect(engine.workers).toBe(1);
    const tiny = (await engine.generate({ kind: 'sine', seconds: 0.1, sampleRate: 44100, channels: 1, preset: 'wav' })).bytes!;
    const opusSource = (await engine.generate({ kind: 'sine', seconds: 0.5, sampleRate: 48000, channels: 2, preset: 'wav' })).bytes!;
    const reference = await engine.transcode(tiny, { preset: 'flac' });

    // Transcodes (a probe job and an encode job each) alternate with plain probes; every 50th
    // call is a 48 kHz Opus encode, the job that overflowed the core's default stack. The count
    // that matters is the core's runs (pool jobs), not the calls that make them.
    let transcodes = 0;
    let probes = 0;
    let opusRuns = 0;
    let pooled = 0;
    const started = performance.now();
    let calls = 0;
    for (let i = 0; pooled < 1000; i++, calls++) {
      if (i % 50 === 49) {
        const out = await engine.transcode(opusSource, { preset: 'opus-96' });
        expect(out.codec).toBe('opus');
        expect(out.source.streams[0]!.sampleRate).toBe(48000);
        opusRuns++;
        pooled += 2;
      } else if (i % 2 === 0) {
        const out = await engine.transcode(tiny, { preset: 'flac' });
        // FLAC is deterministic: any drift in size means the core's state leaked between jobs.
        expect(out.size).toBe(reference.size);
        transcodes++;
        pooled += 2;
      } else {
        const probe = await engine.probe(tiny);
        expect(probe.streams[0]).toMatchObject({ codec: 'pcm_s16le', sampleRate: 44100, channels: 1 });
        expect(probe.duration).toBeCloseTo(0.1, 3);
        probes++;
        pooled += 1;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`${pooled} pool jobs (${calls} calls: ${transcodes} flac, ${probes} probes, ${opusRuns} opus) in ${seconds.toFixed(1)} s on one worker`);
    expect(transcodes + probes + opusRuns).toBe(calls);
    expect(opusRuns).toBeGreaterThanOrEqual(13);
    expect(pooled).toBeGreaterThanOrEqual(1000);
    expect(engine.inFlight).toBe(0);

    // The core still decodes exactly after all that.
    const last = await engine.transcode(tiny, { preset: 'flac' });
    const check = await engine.probe(last.bytes!, { decode: true });
    expect(check.decodedDuration).toBeCloseTo(0.1, 3);
  });
});
