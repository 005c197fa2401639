/**
 * Outputs of a job: those returned as bytes are bounded by maxReturnedBytes as they grow (memory
 * follows what was written, never the size the output would have reached), and a host file that
 * cannot be read or written makes the job fail with E_IO naming it.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, IOError, LimitError, SandcodecError } from '../dist/index.js';
import type { FFmpegPlan, JobLimits } from '../dist/model/plan.js';
import { compileCore } from '../dist/pool/core-module.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { runPlan } from '../dist/worker/ffmpeg/run-plan.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';

const MiB = 1024 ** 2;
const LIMITS: JobLimits = { maxOutputBytes: 2 ** 31, maxReturnedBytes: 2 ** 28, maxHeapBytes: 2 ** 30, maxDurationSeconds: 36_000 };

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await makeTempDir('sandcodec-outputs-');
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

async function rejection(promise: Promise<unknown>): Promise<SandcodecError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should fail').toBeInstanceOf(SandcodecError);
  return err as SandcodecError;
}

describe('maxReturnedBytes', () => {
  it('stops a WAV returned as bytes at the limit, and memory never follows the size it would have reached', async () => {
    await engine.generate({ kind: 'sine', seconds: 5, preset: 'wav' }); // the worker and its core, warm
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    // 20 minutes of 48 kHz stereo s16: a 230 MB WAV.
    const err = await rejection(
      engine.generate({ kind: 'sine', seconds: 1200, sampleRate: 48000, channels: 2, preset: 'wav', limits: { maxReturnedBytes: 8 * MiB } }),
    ).finally(() => clearInterval(sampler));
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(err).toBeInstanceOf(LimitError);
    expect(err.details).toMatchObject({ limit: 'maxReturnedBytes', max: 8 * MiB });
    console.log(`maxReturnedBytes 8 MiB: RSS rose by ${((peak - base) / MiB).toFixed(1)} MiB for an output of 230 MB`);
    expect(peak - base).toBeLessThan(64 * MiB);
  });

  it('bounds the total of a call’s bytes outputs; outputs written to files do not count', async () => {
    const source = { path: media('audio', 'ambi_lunar_land.flac') };
    // 7.4 s of 44.1 kHz stereo: the WAV alone is 1.3 MB, FLAC and WAV together about 2 MB.
    const wavOnly = await engine.transcode(source, { preset: 'wav', limits: { maxReturnedBytes: 1.5 * MiB } });
    expect(wavOnly.size).toBeGreaterThan(1.2 * MiB);
    const err = await rejection(engine.ladder(source, ['wav', 'flac'], { limits: { maxReturnedBytes: 1.5 * MiB } }));
    expect(err.details).toMatchObject({ limit: 'maxReturnedBytes', max: 1.5 * MiB });
    const outDir = join(dir, 'ladder');
    await mkdir(outDir);
    const written = await engine.ladder(source, ['wav', 'flac'], { outputDir: outDir, limits: { maxReturnedBytes: 1.5 * MiB } });
    expect(written.renditions.reduce((n, r) => n + r.size, 0)).toBeGreaterThan(1.5 * MiB);
    expect((await readdir(outDir)).length).toBe(2);
  });
});

describe('host I/O failures', () => {
  let core: FFmpegCore;
  beforeAll(async () => {
    core = await FFmpegCore.create(await compileCore(), { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: Number.MAX_SAFE_INTEGER });
  });

  async function run(plan: FFmpegPlan): Promise<SandcodecError> {
    try {
      await runPlan(plan, { core, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), emit: () => {} });
    } catch (err) {
      expect(err).toBeInstanceOf(SandcodecError);
      return err as SandcodecError;
    }
    throw new Error('the job should fail');
  }

  it('a full disk under an output is E_IO naming the file', async () => {
    const err = await run({
      op: 'ffmpeg',
      phase: 'transcode',
      inputs: [{ name: 'in0.flac', source: { type: 'path', path: media('audio', 'loop_amen.flac') } }],
      outputs: [{ name: 'out0.wav', sink: { type: 'path', path: '/dev/full' } }],
      args: ['-i', '/job/in0.flac', '-c:a', 'pcm_s16le', '-f', 'wav', '/job/out0.wav'],
      limits: LIMITS,
    });
    expect(err).toBeInstanceOf(IOError);
    expect(err.details).toMatchObject({ path: '/dev/full', code: 'ENOSPC' });
    expect(err.message).toMatch(/^cannot write \/dev\/full: /);
  });

  it('an input that cannot be read is E_IO naming the file', async () => {
    const notAFile = join(dir, 'a-directory');
    await mkdir(notAFile);
    const err = await run({
      op: 'ffmpeg',
      phase: 'transcode',
      inputs: [{ name: 'in0.flac', source: { type: 'path', path: notAFile } }],
      outputs: [],
      args: ['-i', '/job/in0.flac', '-f', 'null', '-'],
      limits: LIMITS,
    });
    expect(err).toBeInstanceOf(IOError);
    expect(err.details).toMatchObject({ path: notAFile, code: 'EISDIR' });
    await rm(notAFile, { recursive: true });
  });

  it('an output that cannot be created is E_IO naming the file, and the core runs the next job', async () => {
    const missing = join(dir, 'no-such-dir', 'out.wav');
    const err = await run({
      op: 'ffmpeg',
      phase: 'transcode',
      inputs: [{ name: 'in0.flac', source: { type: 'path', path: media('audio', 'loop_amen.flac') } }],
      outputs: [{ name: 'out0.wav', sink: { type: 'path', path: missing } }],
      args: ['-i', '/job/in0.flac', '-f', 'wav', '/job/out0.wav'],
      limits: LIMITS,
    });
    expect(err).toBeInstanceOf(IOError);
    expect(err.details).toMatchObject({ path: missing, code: 'ENOENT' });
    const ok = await runPlan(
      {
        op: 'ffmpeg',
        phase: 'transcode',
        inputs: [{ name: 'in0.flac', source: { type: 'path', path: media('audio', 'loop_amen.flac') } }],
        outputs: [{ name: 'out0.wav', sink: { type: 'bytes' } }],
        args: ['-i', '/job/in0.flac', '-f', 'wav', '/job/out0.wav'],
        limits: LIMITS,
      },
      { core, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), emit: () => {} },
    );
    expect(ok.outputs[0]!.size).toBeGreaterThan(300_000);
  });
});
