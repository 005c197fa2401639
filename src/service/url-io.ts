/**
 * The URL inputs and outputs of the media service: a worker downloads a job's input to a local
 * file and uploads its output files. Everything goes through one undici Agent per URL policy,
 * whose DNS lookup refuses non-public addresses (`safeLookup`), and redirects are followed here,
 * not by undici, so every hop is checked (`checkUrl`) before it is connected to.
 *
 * Failures are typed: the source's fault (4xx, SSRF refusals) is `InputError`, a bad output URL
 * is `OptionsError('output.url')`, size is `LimitError('maxInputBytes')`, the overall deadline is
 * `TimeoutError`, the caller's signal is `AbortedError`, and a network or server failure that
 * outlived the retries is `IOError`. Messages name URLs through `redact` only: query strings hold
 * presigned signatures and must never reach a log.
 */

import { createReadStream, type ReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher, request } from 'undici';
import { AbortedError, InputError, IOError, LimitError, OptionsError, SandcodecError, TimeoutError } from '../errors.js';
import { checkUrl, redact, safeLookup, type UrlPolicy } from './url-policy.js';

export interface TransferOptions {
  policy: UrlPolicy;
  /** The whole transfer, retries and redirects included, must finish within this. */
  timeoutMs: number;
  /** Further attempts after the first, for 5xx, 429 and connection failures. */
  retries: number;
  signal?: AbortSignal;
  /** ms before the first retry, doubled each time; tests pass small values */
  backoffMs?: number;
}

const MAX_REDIRECTS = 5;
const DEFAULT_BACKOFF_MS = 500;
const MAX_RETRY_AFTER_MS = 30_000;
/** The longest a connection may sit silent (no headers, no body bytes) before the attempt is retried. */
const STALL_MS = 60_000;

const DOWNLOAD_REDIRECTS = new Set([301, 302, 303, 307, 308]);
// An upload body cannot be re-sent as a GET: only the redirects that keep method and body.
const UPLOAD_REDIRECTS = new Set([307, 308]);

/** Errors that say the network or the peer failed this time, and may not the next. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

// ---------------------------------------------------------------------------------------------
// Agents

// One Agent per policy: its connections (and keep-alive pool) are only ever opened through that
// policy's lookup. A WeakMap lets a policy that is dropped take its Agent with it.
const agents = new WeakMap<UrlPolicy, Agent>();

function agentFor(policy: UrlPolicy): Agent {
  let agent = agents.get(policy);
  if (!agent) {
    agent = new Agent({ connect: { lookup: safeLookup(policy) } });
    agents.set(policy, agent);
  }
  return agent;
}

// ---------------------------------------------------------------------------------------------
// Attempts, retries and the deadline

/** Thrown inside an attempt for a failure worth another attempt; `error` is what the caller gets if none is left. */
class Retryable extends Error {
  constructor(
    readonly error: SandcodecError,
    readonly retryAfterMs?: number,
  ) {
    super(error.message);
  }
}

type Direction = 'download' | 'upload';

interface Transfer {
  readonly method: string;
  readonly url: string;
  readonly direction: Direction;
  readonly agent: Agent;
  readonly policy: UrlPolicy;
  /** Aborted by the caller's signal or the deadline; its reason is the error to throw. */
  readonly signal: AbortSignal;
  readonly deadline: number;
}

/**
 * Runs `attempt` until it succeeds, fails for good, runs out of retries or out of time. The
 * deadline and the caller's signal share one AbortController whose reason is the typed error, so
 * whichever of undici, the file stream or the backoff sleep notices first, the caller gets it.
 */
async function withRetries<T>(
  method: string,
  url: string,
  direction: Direction,
  options: TransferOptions,
  attempt: (t: Transfer, n: number) => Promise<T>,
): Promise<T> {
  const { policy, timeoutMs, retries, signal } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new OptionsError('timeoutMs', `must be a positive number of ms, got ${timeoutMs}`);
  if (!Number.isInteger(retries) || retries < 0) throw new OptionsError('retries', `must be a whole number ≥ 0, got ${retries}`);
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const callerAborted = (): SandcodecError =>
    signal?.reason instanceof SandcodecError ? signal.reason : new AbortedError(`${method} ${redact(url)} was aborted`);
  if (signal?.aborted) throw callerAborted();

  const controller = new AbortController();
  const deadline = Date.now() + timeoutMs;
  const timer = setTimeout(
    () => controller.abort(new TimeoutError(`${method} ${redact(url)} did not finish within ${timeoutMs} ms`, { timeoutMs })),
    timeoutMs,
  );
  const onAbort = (): void => controller.abort(callerAborted());
  signal?.addEventListener('abort', onAbort, { once: true });
  const t: Transfer = { method, url, direction, agent: agentFor(policy), policy, signal: controller.signal, deadline };
  try {
    for (let n = 0; ; n++) {
      try {
        return await attempt(t, n);
      } catch (err) {
        if (controller.signal.aborted) throw controller.signal.reason;
        const failure = classify(err, t);
        if (!(failure instanceof Retryable)) throw failure;
        const attempts = n + 1;
        if (n >= retries) throw withAttempts(failure.error, attempts);
        const jitter = 0.8 + Math.random() * 0.4;
        const delay = failure.retryAfterMs ?? backoffMs * 2 ** n * jitter;
        // Sleeping into the deadline would turn the real cause into a bare timeout: report it now.
        if (Date.now() + delay >= deadline) throw withAttempts(failure.error, attempts, 'no time left to retry');
        try {
          await sleep(delay, undefined, { signal: controller.signal });
        } catch {
          throw controller.signal.reason;
        }
      }
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function withAttempts(error: SandcodecError, attempts: number, note?: string): SandcodecError {
  if (!(error instanceof IOError)) return error;
  const suffix = attempts > 1 || note ? ` (${[attempts > 1 ? `after ${attempts} attempts` : '', note ?? ''].filter(Boolean).join('; ')})` : '';
  return new IOError(`${error.message}${suffix}`, { ...error.details, attempts }, { cause: error.cause });
}

/** Every error reachable through `cause` and AggregateError's `errors` (undici and net wrap). */
function* errorChain(err: unknown, depth = 0): Generator<unknown> {
  if (err === null || err === undefined || depth > 8) return;
  yield err;
  if (err instanceof AggregateError) for (const e of err.errors) yield* errorChain(e, depth + 1);
  if (err instanceof Error && err.cause !== undefined) yield* errorChain(err.cause, depth + 1);
}

/** Sorts an error from an attempt into: a typed final error, or a `Retryable`. */
function classify(err: unknown, t: Transfer): SandcodecError | Retryable {
  if (err instanceof Retryable) return err;
  for (const e of errorChain(err)) {
    if (e instanceof SandcodecError) return e.details.ssrf === true && t.direction === 'upload' ? asOutputError(e) : e;
  }
  let code: string | undefined;
  for (const e of errorChain(err)) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') {
      code = c;
      break;
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  const what = `${t.method} ${redact(t.url)}`;
  // A name that does not exist will not start existing on the next attempt.
  if (code === 'ENOTFOUND') {
    const msg = `${what} failed: the host name does not resolve (ENOTFOUND)`;
    return t.direction === 'upload' ? new OptionsError('output.url', msg) : new InputError(msg, { errno: code });
  }
  const error = new IOError(`${what} failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, code ? { errno: code } : {}, { cause: err });
  return code !== undefined && TRANSIENT_CODES.has(code) ? new Retryable(error) : error;
}

/** An upload's refusals are the output URL's fault: report them against that option. */
function asOutputError(e: SandcodecError): OptionsError {
  const out = new OptionsError('output.url', e.message);
  Object.assign(out.details, { ...e.details, option: 'output.url' });
  return out;
}

/** A Retry-After header (seconds or an HTTP date) as ms, capped; undefined when absent or unusable. */
function retryAfterMs(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const value = headerValue(headers, 'retry-after');
  if (value === null) return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_MS) : undefined;
}

function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | null {
  const v = headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? null) : null;
}

/** Discards a body we will not read: undici keeps the socket busy (leaks it) until the body is consumed or destroyed. */
async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  await body.dump().catch(() => drop(body));
}

/** Destroys a body unread. undici emits an AbortError on a body destroyed early; nobody is listening for it. */
function drop(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/** An error for a status that is neither success nor redirect; 5xx, 408 and 429 may be retried. */
function statusError(t: Transfer, res: Dispatcher.ResponseData, hop: string): SandcodecError | Retryable {
  const status = res.statusCode;
  const message = `${t.method} ${redact(hop)} answered ${status}`;
  if (status >= 500 || status === 429 || status === 408) {
    return new Retryable(new IOError(message, { status, url: redact(hop) }), retryAfterMs(res.headers));
  }
  if (t.direction === 'upload') {
    const e = new OptionsError('output.url', message);
    Object.assign(e.details, { status });
    return e;
  }
  return new InputError(message, { status, url: redact(hop) });
}

/**
 * Sends the request and follows redirects (each hop checked like the first), returning the final
 * response, which is a success: anything else is thrown, its body discarded.
 */
async function send(
  t: Transfer,
  requestOptions: () => Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'>,
): Promise<{ res: Dispatcher.ResponseData; url: string }> {
  const redirects = t.direction === 'upload' ? UPLOAD_REDIRECTS : DOWNLOAD_REDIRECTS;
  let hop = t.url;
  for (let n = 0; ; n++) {
    const silence = Math.max(1, Math.min(STALL_MS, t.deadline - Date.now()));
    const res = await request(hop, {
      ...requestOptions(),
      dispatcher: t.agent,
      method: t.method as Dispatcher.HttpMethod,
      signal: t.signal,
      headersTimeout: silence,
      bodyTimeout: silence,
    });
    const status = res.statusCode;
    if (status >= 200 && status < 300) return { res, url: hop };
    const location = headerValue(res.headers, 'location');
    await discard(res.body);
    if (status >= 300 && status < 400 && redirects.has(status) && location !== null) {
      if (n >= MAX_REDIRECTS) throw refusal(t, `${t.method} ${redact(t.url)} redirected more than ${MAX_REDIRECTS} times`);
      hop = nextHop(t, hop, location);
      continue;
    }
    if (status >= 300 && status < 400) {
      const why = location === null ? 'without a Location' : t.direction === 'upload' ? '(uploads follow only 307 and 308 redirects)' : '';
      throw refusal(t, `${t.method} ${redact(hop)} answered ${status} ${why}`.trimEnd());
    }
    throw statusError(t, res, hop);
  }
}

/** A failure that is the source's (download) or the output URL's (upload) fault; never retried. */
function refusal(t: Transfer, message: string, details: Record<string, unknown> = {}): SandcodecError {
  if (t.direction === 'download') return new InputError(message, details);
  const e = new OptionsError('output.url', message);
  Object.assign(e.details, details);
  return e;
}

/**
 * The redirect target, checked as a job URL would be. At run time a refused redirect is the
 * remote side's doing, not a bad option: it becomes an ssrf refusal rather than an OptionsError.
 */
function nextHop(t: Transfer, from: string, location: string): string {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw refusal(t, `${t.method} ${redact(from)} redirected to an invalid URL`);
  }
  const option = t.direction === 'upload' ? 'output.url' : 'input.url';
  try {
    checkUrl(next.href, t.policy, option);
  } catch (err) {
    // checkUrl's message is "<option>: <url>: <why>" or "<option>: <why>"; say it once, as a redirect.
    const why = (err instanceof Error ? err.message : String(err)).replace(`${option}: `, '').replace(`${redact(next)}: `, '');
    throw refusal(t, `${t.method} ${redact(from)} redirected to ${redact(next)}: ${why}`, { ssrf: true });
  }
  return next.href;
}

// ---------------------------------------------------------------------------------------------
// Download

/** Counts bytes through and fails the stream the moment they pass `max`. */
class ByteLimit extends Transform {
  seen = 0;
  constructor(
    private readonly max: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) {
      callback(new LimitError('maxInputBytes', `${this.what} sent more than ${this.max} bytes (maxInputBytes)`, { max: this.max, actual: this.seen }));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * Downloads `url` into a new file at `path`, streaming (never buffered whole), within
 * `maxBytes`. The file is created exclusively ('wx': an existing file is never overwritten) and
 * removed again on any failure.
 */
export async function downloadToFile(
  url: string,
  path: string,
  options: TransferOptions & { maxBytes: number },
): Promise<{ size: number; contentType: string | null; finalUrl: string }> {
  const { maxBytes } = options;
  if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new OptionsError('maxInputBytes', `must be a number of bytes ≥ 0, got ${maxBytes}`);
  checkUrl(url, options.policy, 'input.url');
  let created = false;
  try {
    return await withRetries('GET', url, 'download', options, async (t) => {
      const { res, url: finalUrl } = await send(t, () => ({ headers: { 'accept-encoding': 'identity' } }));
      const what = `GET ${redact(finalUrl)}`;
      const declared = headerValue(res.headers, 'content-length');
      if (declared !== null && Number(declared) > maxBytes) {
        drop(res.body);
        throw new LimitError('maxInputBytes', `${what} is ${declared} bytes, over the ${maxBytes}-byte limit (maxInputBytes)`, {
          max: maxBytes,
          actual: Number(declared),
        });
      }
      // Created exclusively on the first attempt, truncated by later ones: the path is ours
      // from the first open, and a file that was there before is never touched.
      let file: Awaited<ReturnType<typeof open>>;
      try {
        file = await open(path, created ? 'w' : 'wx');
      } catch (err) {
        drop(res.body);
        throw fileError(`cannot create ${path}`, err);
      }
      created = true;
      const limit = new ByteLimit(maxBytes, what);
      try {
        await pipeline(res.body, limit, file.createWriteStream(), { signal: t.signal });
      } catch (err) {
        // A write failure is the disk's; only network failures (classified later) are retried.
        if (isFsError(err)) throw fileError(`cannot write ${path}`, err);
        throw err;
      } finally {
        // Resolves once outstanding writes are done, so a retry never races a late write.
        await file.close().catch(() => {});
      }
      return { size: limit.seen, contentType: headerValue(res.headers, 'content-type'), finalUrl };
    });
  } catch (err) {
    if (created) await rm(path, { force: true }).catch(() => {});
    throw err;
  }
}

function isFsError(err: unknown): boolean {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string' &&
    /^(open|write|close|fsync|ftruncate)$/.test(String((err as NodeJS.ErrnoException).syscall))
  );
}

function fileError(what: string, err: unknown): IOError {
  const e = err as NodeJS.ErrnoException;
  return new IOError(`${what}: ${e?.message ?? String(err)}`, e?.code ? { errno: e.code } : {}, { cause: err });
}

// ---------------------------------------------------------------------------------------------
// Upload

/**
 * Uploads the file at `path` to `url` (PUT by default) as a stream with its length and type. Each
 * attempt and each redirect reads the file afresh. 4xx answers are `OptionsError('output.url')`:
 * the caller's URL is wrong (expired signature, no permission) and retrying will not fix it.
 */
export async function uploadFile(
  url: string,
  path: string,
  options: TransferOptions & { method?: 'PUT' | 'POST'; contentType?: string },
): Promise<{ status: number }> {
  const method = options.method ?? 'PUT';
  if (method !== 'PUT' && method !== 'POST') throw new OptionsError('output.method', `must be PUT or POST, got ${String(method)}`);
  checkUrl(url, options.policy, 'output.url');
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    size = s.size;
  } catch (err) {
    throw fileError(`cannot read ${path}`, err);
  }
  const contentType = options.contentType ?? contentTypeOf(basename(path));
  return withRetries(method, url, 'upload', options, async (t) => {
    const bodies: ReadStream[] = [];
    try {
      const { res } = await send(t, () => {
        const body = createReadStream(path);
        bodies.push(body);
        return { body, headers: { 'content-length': String(size), 'content-type': contentType } };
      });
      await discard(res.body);
      return { status: res.statusCode };
    } finally {
      // undici usually ends or destroys the body it was given, but not when the request fails
      // before sending it; an open read stream would hold the file descriptor.
      for (const b of bodies) b.destroy();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Output names

/**
 * The URL an output file named `name` (possibly with sub-paths, `video/720p/seg-1.m4s`) is
 * uploaded to: `target` with every `{name}` replaced, or, when it has none, `target` (which must
 * then end with `/` before any query string) with the name appended before the query string, so
 * presigned prefixes such as `https://h/put/?sig=x` work. Each path segment is percent-encoded.
 */
export function outputUrl(target: string, name: string): string {
  if (typeof target !== 'string') throw new OptionsError('output.url', 'must be a URL string');
  if (typeof name !== 'string' || name === '') throw new OptionsError('output.url', 'the output name is empty');
  const segments = name.split('/');
  // '..' and '.' would be resolved away by URL parsing and walk out of the target's prefix.
  if (name.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new OptionsError('output.url', `output name ${JSON.stringify(name)} is not a relative path (no leading /, empty, . or .. segments)`);
  }
  const encoded = segments.map(encodeURIComponent).join('/');
  let result: string;
  if (target.includes('{name}')) {
    result = target.replaceAll('{name}', encoded);
  } else {
    const cut = target.search(/[?#]/);
    const base = cut >= 0 ? target.slice(0, cut) : target;
    const rest = cut >= 0 ? target.slice(cut) : '';
    if (!base.endsWith('/') || /^[a-z][a-z0-9+.-]*:\/\/$/i.test(base)) {
      throw new OptionsError('output.url', `${redact(target)} must contain {name} or end with / (before any query string)`);
    }
    result = `${base}${encoded}${rest}`;
  }
  let parsed: URL;
  try {
    parsed = new URL(result);
  } catch {
    throw new OptionsError('output.url', `${redact(target)} does not make a valid URL for ${JSON.stringify(name)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new OptionsError('output.url', `${parsed.protocol} URLs are not supported; use http: or https:`);
  return result;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.m4a': 'audio/mp4',
  '.mp4': 'video/mp4',
  '.m4s': 'video/iso.segment',
  '.mpd': 'application/dash+xml',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.opus': 'audio/ogg',
  '.ogg': 'audio/ogg',
  '.mp3': 'audio/mpeg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.webm': 'video/webm',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.vtt': 'text/vtt',
  '.json': 'application/json',
};

/** The Content-Type an output is uploaded with, by extension (players and CDNs rely on it). */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}
