/**
 * One error type for everything sandcodec reports: a stable `code` callers can branch on, a
 * message meant for people, and optional `details` (for FFmpeg failures, the last log lines).
 * Errors cross the worker boundary as plain data (`toErrorData`) and are rebuilt as the same
 * class on the main thread (`fromErrorData`).
 */
import type { CallInfo } from './model/call-info.js';

export const ERROR_CODES = [
  'E_INPUT_INVALID',
  'E_UNSUPPORTED',
  'E_OPTIONS',
  'E_LIMIT',
  'E_TIMEOUT',
  'E_ABORTED',
  'E_QUEUE_FULL',
  'E_CLOSED',
  'E_FFMPEG',
  'E_IO',
  'E_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The names of the limits that raise `E_LIMIT`; each is also the option that sets it. */
export type LimitName =
  | 'maxInputBytes'
  | 'maxDurationSeconds'
  | 'maxOutputBytes'
  | 'maxReturnedBytes'
  | 'maxHeapBytes'
  | 'maxPixels'
  | 'maxImages'
  | 'maxQueue';

export interface ErrorDetails {
  /** Last lines FFmpeg logged before the failure, oldest first. */
  log?: string[];
  /** FFmpeg's exit status, when it ran. */
  exitCode?: number;
  /** For `E_LIMIT`: which limit, its configured value and what was seen. */
  limit?: LimitName;
  max?: number;
  actual?: number;
  /** The option at fault, for `E_OPTIONS`. */
  option?: string;
  [key: string]: unknown;
}

export class SandcodecError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  /** The engine call that failed (its id, operation and timings); set when the call reports it. */
  call?: CallInfo;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  override get name(): string {
    return this.constructor.name;
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails; call?: CallInfo } {
    return { code: this.code, message: this.message, details: this.details, ...(this.call ? { call: this.call } : {}) };
  }
}

/** The input could not be read or decoded: corrupt, truncated, empty, not media. */
export class InputError extends SandcodecError {
  constructor(message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super('E_INPUT_INVALID', message, details, options);
  }
}

/** Valid media, but something sandcodec does not do (a codec, a stream layout, a format). */
export class UnsupportedError extends SandcodecError {
  constructor(message: string, details?: ErrorDetails) {
    super('E_UNSUPPORTED', message, details);
  }
}

/** A caller-supplied option is missing, of the wrong type or out of range. */
export class OptionsError extends SandcodecError {
  constructor(option: string, message: string) {
    super('E_OPTIONS', `${option}: ${message}`, { option });
  }
}

/** A safety limit was exceeded. `details.limit` names it (the option that sets it). */
export class LimitError extends SandcodecError {
  readonly limit: LimitName;
  constructor(limit: LimitName, message: string, details: ErrorDetails = {}) {
    super('E_LIMIT', message, { ...details, limit });
    this.limit = limit;
  }
}

export class TimeoutError extends SandcodecError {
  constructor(message: string, details?: ErrorDetails) {
    super('E_TIMEOUT', message, details);
  }
}

export class AbortedError extends SandcodecError {
  constructor(message = 'the job was aborted', details?: ErrorDetails) {
    super('E_ABORTED', message, details);
  }
}

export class QueueFullError extends SandcodecError {
  constructor(message: string, details?: ErrorDetails) {
    super('E_QUEUE_FULL', message, details);
  }
}

/** The engine was closed before or while the call ran. */
export class ClosedError extends SandcodecError {
  constructor(message = 'the engine is closed') {
    super('E_CLOSED', message);
  }
}

/** FFmpeg ran and failed for a reason that is not the input's fault (encoder error, bad args). */
export class FFmpegError extends SandcodecError {
  constructor(message: string, details?: ErrorDetails) {
    super('E_FFMPEG', message, details);
  }
}

/** Reading or writing a host file failed (permissions, disk full, missing directory). */
export class IOError extends SandcodecError {
  constructor(message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super('E_IO', message, details, options);
  }
}

/** A bug or an environment failure inside sandcodec (the worker died, the core did not load). */
export class InternalError extends SandcodecError {
  constructor(message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super('E_INTERNAL', message, details, options);
  }
}

export interface ErrorData {
  __sandcodecError: true;
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
}

export function toErrorData(err: unknown): ErrorData {
  if (err instanceof SandcodecError) {
    return { __sandcodecError: true, code: err.code, message: err.message, details: err.details };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { __sandcodecError: true, code: 'E_INTERNAL', message, details: {} };
}

export function isErrorData(value: unknown): value is ErrorData {
  return typeof value === 'object' && value !== null && (value as ErrorData).__sandcodecError === true;
}

/** Rebuilds an error that crossed a thread boundary as the same subclass it left as. */
export function fromErrorData(data: ErrorData): SandcodecError {
  const { code, message, details } = data;
  switch (code) {
    case 'E_INPUT_INVALID':
      return new InputError(message, details);
    case 'E_UNSUPPORTED':
      return new UnsupportedError(message, details);
    case 'E_OPTIONS': {
      const e = new OptionsError(String(details.option ?? 'options'), '');
      return Object.assign(e, { message });
    }
    case 'E_LIMIT':
      return new LimitError((details.limit ?? 'maxInputBytes') as LimitName, message, details);
    case 'E_TIMEOUT':
      return new TimeoutError(message, details);
    case 'E_ABORTED':
      return new AbortedError(message, details);
    case 'E_QUEUE_FULL':
      return new QueueFullError(message, details);
    case 'E_CLOSED':
      return new ClosedError(message);
    case 'E_FFMPEG':
      return new FFmpegError(message, details);
    case 'E_IO':
      return new IOError(message, details);
    default:
      return new InternalError(message, details);
  }
}

/** CLI exit statuses, one per family, so scripts can tell "bad file" from "our bug". */
export const EXIT_STATUS: Record<ErrorCode, number> = {
  E_OPTIONS: 2,
  E_INPUT_INVALID: 3,
  E_UNSUPPORTED: 4,
  E_LIMIT: 5,
  E_TIMEOUT: 6,
  E_ABORTED: 7,
  E_QUEUE_FULL: 8,
  E_CLOSED: 8,
  E_FFMPEG: 9,
  E_IO: 10,
  E_INTERNAL: 70,
};
