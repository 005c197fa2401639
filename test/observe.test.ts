/**
 * What an operator sees of an engine: the `call` record on every result and error (a UUID, the
 * operation, its timings), the diagnostics channels, a pino-style logger receiving each call and
 * each job's FFmpeg log, and `engine.stats()` counting calls, jobs, the queue and worker restarts.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CallErrorMessage,
  type CallFinishMessage,
  type CallInfo,
  type CallStartMessage,
  createEngine,
  DIAGNOSTICS_CHANNELS,
  type Engine,
  type Logger,
} from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { repoRoot } from './helpers/media.js';

const FLAC = join(repoRoot, 'test', 'fixtures', 'audio', 'ambi_lunar_land.flac');
const PNG = join(repoRoot, 'test', 'fixtures', 'image', 'coffee.png');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Record = { level: string; object: { [key: string]: unknown }; message: string | undefined };
const records: Record[] = [];
const logger: Logger = Object.fromEntries(
  (['trace', 'debug', 'info', 'warn', 'error'] as const).map((level) => [
    level,
    (object: object, message?: string) => records.push({ level, object: object as Record['object'], message }),
  ]),
) as unknown as Logger;

let engine: Engine;

beforeAll(async () => {
  engine = await createEngine({ workers: 1, logger, ffmpegLogLevel: 'info' });
});

afterAll(async () => {
  await engine?.close();
});

function expectTimings(call: CallInfo, op: string, jobs: number): void {
  expect(call.id).toMatch(UUID);
  expect(call.op).toBe(op);
  expect(call.jobs).toBe(jobs);
  for (const key of ['elapsedMs', 'queueMs', 'runMs', 'ioMs'] as const) expect(call[key]).toBeGreaterThanOrEqual(0);
  // One job after another: the parts fit in the whole (0.1 ms rounding each).
  expect(call.queueMs + call.runMs + call.ioMs).toBeLessThanOrEqual(call.elapsedMs + 0.5);
  if (jobs > 0) expect(call.runMs).toBeGreaterThan(0);
}

describe('observability', () => {
  it('every result carries its call: id, operation and timings', async () => {
    const probe = await engine.probe({ path: FLAC });
    expectTimings(probe.call, 'probe', 1);
    const transcode = await engine.transcode({ path: FLAC }, { preset: 'opus-96' });
    expectTimings(transcode.call, 'transcode', 2);
    expect(transcode.call.id).not.toBe(probe.call.id);
    const loudness = await engine.loudness({ path: FLAC });
    expectTimings(loudness.call, 'loudness', 2);
    const peaks = await engine.peaks({ path: FLAC });
    expectTimings(peaks.call, 'peaks', 2);
    const resize = await engine.resize({ path: PNG }, { width: 50, format: 'png' });
    expectTimings(resize.call, 'resize', 1);
  });

  it('an error carries its call too, and the channels tell start, finish and error with the same record', async () => {
    const seen: Array<[string, CallStartMessage | CallFinishMessage | CallErrorMessage]> = [];
    const listeners = Object.entries(DIAGNOSTICS_CHANNELS).map(([kind, name]) => {
      const listener = (message: unknown) => seen.push([kind, message as CallStartMessage]);
      subscribe(name, listener);
      return () => unsubscribe(name, listener);
    });
    try {
      const ok = await engine.transcode({ path: FLAC }, { preset: 'flac' });
      const err = await failure(engine.transcode(new TextEncoder().encode('not media '.repeat(100)), { preset: 'flac' }));
      expect(err.code).toBe('E_INPUT_INVALID');
      expectTimings(err.call!, 'transcode', 1);
      expect(seen.map(([kind]) => kind)).toEqual(['start', 'finish', 'start', 'error']);
      expect(seen[0]![1].call).toEqual({ id: ok.call.id, op: 'transcode' });
      expect((seen[1]![1] as CallFinishMessage).call).toEqual(ok.call);
      expect(seen[2]![1].call.id).toBe(err.call!.id);
      expect((seen[3]![1] as CallErrorMessage).error).toEqual({ code: 'E_INPUT_INVALID', message: err.message });
      expect((seen[3]![1] as CallErrorMessage).call).toEqual(err.call);
    } finally {
      for (const off of listeners) off();
    }
  });

  it("the logger gets each call (started, finished, failed) and each job's FFmpeg log at the chosen level", async () => {
    records.length = 0;
    const ok = await engine.transcode({ path: FLAC }, { preset: 'opus-96' });
    const err = await failure(engine.probe({ path: join(repoRoot, 'package.json') }));
    // FFmpeg logs from warnings up: a clean run has nothing to say.
    expect(records.filter((r) => r.object.call === ok.call.id).map((r) => [r.level, r.message])).toEqual([
      ['debug', 'sandcodec call started'],
      ['info', 'sandcodec call finished'],
    ]);
    expect(records.find((r) => r.object.call === ok.call.id && r.message === 'sandcodec call finished')?.object).toMatchObject({
      op: 'transcode',
      elapsedMs: ok.call.elapsedMs,
      runMs: ok.call.runMs,
      jobs: 2,
    });
    const failed = records.filter((r) => r.object.call === err.call!.id);
    expect(failed.map((r) => [r.level, r.message])).toEqual([
      ['debug', 'sandcodec call started'],
      ['info', 'ffmpeg log'],
      ['warn', `sandcodec call failed: ${err.message}`],
    ]);
    expect(failed[1]!.object).toMatchObject({ op: 'probe', phase: 'probe' });
    expect((failed[1]!.object.ffmpeg as string[]).join('\n')).toMatch(/Invalid data found when processing input/);
    expect(failed[2]!.object).toMatchObject({ op: 'probe', code: 'E_INPUT_INVALID' });
  });

  it('stats count calls by outcome, jobs, the queue, and a worker that had to be replaced', async () => {
    const before = engine.stats();
    await engine.probe({ path: FLAC });
    await failure(engine.probe({ path: join(repoRoot, 'package.json') }));
    const after = engine.stats();
    expect(after.calls.started - before.calls.started).toBe(2);
    expect(after.calls.succeeded - before.calls.succeeded).toBe(1);
    expect((after.calls.failed.E_INPUT_INVALID ?? 0) - (before.calls.failed.E_INPUT_INVALID ?? 0)).toBe(1);
    expect(after.calls.running).toBe(0);
    expect(after.jobs.run - before.jobs.run).toBe(2);
    expect(after.queue).toEqual({ depth: 0, waiting: 0 });
    expect(after.workers).toEqual({ count: 1, restarts: 0 });
    // A worker thread that dies (as a crash would end it) is replaced, and counted.
    const threads = (engine as unknown as { pool: { piscina: { threads: Array<{ terminate(): Promise<number> }> } } }).pool.piscina.threads;
    await threads[0]!.terminate();
    const deadline = Date.now() + 10_000;
    while (engine.stats().workers.restarts === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(engine.stats().workers.restarts).toBe(1);
    expect((await engine.probe({ path: FLAC })).format).toBe('flac');
  });

  it('logger and ffmpegLogLevel are checked up front', async () => {
    await expect(createEngine({ logger: {} as Logger })).rejects.toThrow(/^logger: must have pino's methods debug, info, warn and error/);
    await expect(createEngine({ ffmpegLogLevel: 'loud' as never })).rejects.toThrow(/^ffmpegLogLevel: must be one of trace, debug, info, warn, error/);
  });
});
