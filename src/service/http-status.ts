/**
 * The HTTP status of each error family: the caller's request or input (4xx), a full queue or a
 * draining service (429/503, with when to retry), and our failures (5xx). The body is always the
 * typed error as JSON, `{ "error": { "code", "message", "details" } }`.
 */
import type { ErrorCode, SandcodecError } from '../errors.js';

const STATUS: Record<ErrorCode, number> = {
  E_OPTIONS: 400,
  E_INPUT_INVALID: 422,
  E_UNSUPPORTED: 415,
  E_LIMIT: 413,
  E_QUEUE_FULL: 429,
  // The client went away or cancelled: nginx's convention, for logs (nobody reads the response).
  E_ABORTED: 499,
  E_CLOSED: 503,
  E_TIMEOUT: 504,
  E_FFMPEG: 500,
  E_IO: 500,
  E_INTERNAL: 500,
};

export function httpStatus(err: SandcodecError): number {
  // The job queue (Redis) cannot be reached: the request can be retried as it is.
  if (err.code === 'E_IO' && err.details.unavailable === true) return 503;
  return STATUS[err.code];
}

/** Seconds a client should wait before trying again, for the statuses that say so. */
export function retryAfter(status: number): number | undefined {
  return status === 429 ? 1 : status === 503 ? 5 : undefined;
}
