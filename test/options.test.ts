/**
 * Every engine option and call option is checked before any work, and the message names the
 * option and what it expects. The messages are pinned: callers and the CLI show them to people.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, OptionsError, SandcodecError } from '../dist/index.js';

const PRESETS = 'vorbis-96, vorbis-160, vorbis-320, opus-64, opus-96, opus-160, aac-64, aac-96, aac-128, aac-192, aac-256, mp3-128, mp3-320, flac, wav';
const ALL_PRESETS = `${PRESETS}, mp4-h264-aac, webm-vp9-opus`;
const LIMITS = 'maxInputBytes, maxDurationSeconds, maxOutputBytes, maxReturnedBytes, maxHeapBytes, timeoutMs';
const MAX_INT = Number.MAX_SAFE_INTEGER;

async function optionsError(promise: Promise<unknown> | (() => Promise<unknown>)): Promise<OptionsError> {
  const err = await (typeof promise === 'function' ? promise() : promise).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OptionsError);
  expect(err).toBeInstanceOf(SandcodecError);
  return err as OptionsError;
}

describe('engine options', () => {
  const cases: Array<[string, unknown, string, string]> = [
    ['options not an object', 'fast', 'options', 'options: must be an object'],
    [
      'videoThreads on a core without a multithreaded build',
      { core: 'stock', videoThreads: 2 },
      'videoThreads',
      'videoThreads: above 1 needs a multithreaded FFmpeg core, and core stock has none (the package ships gpl-mt)',
    ],
    [
      'unknown engine option',
      { threads: 2 },
      'threads',
      'threads: is not an engine option (known: workers, maxQueue, limits, spoolDir, sweepDirs, core, videoThreads, logger, ffmpegLogLevel)',
    ],
    ['unknown core', { core: 'x265' }, 'core', `core: must be one of stock, gpl, lgpl or the path of a core's folder (./… or absolute), got "x265"`],
    ['core not a string', { core: 2 }, 'core', "core: must be a core's name or folder, got 2"],
    ['workers negative', { workers: -1 }, 'workers', 'workers: must be an integer from 0 to 256, got -1'],
    ['workers fractional', { workers: 1.5 }, 'workers', 'workers: must be an integer from 0 to 256, got 1.5'],
    ['workers string', { workers: '2' }, 'workers', 'workers: must be an integer from 0 to 256, got "2"'],
    ['workers too many', { workers: 257 }, 'workers', 'workers: must be an integer from 0 to 256, got 257'],
    [
      'video threads without threads',
      { workers: 0, videoThreads: 2 },
      'videoThreads',
      'videoThreads: above 1 runs video on threads of its own, and an engine with workers: 0 has none',
    ],
    ['maxQueue negative', { maxQueue: -1 }, 'maxQueue', `maxQueue: must be an integer from 0 to ${MAX_INT}, got -1`],
    ['maxQueue fractional', { maxQueue: 2.5 }, 'maxQueue', `maxQueue: must be an integer from 0 to ${MAX_INT}, got 2.5`],
    ['limits not an object', { limits: 5 }, 'limits', 'limits: must be an object'],
    ['unknown limit', { limits: { maxPixels: 10 } }, 'limits.maxPixels', `limits.maxPixels: is not a limit (known: ${LIMITS})`],
    [
      'maxInputBytes negative',
      { limits: { maxInputBytes: -1 } },
      'limits.maxInputBytes',
      `limits.maxInputBytes: must be an integer from 1 to ${MAX_INT}, got -1`,
    ],
    [
      'maxInputBytes fractional',
      { limits: { maxInputBytes: 10.5 } },
      'limits.maxInputBytes',
      `limits.maxInputBytes: must be an integer from 1 to ${MAX_INT}, got 10.5`,
    ],
    [
      'maxOutputBytes NaN',
      { limits: { maxOutputBytes: NaN } },
      'limits.maxOutputBytes',
      `limits.maxOutputBytes: must be an integer from 1 to ${MAX_INT}, got NaN`,
    ],
    [
      'maxOutputBytes zero',
      { limits: { maxOutputBytes: 0 } },
      'limits.maxOutputBytes',
      `limits.maxOutputBytes: must be an integer from 1 to ${MAX_INT}, got 0`,
    ],
    [
      'maxDurationSeconds negative',
      { limits: { maxDurationSeconds: -5 } },
      'limits.maxDurationSeconds',
      'limits.maxDurationSeconds: must be a positive number, got -5',
    ],
    [
      'maxDurationSeconds string',
      { limits: { maxDurationSeconds: '60' } },
      'limits.maxDurationSeconds',
      'limits.maxDurationSeconds: must be a positive number, got "60"',
    ],
    [
      'maxHeapBytes below 64 MiB',
      { limits: { maxHeapBytes: 32 * 1024 ** 2 } },
      'limits.maxHeapBytes',
      'limits.maxHeapBytes: must be at least 64 MiB (the core alone needs 32 MiB), got 33554432',
    ],
    [
      'maxHeapBytes above 2 GiB',
      { limits: { maxHeapBytes: 3 * 1024 ** 3 } },
      'limits.maxHeapBytes',
      'limits.maxHeapBytes: must be an integer from 67108864 to 2147483648, got 3221225472',
    ],
    [
      'maxHeapBytes fractional',
      { limits: { maxHeapBytes: 100 * 1024 ** 2 + 0.5 } },
      'limits.maxHeapBytes',
      'limits.maxHeapBytes: must be an integer from 67108864 to 2147483648, got 104857600.5',
    ],
    ['timeoutMs zero', { limits: { timeoutMs: 0 } }, 'limits.timeoutMs', `limits.timeoutMs: must be an integer from 1 to ${MAX_INT}, got 0`],
    ['timeoutMs fractional', { limits: { timeoutMs: 0.5 } }, 'limits.timeoutMs', `limits.timeoutMs: must be an integer from 1 to ${MAX_INT}, got 0.5`],
  ];
  for (const [title, options, option, message] of cases) {
    it(`rejects ${title}`, async () => {
      const err = await optionsError(createEngine(options as never));
      expect(err.code).toBe('E_OPTIONS');
      expect(err.details.option).toBe(option);
      expect(err.message).toBe(message);
    });
  }

  it('accepts the boundaries: maxQueue 0, maxHeapBytes 64 MiB and 2 GiB, timeoutMs Infinity', async () => {
    for (const options of [
      { workers: 1, maxQueue: 0 },
      { workers: 1, limits: { maxHeapBytes: 64 * 1024 ** 2, timeoutMs: Infinity } },
      { workers: 1, limits: { maxHeapBytes: 2 * 1024 ** 3 } },
    ]) {
      const engine = await createEngine(options);
      expect(engine.workers).toBe(1);
      await engine.close();
    }
  });
});

describe('call options', () => {
  let engine: Engine;
  // Never decoded: every case must fail on its options before the input is looked at.
  const input = new Uint8Array(16);

  beforeAll(async () => {
    engine = await createEngine({ workers: 1 });
  });
  afterAll(async () => {
    await engine?.close();
  });

  const cases: Array<[string, () => Promise<unknown>, string, string]> = [
    ['transcode: unknown preset', () => engine.transcode(input, { preset: 'mp3-96' }), 'preset', `preset: unknown preset "mp3-96" (known: ${ALL_PRESETS})`],
    [
      'transcode: missing preset',
      () => engine.transcode(input, {} as never),
      'preset',
      `preset: must be a preset name (${ALL_PRESETS}) or an object { base, codec, bitrate, sampleRate, channels, videoBitrate, size }, got undefined`,
    ],
    [
      'transcode: output not a string',
      () => engine.transcode(input, { preset: 'flac', output: 5 as never }),
      'output',
      'output: must be a non-empty path, got 5',
    ],
    ['transcode: empty output', () => engine.transcode(input, { preset: 'flac', output: '' }), 'output', 'output: must be a non-empty path, got ""'],
    [
      'transcode: unknown option',
      () => engine.transcode(input, { preset: 'flac', bitrate: 1 } as never),
      'bitrate',
      'bitrate: is not an option of this call (known: preset, output, overwrite, stream, start, duration, fadeIn, fadeOut, cover, tags, stripTags, signal, onProgress, limits)',
    ],
    ['ladder: empty presets', () => engine.ladder(input, []), 'presets', 'presets: must be a non-empty array of preset names'],
    ['ladder: presets not an array', () => engine.ladder(input, 'flac' as never), 'presets', 'presets: must be a non-empty array of preset names'],
    ['ladder: unknown preset', () => engine.ladder(input, ['flac', 'opus-48']), 'presets[1]', `presets[1]: unknown preset "opus-48" (known: ${PRESETS})`],
    ['ladder: duplicate preset', () => engine.ladder(input, ['flac', 'flac']), 'presets', 'presets: must not name a preset twice'],
    [
      'ladder: outputDir not a string',
      () => engine.ladder(input, ['flac'], { outputDir: 3 as never }),
      'outputDir',
      'outputDir: must be a non-empty path, got 3',
    ],
    [
      'ladder: baseName with a slash',
      () => engine.ladder(input, ['flac'], { outputDir: '/tmp', baseName: '../x' }),
      'baseName',
      'baseName: must be a file name without slashes, got "../x"',
    ],
    [
      'ladder: unknown option',
      () => engine.ladder(input, ['flac'], { output: '/tmp/x' } as never),
      'output',
      'output: is not an option of this call (known: outputDir, baseName, overwrite, cover, tags, stripTags, signal, onProgress, limits)',
    ],
    [
      'probe: unknown option',
      () => engine.probe(input, { deep: true } as never),
      'deep',
      'deep: is not an option of this call (known: decode, signal, onProgress, limits)',
    ],
    ['probe: signal not an AbortSignal', () => engine.probe(input, { signal: {} as never }), 'signal', 'signal: must be an AbortSignal'],
    ['probe: onProgress not a function', () => engine.probe(input, { onProgress: 'log' as never }), 'onProgress', 'onProgress: must be a function'],
    [
      'probe: unknown call limit',
      () => engine.probe(input, { limits: { maxFrames: 1 } as never }),
      'limits.maxFrames',
      `limits.maxFrames: is not a limit (known: ${LIMITS})`,
    ],
    [
      'probe: negative call limit',
      () => engine.probe(input, { limits: { timeoutMs: -5 } }),
      'limits.timeoutMs',
      `limits.timeoutMs: must be an integer from 1 to ${MAX_INT}, got -5`,
    ],
    [
      'transcode: call maxHeapBytes too small',
      () => engine.transcode(input, { preset: 'flac', limits: { maxHeapBytes: 1024 } }),
      'limits.maxHeapBytes',
      'limits.maxHeapBytes: must be at least 64 MiB (the core alone needs 32 MiB), got 1024',
    ],
    ['generate: unknown kind', () => engine.generate({ kind: 'pulse' as never }), 'kind', 'kind: must be one of music, sine, noise, silence'],
    ['generate: unknown preset', () => engine.generate({ kind: 'sine', preset: 'ogg' }), 'preset', `preset: must be one of ${PRESETS}`],
    ['generate: negative seconds', () => engine.generate({ kind: 'sine', seconds: -1 }), 'seconds', 'seconds: must be a number of seconds from 0 to 86400'],
    [
      'generate: unknown option',
      () => engine.generate({ kind: 'sine', volume: 1 } as never),
      'volume',
      'volume: is not an option of this call (known: kind, seconds, sampleRate, channels, frequency, amplitude, preset, output, overwrite, signal, onProgress, limits)',
    ],
    ['generate: output not a string', () => engine.generate({ kind: 'sine', output: 4 as never }), 'output', 'output: must be a non-empty path, got 4'],
    [
      'input of the wrong type',
      () => engine.probe(42 as never),
      'input',
      'input: must be a Uint8Array, a Readable, a ReadableStream, { path }, { data } or { stream }',
    ],
    ['input path empty', () => engine.probe({ path: '' }), 'input.path', 'input.path: must be a non-empty string'],
    ['input data not bytes', () => engine.probe({ data: 'RIFF' as never }), 'input.data', 'input.data: must be a Uint8Array or Buffer'],
  ];
  for (const [title, call, option, message] of cases) {
    it(`rejects ${title}`, async () => {
      const err = await optionsError(call);
      expect(err.code).toBe('E_OPTIONS');
      expect(err.details.option).toBe(option);
      expect(err.message).toBe(message);
    });
  }

  it('ran nothing for the rejected calls: the pool is idle and still serves', async () => {
    expect(engine.inFlight).toBe(0);
    const out = await engine.generate({ kind: 'sine', seconds: 0.2, preset: 'wav' });
    expect(out.size).toBeGreaterThan(44);
  });
});
