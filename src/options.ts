/**
 * Engine and call options: defaults, and validation up front with messages that name the option.
 */
import { availableParallelism, tmpdir } from 'node:os';
import * as v from './call/validate.js';
import { OptionsError } from './errors.js';
import { checkLogger, checkLogLevel, type Logger, type LogLevel } from './observe.js';
import { type CoreFiles, resolveCore, threadedCoreFor } from './util/core-files.js';

export interface Limits {
  /** Largest input accepted, in bytes. Checked before any work (streams: while they arrive). */
  maxInputBytes: number;
  /** Longest input accepted, in seconds of media. Checked on the probe and again while decoding. */
  maxDurationSeconds: number;
  /** Largest total output of one job, in bytes. */
  maxOutputBytes: number;
  /**
   * Largest total of the outputs a call returns as bytes (no path given), in bytes. They live in
   * memory until the caller drops them, so this bound is much lower than `maxOutputBytes`.
   */
  maxReturnedBytes: number;
  /** The wasm heap one job may grow to, in bytes (the core starts at 32 MiB). */
  maxHeapBytes: number;
  /** Wall-clock time one job may run, in milliseconds (queueing not counted). */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxInputBytes: 2 * 1024 ** 3,
  maxDurationSeconds: 6 * 3600,
  maxOutputBytes: 2 * 1024 ** 3,
  maxReturnedBytes: 128 * 1024 ** 2,
  maxHeapBytes: 384 * 1024 ** 2,
  timeoutMs: 10 * 60 * 1000,
});

export interface EngineOptions {
  /**
   * Worker threads, each with its own FFmpeg core. Default: the machine's available parallelism.
   * 0 runs every job on the calling thread, one at a time, for runtimes without `worker_threads`:
   * the same limits hold (the timeout through the core's own cancel poll), but the event loop is
   * blocked while a job runs and an abort takes effect when the running job returns.
   */
  workers?: number;
  /** Jobs that may wait for a worker beyond those running; more are refused with E_QUEUE_FULL. Default 64. */
  maxQueue?: number;
  /** Safety limits for every call; each call may lower or raise them with its own `limits`. */
  limits?: Partial<Limits>;
  /** Where input streams are spooled (default: the OS temporary folder). */
  spoolDir?: string;
  /**
   * Output folders the engine will write into: on start it removes the stale staged files that
   * killed processes left there (and in `spoolDir`). See `sweepStaging`.
   */
  sweepDirs?: string[];
  /**
   * The FFmpeg core the workers run: `gpl` (built from Debian's sources in wasm-build/, the
   * default), `stock` (@ffmpeg/core 0.12.10), `lgpl` or `-mt` variants where built, or the path of
   * a folder holding `ffmpeg-core.cjs` and `ffmpeg-core.wasm`. README "FFmpeg cores" compares them.
   */
  core?: string;
  /**
   * Threads one video encode may use (x264, OpenH264 or libvpx, and the decoder beside it), from 1
   * (the default) to 16. Above 1 the engine runs the video jobs of `package` and of `transcode`'s
   * video presets on the multithreaded build of its core's profile (`gpl-mt`); probing, audio and
   * images stay on the single-thread core.
   */
  videoThreads?: number;
  /**
   * Where the engine logs each call (started: debug; finished: info; failed: warn when it is the
   * input's or the caller's fault, error when it is ours) and each job's FFmpeg log: any logger
   * with pino's methods `(object, message)`. Default: none.
   */
  logger?: Logger;
  /** The level each job's FFmpeg log is logged at: trace, debug (default), info, warn or error. */
  ffmpegLogLevel?: LogLevel;
}

export interface ResolvedEngineOptions {
  workers: number;
  maxQueue: number;
  limits: Limits;
  spoolDir: string;
  sweepDirs: string[];
  core: CoreFiles;
  videoThreads: number;
  /** The core the video jobs with threads run on; null when videoThreads is 1 or the core is itself multithreaded. */
  videoCore: CoreFiles | null;
  logger: Logger | undefined;
  ffmpegLogLevel: LogLevel;
}

const ENGINE_KEYS = ['workers', 'maxQueue', 'limits', 'spoolDir', 'sweepDirs', 'core', 'videoThreads', 'logger', 'ffmpegLogLevel'];
/** x264 gains little past this many threads on one encode; more threads are more workers' job. */
const MAX_VIDEO_THREADS = 16;

const WASM_MAX_HEAP = 2 * 1024 ** 3;
const MIN_HEAP = 64 * 1024 ** 2;

/** Shows a rejected value as the caller wrote it (JSON would print NaN and Infinity as null). */
function show(value: unknown): string {
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
}

function intInRange(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(option, `must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

function positiveInt(option: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  return intInRange(option, value, 1, max);
}

function positiveNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new OptionsError(option, `must be a positive number, got ${show(value)}`);
  }
  return value;
}

export function resolveLimits(base: Limits, overrides: unknown, prefix = 'limits'): Limits {
  if (overrides === undefined) return base;
  if (typeof overrides !== 'object' || overrides === null) throw new OptionsError(prefix, 'must be an object');
  const out = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const option = `${prefix}.${key}`;
    switch (key) {
      case 'maxInputBytes':
      case 'maxOutputBytes':
      case 'maxReturnedBytes':
        out[key] = positiveInt(option, value);
        break;
      case 'maxHeapBytes':
        if (typeof value === 'number' && value < MIN_HEAP) {
          throw new OptionsError(option, `must be at least 64 MiB (the core alone needs 32 MiB), got ${show(value)}`);
        }
        out[key] = intInRange(option, value, MIN_HEAP, WASM_MAX_HEAP);
        break;
      case 'maxDurationSeconds':
        out[key] = positiveNumber(option, value);
        break;
      case 'timeoutMs':
        out[key] = value === Infinity ? Infinity : positiveInt(option, value);
        break;
      default:
        throw new OptionsError(option, `is not a limit (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
    }
  }
  return out;
}

export function resolveEngineOptions(options: unknown): ResolvedEngineOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) throw new OptionsError('options', 'must be an object');
  const o = options as EngineOptions;
  for (const key of Object.keys(o)) {
    if (!ENGINE_KEYS.includes(key)) throw new OptionsError(key, `is not an engine option (known: ${ENGINE_KEYS.join(', ')})`);
  }
  // 0: no threads at all, every job on the calling thread (pool/inline-pool.ts).
  const workers = o.workers === undefined ? Math.max(1, availableParallelism()) : intInRange('workers', o.workers, 0, 256);
  // 0 is meaningful: no waiting at all, a job runs only when a worker is free.
  const maxQueue = o.maxQueue === undefined ? 64 : intInRange('maxQueue', o.maxQueue, 0);
  const spoolDir = o.spoolDir === undefined ? tmpdir() : v.path('spoolDir', o.spoolDir);
  const sweepDirs = o.sweepDirs === undefined ? [] : o.sweepDirs;
  if (!Array.isArray(sweepDirs)) throw new OptionsError('sweepDirs', 'must be an array of paths');
  sweepDirs.forEach((d, i) => {
    v.path(`sweepDirs[${i}]`, d);
  });
  if (o.core !== undefined && typeof o.core !== 'string') throw new OptionsError('core', `must be a core's name or folder, got ${show(o.core)}`);
  const core = resolveCore(o.core);
  const videoThreads = o.videoThreads === undefined ? 1 : positiveInt('videoThreads', o.videoThreads, MAX_VIDEO_THREADS);
  let videoCore: CoreFiles | null = null;
  if (videoThreads > 1 && workers === 0) {
    throw new OptionsError('videoThreads', 'above 1 runs video on threads of its own, and an engine with workers: 0 has none');
  }
  if (videoThreads > 1) {
    const threaded = threadedCoreFor(core);
    if (!threaded) {
      throw new OptionsError('videoThreads', `above 1 needs a multithreaded FFmpeg core, and core ${core.name} has none (the package ships gpl-mt)`);
    }
    if (threaded !== core) videoCore = threaded;
  }
  const logger = checkLogger(o.logger);
  const ffmpegLogLevel = checkLogLevel(o.ffmpegLogLevel);
  return {
    workers,
    maxQueue,
    limits: resolveLimits({ ...DEFAULT_LIMITS }, o.limits),
    spoolDir,
    sweepDirs,
    core,
    videoThreads,
    videoCore,
    logger,
    ffmpegLogLevel,
  };
}
