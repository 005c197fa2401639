/**
 * What an engine tells the outside about its calls, for operators: `node:diagnostics_channel`
 * channels (start, finish, error, with timings), an optional logger (pino's interface), counters
 * (`engine.stats()`), and the `call` record every result and error carries.
 *
 *   import { subscribe } from 'node:diagnostics_channel';
 *   subscribe('sandcodec:call:finish', ({ call }) => metrics.observe(call.op, call.elapsedMs));
 *
 *   createEngine({ logger: pino(), ffmpegLogLevel: 'debug' });
 */
import { channel } from 'node:diagnostics_channel';
import { type ErrorCode, OptionsError } from './errors.js';
import type { CallInfo } from './model/call-info.js';

export type { CallInfo } from './model/call-info.js';

/** The channels' names: `start` when a call begins, then `finish` or `error`. */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  start: 'sandcodec:call:start',
  finish: 'sandcodec:call:finish',
  error: 'sandcodec:call:error',
});

/** The messages of the channels. */
export interface CallStartMessage {
  call: Pick<CallInfo, 'id' | 'op'>;
}
export interface CallFinishMessage {
  call: CallInfo;
}
export interface CallErrorMessage {
  call: CallInfo;
  error: { code: ErrorCode; message: string };
}

/** pino's logging methods (also bunyan's, and close enough to console's): `(object, message)`. */
export interface Logger {
  trace?(object: object, message?: string): void;
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export const LOG_LEVELS = Object.freeze(['trace', 'debug', 'info', 'warn', 'error'] as const);
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Counters since the engine started (`engine.stats()`). */
export interface EngineStats {
  calls: {
    started: number;
    running: number;
    succeeded: number;
    /** Failed calls by error code. */
    failed: Partial<Record<ErrorCode, number>>;
  };
  /** Jobs run on workers (a call runs one or more). */
  jobs: { run: number; failed: number };
  /** Calls and jobs holding a place (running or waiting), and those of them waiting for a worker. */
  queue: { depth: number; waiting: number };
  /** Worker threads, and how many were started again after one was stopped (a job past its grace, a crash). */
  workers: { count: number; restarts: number };
}

const starts = channel(DIAGNOSTICS_CHANNELS.start);
const finishes = channel(DIAGNOSTICS_CHANNELS.finish);
const errors = channel(DIAGNOSTICS_CHANNELS.error);

/** Failures that are ours, the host's or FFmpeg's, logged as errors; the rest (the input's or the caller's) as warnings. */
const OUR_CODES: ReadonlySet<ErrorCode> = new Set(['E_FFMPEG', 'E_IO', 'E_INTERNAL']);

export function checkLogger(value: unknown): Logger | undefined {
  if (value === undefined) return undefined;
  const l = value as Record<string, unknown>;
  const missing = (['debug', 'info', 'warn', 'error'] as const).filter((m) => typeof l?.[m] !== 'function');
  if (typeof value !== 'object' || value === null || missing.length > 0) {
    throw new OptionsError('logger', `must have pino's methods debug, info, warn and error (missing: ${missing.join(', ') || 'all'})`);
  }
  return value as Logger;
}

export function checkLogLevel(value: unknown): LogLevel {
  if (value === undefined) return 'debug';
  if (typeof value !== 'string' || !(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new OptionsError('ffmpegLogLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as LogLevel;
}

/** The engine's side of observation: counters, channels and the logger, fed by each call. */
export class Observer {
  private started = 0;
  private running = 0;
  private succeeded = 0;
  private readonly failed: Partial<Record<ErrorCode, number>> = {};
  private jobsRun = 0;
  private jobsFailed = 0;

  constructor(
    private readonly logger: Logger | undefined,
    private readonly ffmpegLogLevel: LogLevel,
  ) {}

  callStarted(call: Pick<CallInfo, 'id' | 'op'>): void {
    this.started++;
    this.running++;
    if (starts.hasSubscribers) starts.publish({ call } satisfies CallStartMessage);
    this.logger?.debug({ call: call.id, op: call.op }, 'sandcodec call started');
  }

  callFinished(call: CallInfo): void {
    this.running--;
    this.succeeded++;
    if (finishes.hasSubscribers) finishes.publish({ call } satisfies CallFinishMessage);
    this.logger?.info(
      { call: call.id, op: call.op, elapsedMs: call.elapsedMs, queueMs: call.queueMs, runMs: call.runMs, ioMs: call.ioMs, jobs: call.jobs },
      'sandcodec call finished',
    );
  }

  callFailed(call: CallInfo, error: { code: ErrorCode; message: string; details?: { log?: unknown } }): void {
    this.running--;
    this.failed[error.code] = (this.failed[error.code] ?? 0) + 1;
    if (errors.hasSubscribers) errors.publish({ call, error: { code: error.code, message: error.message } } satisfies CallErrorMessage);
    if (!this.logger) return;
    const record = { call: call.id, op: call.op, code: error.code, elapsedMs: call.elapsedMs, queueMs: call.queueMs, runMs: call.runMs, ioMs: call.ioMs };
    const text = `sandcodec call failed: ${error.message}`;
    if (OUR_CODES.has(error.code)) this.logger.error(record, text);
    else this.logger.warn(record, text);
  }

  /** One worker job of a call ended; its FFmpeg log (if any) goes to the logger at the chosen level. */
  jobEnded(call: Pick<CallInfo, 'id' | 'op'>, phase: string, ok: boolean, log: readonly string[] | undefined): void {
    this.jobsRun++;
    if (!ok) this.jobsFailed++;
    if (!this.logger || !log || log.length === 0) return;
    const write = this.logger[this.ffmpegLogLevel] ?? this.logger.debug;
    write.call(this.logger, { call: call.id, op: call.op, phase, ffmpeg: log }, 'ffmpeg log');
  }

  stats(queue: EngineStats['queue'], workers: EngineStats['workers']): EngineStats {
    return {
      calls: { started: this.started, running: this.running, succeeded: this.succeeded, failed: { ...this.failed } },
      jobs: { run: this.jobsRun, failed: this.jobsFailed },
      queue,
      workers,
    };
  }
}
