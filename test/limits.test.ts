/**
 * Each safety limit raises its own error: E_LIMIT with `details.limit` naming the option (or
 * E_TIMEOUT / E_QUEUE_FULL), before work when it can be known up front, and without leaving a
 * partial output behind. After every refusal the same pool keeps serving.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, createEngine, type Engine, LimitError, type Progress, QueueFullError, TimeoutError } from '../dist/index.js';
import type { FFmpegPlan } from '../dist/model/plan.js';
import { compileCore } from '../dist/pool/core-module.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { runPlan } from '../dist/worker/ffmpeg/run-plan.js';

const MiB = 1024 ** 2;
const mediaDir = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures');

let engine: Engine;
let dir: string;
/** 10 s of generated music as FLAC, the source of most cases below. */
let tenSeconds: Uint8Array;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await mkdtemp(join(tmpdir(), 'sandcodec-limits-'));
  tenSeconds = (await engine.generate({ kind: 'music', seconds: 10, sampleRate: 44100, preset: 'flac' })).bytes!;
});

afterAll(async () => {
  await engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );
}

/** Proves the pool still serves: a real encode whose output decodes to the expected length. */
async function stillServes(): Promise<void> {
  const out = await engine.transcode(tenSeconds, { preset: 'opus-96' });
  expect(out.codec).toBe('opus');
  const check = await engine.probe(out.bytes!, { decode: true });
  expect(check.decodedDuration).toBeCloseTo(10, 1);
}

describe('maxInputBytes', () => {
  it('refuses bytes, paths and streams larger than the limit before any work', async () => {
    const limits = { maxInputBytes: 1000 };
    for (const input of [tenSeconds, { data: tenSeconds, name: 'x.flac' }, new Blob([tenSeconds]).stream()]) {
      const err = await rejection(engine.probe(input as Uint8Array, { limits }));
      expect(err).toBeInstanceOf(LimitError);
      expect((err as LimitError).code).toBe('E_LIMIT');
      expect((err as LimitError).details.limit).toBe('maxInputBytes');
      expect((err as LimitError).details.max).toBe(1000);
    }
    const { writeFile } = await import('node:fs/promises');
    const path = join(dir, 'in.flac');
    await writeFile(path, tenSeconds);
    const err = await rejection(engine.transcode({ path }, { preset: 'wav', limits }));
    expect((err as LimitError).details).toMatchObject({ limit: 'maxInputBytes', max: 1000, actual: tenSeconds.byteLength });
    await rm(path);
    // Exactly at the limit is allowed.
    const probe = await engine.probe(tenSeconds, { limits: { maxInputBytes: tenSeconds.byteLength } });
    expect(probe.duration).toBeCloseTo(10, 1);
  });
});

describe('maxDurationSeconds', () => {
  it('refuses a 10 s input with maxDurationSeconds 5 from its probe, before encoding', async () => {
    const phases = new Set<string>();
    const output = join(dir, 'too-long.wav');
    const err = await rejection(
      engine.transcode(tenSeconds, { preset: 'wav', output, limits: { maxDurationSeconds: 5 }, onProgress: (p: Progress) => phases.add(p.phase) }),
    );
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).details).toMatchObject({ limit: 'maxDurationSeconds', max: 5 });
    expect((err as LimitError).details.actual).toBeCloseTo(10, 1);
    expect((err as LimitError).message).toMatch(/10\.0 s, longer than maxDurationSeconds \(5 s\)/);
    // No encode phase ever reported progress: the refusal came from the probe.
    expect([...phases]).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('stops an input whose header lies about its length once decoding passes the limit', async () => {
    // A real 7.4 s FLAC whose STREAMINFO claims 1 s (44 100 samples): the probe believes it.
    const flac = new Uint8Array(await readFile(join(mediaDir, 'audio', 'ambi_lunar_land.flac')));
    expect(new TextDecoder().decode(flac.subarray(0, 4))).toBe('fLaC');
    flac[21] = flac[21]! & 0xf0;
    new DataView(flac.buffer, flac.byteOffset).setUint32(22, 44100);
    const probe = await engine.probe(flac);
    expect(probe.duration).toBeCloseTo(1, 2);

    const output = join(dir, 'liar.wav');
    const err = await rejection(engine.transcode(flac, { preset: 'wav', output, limits: { maxDurationSeconds: 3 } }));
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).details).toMatchObject({ limit: 'maxDurationSeconds', max: 3 });
    expect(await readdir(dir)).toEqual([]);
    // Without the limit the whole file decodes: the header, not the audio, was wrong.
    const full = await engine.transcode(flac, { preset: 'flac' });
    expect((await engine.probe(full.bytes!, { decode: true })).decodedDuration).toBeCloseTo(7.39, 1);
  });

  it('lets a generated job run only up to the limit (the run is stopped at the limit, not after)', async () => {
    const err = await rejection(engine.generate({ kind: 'sine', seconds: 60, preset: 'flac', limits: { maxDurationSeconds: 3 } }));
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).details).toMatchObject({ limit: 'maxDurationSeconds', max: 3 });
  });
});

describe('maxOutputBytes', () => {
  it('stops a WAV encode of 10 s at 100 kB and leaves no file behind', async () => {
    const output = join(dir, 'big.wav');
    const err = await rejection(engine.transcode(tenSeconds, { preset: 'wav', output, limits: { maxOutputBytes: 100_000 } }));
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).details).toMatchObject({ limit: 'maxOutputBytes', max: 100_000 });
    expect(await readdir(dir)).toEqual([]);
    // As bytes too: nothing comes back.
    const err2 = await rejection(engine.transcode(tenSeconds, { preset: 'wav', limits: { maxOutputBytes: 100_000 } }));
    expect((err2 as LimitError).details.limit).toBe('maxOutputBytes');
    // The same encode fits a limit just above its real size (10 s × 44.1 kHz × 2 ch × 16 bit).
    const ok = await engine.transcode(tenSeconds, { preset: 'wav', output, limits: { maxOutputBytes: 1_800_000 } });
    expect(ok.size).toBeGreaterThan(1_760_000);
    expect(await readdir(dir)).toEqual(['big.wav']);
    await rm(output);
  });
});

describe('maxHeapBytes', () => {
  it('a job that buffers its whole stream fails with maxHeapBytes and the core runs the next job', async () => {
    // No public call buffers a whole decoded stream, so this drives the core directly: `areverse`
    // must hold 200 s × 48 kHz of f64 samples (~77 MB) before it emits its first frame.
    const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
    const core = await FFmpegCore.create(await compileCore(), { cancelFlag, heapBudget: Number.MAX_SAFE_INTEGER });
    const plan = (seconds: number, maxHeapBytes: number): FFmpegPlan => ({
      op: 'ffmpeg',
      phase: 'reverse',
      inputs: [],
      outputs: [],
      args: ['-f', 'lavfi', '-i', `anoisesrc=sample_rate=48000:duration=${seconds}:seed=1`, '-af', 'areverse', '-f', 'null', '-'],
      limits: { maxOutputBytes: 2 ** 31, maxReturnedBytes: 2 ** 28, maxHeapBytes, maxDurationSeconds: 3600 },
    });
    const ctx = { core, cancelFlag, emit: () => {} };
    let err: unknown;
    try {
      await runPlan(plan(200, 64 * MiB), ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).details).toMatchObject({ limit: 'maxHeapBytes', max: 64 * MiB });
    expect(core.heapBytes).toBeLessThanOrEqual(64 * MiB);
    // The same instance runs the next job, small enough for the budget, to completion.
    const small = await runPlan(plan(5, 64 * MiB), ctx);
    expect(small.mediaSeconds).toBeCloseTo(5, 1);
    // And the big one passes with a budget that fits it: the limit, not the job, was the cause.
    const big = await runPlan(plan(200, 512 * MiB), ctx);
    expect(big.mediaSeconds).toBeCloseTo(200, 0);
    expect(core.heapBytes).toBeGreaterThan(64 * MiB);
  });

  it('is passed to the job: a normal transcode fits 64 MiB', async () => {
    const out = await engine.transcode(tenSeconds, { preset: 'aac-128', limits: { maxHeapBytes: 64 * MiB } });
    expect(out.codec).toBe('aac');
    expect(out.size).toBeGreaterThan(100_000);
  });
});

describe('timeoutMs', () => {
  it('stops a long job with E_TIMEOUT and the pool serves the next job', async () => {
    let progressed = false;
    const started = performance.now();
    const err = await rejection(
      // Long enough for the job to report progress on a slow machine; an hour of music takes minutes.
      engine.generate({ kind: 'music', seconds: 3600, preset: 'flac', limits: { timeoutMs: 3000 }, onProgress: () => (progressed = true) }),
    );
    const settledMs = performance.now() - started;
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('E_TIMEOUT');
    expect(progressed).toBe(true);
    console.log(`timeoutMs 3000: the call settled ${settledMs.toFixed(0)} ms after it was made`);
    expect(engine.inFlight).toBe(0);
    await stillServes();
  });
});

describe('maxQueue', () => {
  it('refuses a job beyond workers + maxQueue with E_QUEUE_FULL, at once', async () => {
    const small = await createEngine({ workers: 1, maxQueue: 1 });
    try {
      const controller = new AbortController();
      const { signal } = controller;
      const running = small.generate({ kind: 'music', seconds: 3600, preset: 'flac', signal }).catch((e: unknown) => e);
      const queued = small.generate({ kind: 'music', seconds: 3600, preset: 'flac', signal }).catch((e: unknown) => e);
      expect(small.inFlight).toBe(2);
      const err = await rejection(small.generate({ kind: 'sine', seconds: 0.1 }));
      expect(err).toBeInstanceOf(QueueFullError);
      expect((err as QueueFullError).code).toBe('E_QUEUE_FULL');
      expect((err as QueueFullError).details).toMatchObject({ limit: 'maxQueue', max: 1 });
      controller.abort();
      expect(await running).toBeInstanceOf(AbortedError);
      expect(await queued).toBeInstanceOf(AbortedError);
      expect(small.inFlight).toBe(0);
      // Room again once the two settled.
      const out = await small.generate({ kind: 'sine', seconds: 0.5, preset: 'wav' });
      expect(out.size).toBeGreaterThan(40_000);
    } finally {
      await small.close();
    }
  });

  it('maxQueue 0 runs one job per worker and refuses any waiting', async () => {
    const small = await createEngine({ workers: 1, maxQueue: 0 });
    try {
      const controller = new AbortController();
      const running = small.generate({ kind: 'music', seconds: 3600, signal: controller.signal }).catch((e: unknown) => e);
      const err = await rejection(small.generate({ kind: 'sine', seconds: 0.1 }));
      expect(err).toBeInstanceOf(QueueFullError);
      controller.abort();
      expect(await running).toBeInstanceOf(AbortedError);
    } finally {
      await small.close();
    }
  });
});
