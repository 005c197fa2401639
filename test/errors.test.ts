/**
 * Errors keep their class across the worker boundary: a caller can branch on `instanceof` or on
 * `code`, and the CLI maps each family to its own exit status.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  ClosedError,
  createEngine,
  type Engine,
  ERROR_CODES,
  type ErrorCode,
  EXIT_STATUS,
  FFmpegError,
  fromErrorData,
  InputError,
  InternalError,
  IOError,
  isErrorData,
  LimitError,
  OptionsError,
  QueueFullError,
  SandcodecError,
  TimeoutError,
  toErrorData,
  UnsupportedError,
} from '../dist/index.js';

const mediaDir = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures');

type ErrorClass = abstract new (...args: never[]) => SandcodecError;

const SAMPLES: Array<[ErrorCode, ErrorClass, SandcodecError]> = [
  ['E_INPUT_INVALID', InputError, new InputError('probe: the input could not be decoded', { log: ['[mp3 @ 0x1] bad frame'], exitCode: 1 })],
  ['E_UNSUPPORTED', UnsupportedError, new UnsupportedError('the input has no audio stream', { streams: ['video'] })],
  ['E_OPTIONS', OptionsError, new OptionsError('limits.timeoutMs', 'must be an integer from 1 to 10, got -5')],
  ['E_LIMIT', LimitError, new LimitError('maxOutputBytes', 'the output grew past maxOutputBytes (100 bytes)', { max: 100, actual: 4096 })],
  ['E_TIMEOUT', TimeoutError, new TimeoutError('the job ran past its timeout (timeoutMs)', { timeoutMs: 300 })],
  ['E_ABORTED', AbortedError, new AbortedError('the job was aborted before it started')],
  ['E_QUEUE_FULL', QueueFullError, new QueueFullError('the queue is full', { limit: 'maxQueue', max: 1 })],
  ['E_CLOSED', ClosedError, new ClosedError('the engine was closed while the job was queued')],
  ['E_FFMPEG', FFmpegError, new FFmpegError('transcode: FFmpeg failed: exit 1', { exitCode: 1, log: ['Conversion failed!'] })],
  ['E_IO', IOError, new IOError('cannot create output /nope/x.flac: ENOENT', { path: '/nope/x.flac' })],
  ['E_INTERNAL', InternalError, new InternalError('the worker failed: boom', { thread: 3 })],
];

describe('error data round trip', () => {
  it('has one sample per code', () => {
    expect(SAMPLES.map(([code]) => code).sort()).toEqual([...ERROR_CODES].sort());
  });

  for (const [code, Class, original] of SAMPLES) {
    it(`${code} comes back as ${Class.name} with its code, message and details`, () => {
      expect(original.code).toBe(code);
      // Through structured clone, as between threads: no prototype survives, only data.
      const data = structuredClone(toErrorData(original));
      expect(isErrorData(data)).toBe(true);
      const rebuilt = fromErrorData(data);
      expect(rebuilt).toBeInstanceOf(Class);
      expect(rebuilt).toBeInstanceOf(SandcodecError);
      expect(rebuilt).toBeInstanceOf(Error);
      expect(rebuilt.constructor).toBe(original.constructor);
      expect(rebuilt.name).toBe(Class.name);
      expect(rebuilt.code).toBe(code);
      expect(rebuilt.message).toBe(original.message);
      expect(rebuilt.details).toEqual(original.details);
      expect(JSON.parse(JSON.stringify(rebuilt))).toEqual({ code, message: original.message, details: original.details });
    });
  }

  it('keeps the limit name of a LimitError and the option of an OptionsError', () => {
    const limit = fromErrorData(structuredClone(toErrorData(new LimitError('maxHeapBytes', 'too big', { max: 64 }))));
    expect(limit).toBeInstanceOf(LimitError);
    expect((limit as LimitError).limit).toBe('maxHeapBytes');
    expect(limit.details).toMatchObject({ limit: 'maxHeapBytes', max: 64 });
    const option = fromErrorData(structuredClone(toErrorData(new OptionsError('workers', 'must be an integer'))));
    expect(option.message).toBe('workers: must be an integer');
    expect(option.details.option).toBe('workers');
  });

  it('turns a foreign error into E_INTERNAL with its message', () => {
    const data = toErrorData(new RangeError('offset out of bounds'));
    expect(fromErrorData(data)).toBeInstanceOf(InternalError);
    expect(fromErrorData(data).message).toBe('offset out of bounds');
    expect(toErrorData('plain string').message).toBe('plain string');
    expect(isErrorData({ code: 'E_IO' })).toBe(false);
  });
});

describe('exit statuses', () => {
  it('gives every code a status outside 0 and 1', () => {
    for (const code of ERROR_CODES) {
      expect(Number.isInteger(EXIT_STATUS[code])).toBe(true);
      expect(EXIT_STATUS[code]).toBeGreaterThan(1);
      expect(EXIT_STATUS[code]).toBeLessThan(126);
    }
  });

  it('gives each family its own status; only the two "engine cannot take the job" codes share one', () => {
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of ERROR_CODES) byStatus.set(EXIT_STATUS[code], [...(byStatus.get(EXIT_STATUS[code]) ?? []), code]);
    const shared = [...byStatus.values()].filter((codes) => codes.length > 1);
    expect(shared).toEqual([['E_QUEUE_FULL', 'E_CLOSED']]);
    expect(byStatus.size).toBe(ERROR_CODES.length - 1);
  });
});

describe('errors raised in a worker', () => {
  let engine: Engine;
  let dir: string;

  beforeAll(async () => {
    engine = await createEngine({ workers: 1 });
    dir = await mkdtemp(join(tmpdir(), 'sandcodec-errors-'));
  });
  afterAll(async () => {
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('garbage bytes arrive as an InputError with the probe log', async () => {
    const text = new TextEncoder().encode('this is a shopping list, not a sound file\n'.repeat(200));
    const err = await engine.probe(text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('E_INPUT_INVALID');
    expect((err as InputError).message).toMatch(/not readable media/);
  });

  it('an output limit hit inside FFmpeg arrives as a LimitError naming maxOutputBytes', async () => {
    const output = join(dir, 'tone.wav');
    const err = await engine.generate({ kind: 'sine', seconds: 5, preset: 'wav', output, limits: { maxOutputBytes: 50_000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).limit).toBe('maxOutputBytes');
    expect((err as LimitError).details).toMatchObject({ limit: 'maxOutputBytes', max: 50_000 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('a video-only input arrives as an UnsupportedError for an audio preset', async () => {
    const mov = join(mediaDir, 'video', 'gem-anim-1-mjpeg.mov');
    const err = await engine.transcode({ path: mov }, { preset: 'flac' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as UnsupportedError).message).toMatch(/no audio stream/);
  });

  it('a call after close() is a ClosedError', async () => {
    const closing = await createEngine({ workers: 1 });
    await closing.close();
    const err = await closing.generate({ kind: 'silence', seconds: 0.1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClosedError);
  });
});
