/**
 * The HTTP API, on Node's own `http`: a handful of routes, request bodies that must stream
 * straight into the engine under its byte limit, and no schema layer to keep in step with the
 * engine's own option checks. A framework would add a router, body parsers we would have to
 * turn off for uploads, and a second error format.
 *
 *   POST   /v1/jobs              submit a job (JSON) → 202 { id }
 *   GET    /v1/jobs/:id          { id, state, progress, result | error }
 *   DELETE /v1/jobs/:id          cancel
 *   PUT    /v1/probe|loudness    the body is the media (POST too); JSON result
 *   PUT    /v1/resize?width=…    the body is an image; the resized image
 *   GET    /healthz /readyz /metrics
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import type { Engine } from '../engine.js';
import { AbortedError, ClosedError, LimitError, OptionsError, SandcodecError } from '../errors.js';
import { httpStatus, retryAfter } from './http-status.js';
import type { JobQueue } from './job-queue.js';
import { asJobError } from './job-runner.js';
import { JOB_ID, parseJobSpec } from './job-spec.js';
import type { Logger } from './log.js';
import type { ServiceMetrics } from './metrics.js';
import type { UrlPolicy } from './url-policy.js';

export interface HttpServiceOptions {
  engine: Engine;
  queue: JobQueue;
  policy: UrlPolicy;
  outputRoot: string | undefined;
  log: Logger;
  metrics: ServiceMetrics;
  /** Largest upload to a synchronous call (the engine's maxInputBytes). */
  maxInputBytes: number;
}

/** A job submission is a small JSON document; media never comes in it. */
const MAX_JSON_BYTES = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Options of `/v1/resize` read from the query string, with how each is parsed. */
const RESIZE_QUERY: Record<string, 'int' | 'bool' | 'string'> = {
  width: 'int',
  height: 'int',
  fit: 'string',
  position: 'string',
  format: 'string',
  quality: 'int',
  kernel: 'string',
  withoutEnlargement: 'bool',
  progressive: 'bool',
  lossless: 'bool',
  keepMetadata: 'bool',
};

const IMAGE_TYPES: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif' };

export class HttpService {
  readonly server: Server;
  private draining = false;
  private readonly open = new Set<ServerResponse>();

  constructor(private readonly o: HttpServiceOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
    // A client that opens a connection and sends nothing must not hold it forever.
    this.server.headersTimeout = 30_000;
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 5_000;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Readiness goes false and new work is refused; status, health and metrics still answer. */
  drain(): void {
    this.draining = true;
  }

  /** Requests in flight finish (up to `deadlineMs`), then the server closes. */
  async close(deadlineMs: number): Promise<void> {
    this.draining = true;
    const until = Date.now() + deadlineMs;
    while (this.open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://service');
    const route = routeOf(req.method ?? 'GET', url.pathname);
    this.open.add(res);
    // The client hung up: stop its call (the engine removes what it staged).
    const controller = new AbortController();
    res.on('close', () => {
      this.open.delete(res);
      if (!res.writableFinished) controller.abort(new AbortedError('the client closed the connection'));
      const status = res.statusCode;
      const ms = Math.round(performance.now() - started);
      this.o.metrics.requests.inc({ route: route.name, status: String(status) });
      this.o.metrics.requestSeconds.observe({ route: route.name }, ms / 1000);
      if (route.name !== 'healthz' && route.name !== 'metrics')
        this.o.log.info({ reqId: requestId, method: req.method, route: route.name, status, ms }, 'request');
    });
    try {
      await this.dispatch(route, req, res, url, requestId, controller.signal);
    } catch (err) {
      this.sendError(req, res, err instanceof SandcodecError ? err : asJobError(err, controller.signal), requestId);
    }
  }

  private async dispatch(route: Route, req: IncomingMessage, res: ServerResponse, url: URL, requestId: string, signal: AbortSignal): Promise<void> {
    switch (route.name) {
      case 'healthz':
        return sendJson(res, 200, { ok: true });
      case 'readyz': {
        const ready = !this.draining && this.o.queue.ready();
        return sendJson(res, ready ? 200 : 503, { ready, draining: this.draining });
      }
      case 'metrics': {
        const text = await this.o.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.o.metrics.registry.contentType });
        res.end(text);
        return;
      }
      case 'submit': {
        this.refuseWhileDraining();
        const spec = parseJobSpec(await readJson(req), { policy: this.o.policy, outputRoot: this.o.outputRoot !== undefined });
        const { id, created } = await this.o.queue.submit(spec.id ?? randomUUID(), { spec, requestId });
        return sendJson(res, created ? 202 : 200, { id });
      }
      case 'status':
      case 'cancel': {
        const id = route.id ?? '';
        if (!JOB_ID.test(id)) throw new OptionsError('id', 'must be 1 to 64 letters, digits, _ or -');
        const status = route.name === 'status' ? await this.o.queue.status(id) : await this.o.queue.cancel(id);
        if (!status) return sendJson(res, 404, { error: { code: 'E_OPTIONS', message: `id: no job ${id}`, details: { option: 'id' } } });
        return sendJson(res, 200, status);
      }
      case 'probe':
      case 'loudness':
      case 'resize':
        this.refuseWhileDraining();
        return this.syncCall(route.name, req, res, url, signal);
      case 'method':
        res.setHeader('allow', route.allow ?? '');
        return sendJson(res, 405, { error: { code: 'E_OPTIONS', message: `${req.method} is not allowed on ${url.pathname} (allowed: ${route.allow})` } });
      default:
        return sendJson(res, 404, { error: { code: 'E_OPTIONS', message: `no route ${url.pathname}` } });
    }
  }

  private refuseWhileDraining(): void {
    if (this.draining) throw new ClosedError('the service is draining and takes no new work');
  }

  /** A small call on the service's own engine, the request body streamed into it. */
  private async syncCall(op: 'probe' | 'loudness' | 'resize', req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
    const max = this.o.maxInputBytes;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max)
      throw new LimitError('maxInputBytes', `the upload is ${declared} bytes, more than maxInputBytes (${max})`, { max, actual: declared });
    const name = url.searchParams.get('name') ?? '';
    if (name && !/^[^/\\\0]{1,255}$/.test(name)) throw new OptionsError('name', 'must be a file name without slashes');
    const counter = new ByteCounter((n) => this.o.metrics.bytes.inc({ direction: 'in' }, n));
    req.pipe(counter);
    req.on('error', (err) => counter.destroy(err));
    const input = { stream: counter, name };
    const call = { signal };
    if (op === 'probe')
      return sendJson(
        res,
        200,
        stripCall(await this.o.engine.probe(input, { ...call, ...(url.searchParams.get('decode') === 'true' ? { decode: true } : {}) })),
      );
    if (op === 'loudness') return sendJson(res, 200, stripCall(await this.o.engine.loudness(input, call)));
    const options = resizeOptions(url.searchParams);
    const r = await this.o.engine.resize(input, { ...options, ...call });
    const bytes = r.bytes ?? new Uint8Array();
    res.writeHead(200, {
      'content-type': IMAGE_TYPES[r.format] ?? 'application/octet-stream',
      'content-length': bytes.byteLength,
      'x-image-width': r.width,
      'x-image-height': r.height,
    });
    this.o.metrics.bytes.inc({ direction: 'out' }, bytes.byteLength);
    res.end(bytes);
  }

  private sendError(req: IncomingMessage, res: ServerResponse, err: SandcodecError, requestId: string): void {
    const status = httpStatus(err);
    if (status >= 500) this.o.log.error({ reqId: requestId, code: err.code, err: err.message }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const after = retryAfter(status);
    if (after !== undefined) res.setHeader('retry-after', String(after));
    const { code, message, details } = err;
    if (!req.complete) {
      // The body was not read (all of it): the connection closes after the answer, and what
      // the client is still sending is read and dropped for a while, so that it sees the answer
      // rather than a broken pipe — but never more than DISCARD_BYTES of it.
      res.setHeader('connection', 'close');
      discardBody(req);
    }
    sendJson(res, status, { error: { code, message, details } });
  }
}

interface Route {
  name: 'healthz' | 'readyz' | 'metrics' | 'submit' | 'status' | 'cancel' | 'probe' | 'loudness' | 'resize' | 'method' | 'none';
  id?: string;
  allow?: string;
}

function routeOf(method: string, path: string): Route {
  const is = (allowed: string[], name: Route['name']): Route => (allowed.includes(method) ? { name } : { name: 'method', allow: allowed.join(', ') });
  if (path === '/healthz') return is(['GET', 'HEAD'], 'healthz');
  if (path === '/readyz') return is(['GET', 'HEAD'], 'readyz');
  if (path === '/metrics') return is(['GET'], 'metrics');
  if (path === '/v1/jobs') return is(['POST'], 'submit');
  const job = /^\/v1\/jobs\/([^/]+)$/.exec(path);
  if (job) {
    // Ids are plain ([A-Za-z0-9_-]): an encoded one is refused as it is, never decoded.
    if (method === 'GET') return { name: 'status', id: job[1]! };
    if (method === 'DELETE') return { name: 'cancel', id: job[1]! };
    return { name: 'method', allow: 'GET, DELETE' };
  }
  for (const op of ['probe', 'loudness', 'resize'] as const) if (path === `/v1/${op}`) return is(['PUT', 'POST'], op);
  return { name: 'none' };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new OptionsError('content-type', `a job is submitted as application/json, got ${type || 'none'}`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_JSON_BYTES) throw new OptionsError('body', `must be at most ${MAX_JSON_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > MAX_JSON_BYTES) throw new OptionsError('body', `must be at most ${MAX_JSON_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new OptionsError('body', `is not JSON: ${(err as Error).message}`);
  }
}

function resizeOptions(query: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of query) {
    if (key === 'name') continue;
    const kind = RESIZE_QUERY[key];
    if (!kind) throw new OptionsError(key, `is not a resize query option (they are: ${Object.keys(RESIZE_QUERY).join(', ')})`);
    if (kind === 'int') {
      if (!/^\d{1,6}$/.test(value)) throw new OptionsError(key, `must be a whole number, got ${JSON.stringify(value)}`);
      out[key] = Number(value);
    } else if (kind === 'bool') {
      if (value !== 'true' && value !== 'false') throw new OptionsError(key, `must be true or false, got ${JSON.stringify(value)}`);
      out[key] = value === 'true';
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** How much of a refused upload is read and dropped before the connection is cut. */
const DISCARD_BYTES = 8 * 1024 * 1024;

function discardBody(req: IncomingMessage): void {
  req.unpipe();
  let seen = 0;
  const timer = setTimeout(() => req.destroy(), 10_000);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.byteLength;
    if (seen > DISCARD_BYTES) req.destroy();
  });
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function stripCall(result: object): object {
  const { call: _call, ...rest } = result as { call?: unknown };
  return rest;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Passes bytes through, reporting how many went by (the metrics' bytes in). */
class ByteCounter extends Transform {
  constructor(private readonly report: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.report(chunk.byteLength);
    cb(null, chunk);
  }
}
