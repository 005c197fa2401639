/**
 * An engine without threads (`workers: 0`), for runtimes that have no `worker_threads`: every job
 * runs on the calling thread, one at a time, under the same limits. The timeout cannot come from a
 * timer there (none fires while FFmpeg runs): the core's own cancel poll stops the job. A child
 * process checks that such an engine never loads `worker_threads` or Piscina at all.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type SandcodecError } from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { media, repoRoot } from './helpers/media.js';

let engine: Engine;
let flac: Uint8Array;

beforeAll(async () => {
  engine = await createEngine({ workers: 0, maxQueue: 1 });
  flac = new Uint8Array(await readFile(media('audio', 'ambi_lunar_land.flac')));
});

afterAll(async () => {
  await engine?.close();
});

describe('workers: 0', () => {
  it('runs probes, transcodes, images and analyses on the calling thread', async () => {
    expect(engine.workers).toBe(0);
    const probe = await engine.probe(flac);
    expect(probe.streams[0]).toMatchObject({ codec: 'flac', sampleRate: 44100 });
    const opus = await engine.transcode(flac, { preset: 'opus-96', duration: 2 });
    const back = await engine.probe(opus.bytes!, { decode: true });
    expect(back.decodedDuration).toBeCloseTo(2, 1);
    const image = await engine.resize({ path: media('image', 'renpy-washington.jpg') }, { width: 320 });
    expect([image.width, image.height]).toEqual([320, 180]);
    const loudness = await engine.loudness(flac);
    expect(loudness.integrated).toBeLessThan(0);
    expect(engine.stats().workers).toEqual({ count: 0, restarts: 0 });
  });

  it('stops a job at its timeout from inside the core, and keeps serving', async () => {
    const video = (await engine.generateVideo({ seconds: 15, width: 640, height: 360 })).bytes!;
    const error = await failure(engine.transcode(video, { preset: 'mp4-h264-aac', limits: { timeoutMs: 300 } }));
    expect(error.code).toBe('E_TIMEOUT');
    const after = await engine.transcode(flac, { preset: 'flac', duration: 1 });
    expect(after.size).toBeGreaterThan(0);
  });

  it('holds the output and duration limits and the queue bound', async () => {
    const output = await failure(engine.transcode(flac, { preset: 'wav', limits: { maxOutputBytes: 100_000 } }));
    expect(output).toMatchObject({ code: 'E_LIMIT', limit: 'maxOutputBytes' });
    const length = await failure(engine.transcode(flac, { preset: 'flac', limits: { maxDurationSeconds: 2 } }));
    expect(length).toMatchObject({ code: 'E_LIMIT', limit: 'maxDurationSeconds' });
    // One job runs, maxQueue (1) waits: a third call at the same time is refused.
    const calls = [0, 1, 2].map(() =>
      engine.transcode(flac, { preset: 'flac' }).then(
        () => 'ok',
        (e: SandcodecError) => e.code,
      ),
    );
    expect((await Promise.all(calls)).sort()).toEqual(['E_QUEUE_FULL', 'ok', 'ok']);
  });

  it('refuses video threads, which need threads', async () => {
    const error = await failure(createEngine({ workers: 0, videoThreads: 2 }));
    expect(error.code).toBe('E_OPTIONS');
    expect(error.details.option).toBe('videoThreads');
  });

  it('never loads worker_threads or Piscina', () => {
    const program = `
      const { createEngine } = await import(${JSON.stringify(join(repoRoot, 'dist', 'index.js'))});
      const engine = await createEngine({ workers: 0 });
      await engine.transcode({ path: ${JSON.stringify(media('audio', 'loop_amen.flac'))} }, { preset: 'mp3-128' });
      await engine.resize({ path: ${JSON.stringify(media('image', 'coffee.png'))} }, { width: 64 });
      await engine.close();
      console.log(JSON.stringify(process.moduleLoadList.filter((m) => /worker_threads|piscina/.test(m))));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual([]);
  });
});
