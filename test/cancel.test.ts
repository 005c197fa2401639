/**
 * Cancellation really stops work: an aborted job settles with E_ABORTED whether it was running,
 * queued or not yet submitted, leaves no output behind, and frees its worker for the next job.
 * The long job is a real FFmpeg run: an hour of generated music, which is never let finish.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, createEngine, type Engine, type Progress, SandcodecError } from '../dist/index.js';

const mediaDir = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures');

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await mkdtemp(join(tmpdir(), 'sandcodec-cancel-'));
});

afterAll(async () => {
  await engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Resolves once FFmpeg reported media time for a call: proof that it is running it. */
function firstProgress(): { onProgress: (p: Progress) => void; started: Promise<void>; events: Progress[] } {
  const events: Progress[] = [];
  let resolveStarted!: () => void;
  const started = new Promise<void>((r) => (resolveStarted = r));
  return {
    events,
    started,
    onProgress: (p) => {
      events.push(p);
      if (p.seconds > 0) resolveStarted();
    },
  };
}

function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (err: unknown) => err,
  );
}

describe('abort', () => {
  it('stops a running job with E_ABORTED and the same pool runs the next job', async () => {
    const controller = new AbortController();
    const progress = firstProgress();
    const job = settle(engine.generate({ kind: 'music', seconds: 3600, preset: 'flac', signal: controller.signal, onProgress: progress.onProgress }));
    await progress.started;
    const abortedAt = performance.now();
    controller.abort();
    const err = await job;
    const stopMs = performance.now() - abortedAt;
    console.log(`abort of a running generate settled ${stopMs.toFixed(1)} ms after abort()`);
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).code).toBe('E_ABORTED');
    // It was really running: FFmpeg reported media time, far from the hour it was asked for.
    expect(progress.events.at(-1)!.seconds).toBeGreaterThan(0);
    expect(progress.events.at(-1)!.ratio).toBeLessThan(0.5);
    expect(engine.inFlight).toBe(0);

    const next = await engine.generate({ kind: 'sine', seconds: 1, preset: 'wav' });
    const check = await engine.probe(next.bytes!, { decode: true });
    expect(check.decodedDuration).toBeCloseTo(1, 2);
  });

  it('an aborted signal before the call: E_ABORTED and nothing runs', async () => {
    const controller = new AbortController();
    controller.abort();
    const events: Progress[] = [];
    const calls = [
      () => engine.generate({ kind: 'music', seconds: 3600, signal: controller.signal, onProgress: (p) => events.push(p) }),
      () =>
        engine.transcode(
          { path: join(mediaDir, 'audio', 'renpyallstars.ogg') },
          { preset: 'flac', signal: controller.signal, onProgress: (p) => events.push(p) },
        ),
      () => engine.probe({ path: join(mediaDir, 'audio', 'loop_amen.flac') }, { decode: true, signal: controller.signal }),
      () => engine.ladder({ path: join(mediaDir, 'audio', 'loop_amen.flac') }, ['flac', 'wav'], { outputDir: dir, signal: controller.signal }),
    ];
    for (const call of calls) {
      const err = await settle(call());
      expect(err).toBeInstanceOf(AbortedError);
      expect(engine.inFlight).toBe(0);
    }
    expect(events).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('aborting a queued job removes it; the running job is unaffected', async () => {
    const running = firstProgress();
    // 8 s of music takes seconds to make here: long enough to still be running when we abort.
    const first = engine.generate({ kind: 'music', seconds: 8, preset: 'flac', onProgress: running.onProgress });
    await running.started;
    const controller = new AbortController();
    const queuedEvents: Progress[] = [];
    const queued = settle(engine.generate({ kind: 'music', seconds: 3600, signal: controller.signal, onProgress: (p) => queuedEvents.push(p) }));
    expect(engine.inFlight).toBe(2);
    controller.abort();
    const err = await queued;
    expect(err).toBeInstanceOf(AbortedError);
    expect(queuedEvents).toEqual([]);
    expect(engine.inFlight).toBe(1);

    const made = await first;
    const check = await engine.probe(made.bytes!, { decode: true });
    expect(check.streams[0]!.codec).toBe('flac');
    expect(check.decodedDuration).toBeCloseTo(8, 2);
  });

  it('aborting a ladder to a directory leaves no file, temporary or final', async () => {
    const controller = new AbortController();
    const progress = firstProgress();
    const source = { path: join(mediaDir, 'audio', 'codec2-ve9qrp.wav') };
    const job = settle(
      engine.ladder(source, ['vorbis-96', 'opus-96', 'aac-128', 'flac'], { outputDir: dir, signal: controller.signal, onProgress: progress.onProgress }),
    );
    await progress.started;
    controller.abort();
    expect(await job).toBeInstanceOf(AbortedError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('abort frees the worker: a job queued behind the aborted one runs to completion', async () => {
    const controller = new AbortController();
    const progress = firstProgress();
    const long = settle(engine.generate({ kind: 'music', seconds: 3600, signal: controller.signal, onProgress: progress.onProgress }));
    const behind = engine.transcode({ path: join(mediaDir, 'audio', 'loop_amen.flac') }, { preset: 'opus-96' });
    await progress.started;
    const abortedAt = performance.now();
    controller.abort();
    expect(await long).toBeInstanceOf(AbortedError);
    const out = await behind;
    console.log(`a transcode queued behind the aborted job finished ${(performance.now() - abortedAt).toFixed(0)} ms after abort()`);
    expect(out.codec).toBe('opus');
    const check = await engine.probe(out.bytes!, { decode: true });
    expect(check.decodedDuration).toBeCloseTo(1.75, 1);
    expect(engine.inFlight).toBe(0);
  });

  it('aborting after the call settled is harmless', async () => {
    const controller = new AbortController();
    const out = await engine.generate({ kind: 'silence', seconds: 0.5, preset: 'wav', signal: controller.signal });
    controller.abort();
    expect(out.size).toBeGreaterThan(44_000);
    const again = await engine.generate({ kind: 'silence', seconds: 0.5, preset: 'wav' });
    expect(again.size).toBe(out.size);
  });
});

describe('progress', () => {
  it("measures a package's speed as media time over wall time, also where FFmpeg's own speed= is garbled", async () => {
    // A multi-output video run: this build prints speed=8.32x there for a job running at 0.32x.
    const source = await engine.generateVideo({ seconds: 6, width: 640, height: 360, output: join(dir, 'speed-source.mp4') });
    const events: Array<{ at: number; p: Progress }> = [];
    await engine.package(
      { path: source.path! },
      {
        video: ['360p', '240p'],
        audio: ['aac-128'],
        outputDir: join(dir, 'speed-pkg'),
        onProgress: (p) => events.push({ at: performance.now(), p: { ...p } }),
      },
    );
    // The package job starts right after the probe phase's last event.
    const start = events.filter((e) => e.p.phase === 'probe').at(-1)!.at;
    const measured = events.filter((e) => e.p.phase === 'package' && e.p.seconds >= 1 && e.p.speed !== undefined);
    expect(measured.length).toBeGreaterThan(2);
    for (const e of measured) {
      // Both clocks start within a message hop of each other: the product must give back the
      // media time, within a factor that no garbled digit fits in.
      const implied = (e.p.speed! * (e.at - start)) / 1000;
      expect(implied / e.p.seconds).toBeGreaterThan(0.5);
      expect(implied / e.p.seconds).toBeLessThan(2);
    }
  });

  it('reports { phase, ratio, seconds, speed } with ratio monotonic in [0, 1], ending at 1', async () => {
    const events: Progress[] = [];
    const source = { path: join(mediaDir, 'audio', 'renpyallstars.ogg') };
    const out = await engine.transcode(source, { preset: 'opus-96', onProgress: (p) => events.push({ ...p }) });
    expect(out.codec).toBe('opus');
    const encoding = events.filter((e) => e.phase === 'transcode');
    expect(encoding.length).toBeGreaterThan(2);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(['phase', 'ratio', 'seconds', 'speed']);
      expect(typeof e.phase).toBe('string');
      expect(e.ratio).toBeGreaterThanOrEqual(0);
      expect(e.ratio).toBeLessThanOrEqual(1);
      expect(e.seconds).toBeGreaterThanOrEqual(0);
      if (e.speed !== undefined) expect(e.speed).toBeGreaterThan(0);
    }
    for (let i = 1; i < events.length; i++) expect(events[i]!.ratio).toBeGreaterThanOrEqual(events[i - 1]!.ratio);
    expect(events.at(-1)).toMatchObject({ phase: 'transcode', ratio: 1 });
    // Midway events say how far FFmpeg got in media time, consistent with the ratio.
    const mid = encoding.find((e) => e.ratio > 0 && e.ratio < 1);
    expect(mid).toBeDefined();
    expect(mid!.seconds / out.source.duration!).toBeCloseTo(mid!.ratio, 1);
  });

  it('a listener that throws does not fail the job', async () => {
    const out = await engine.transcode(
      { path: join(mediaDir, 'audio', 'loop_amen.flac') },
      {
        preset: 'flac',
        onProgress: () => {
          throw new Error('listener bug');
        },
      },
    );
    expect(out.size).toBeGreaterThan(100_000);
    expect(out).not.toBeInstanceOf(SandcodecError);
  });
});
