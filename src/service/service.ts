/**
 * The processes of the service, put together: `serve` (the HTTP API, its small synchronous calls
 * on its own engine, and jobs run in-process or queued in Redis with a worker beside the API) and
 * `worker` (a BullMQ worker on another machine, with /healthz, /readyz and /metrics).
 * Options are checked before anything starts, each message naming its option.
 */
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createEngine, type Engine } from '../engine.js';
import { OptionsError } from '../errors.js';
import type { Limits } from '../options.js';
import { HttpService } from './http-server.js';
import { JobLifecycle } from './job-lifecycle.js';
import type { JobQueue } from './job-queue.js';
import { type JobRuntime, prepareWorkDir } from './job-runner.js';
import { LocalQueue } from './local-queue.js';
import { type Logger, serviceLogger } from './log.js';
import { type QueueDepth, ServiceMetrics } from './metrics.js';
import { checkRedisUrl } from './redis-connection.js';
import { RedisQueue } from './redis-queue.js';
import { RedisWorker } from './redis-worker.js';
import { urlPolicy } from './url-policy.js';

export interface ServiceOptions {
  /** HTTP port (0: any free one); default 8080 for serve, 9464 for a worker's metrics. */
  port?: number;
  /** Address to listen on (default 127.0.0.1; 0.0.0.0 in a container). */
  host?: string;
  /** Redis URL: jobs go through BullMQ. Without it, `serve` runs jobs in-process. */
  redis?: string;
  /** Engine worker threads (default: the machine's available parallelism). */
  workers?: number;
  /** Jobs this process runs at once (default: its engine's workers); 0 on `serve --redis`: API only. */
  concurrency?: number;
  /** Hosts (names or IP literals) whose URLs may reach private addresses: `127.0.0.1,media.internal`. */
  allowHosts?: string | string[];
  /** Folder under which jobs may write `output.dir` folders. */
  outputRoot?: string;
  /** Jobs waiting beyond which submissions get 429 (default 10000). */
  maxQueue?: number;
  /** Synchronous calls waiting for a worker beyond which they get 429 (default 16). */
  maxSyncQueue?: number;
  /** Attempts of a job failing with E_INTERNAL, E_IO or E_TIMEOUT (default 3). */
  attempts?: number;
  /** First retry delay, doubled each attempt (default 2000 ms). */
  backoffMs?: number;
  /** A job's lock: how soon the job of a dead worker goes to another (default 30000 ms). */
  lockMs?: number;
  /** On SIGTERM, how long running jobs may take to finish before they are handed back (default 60000 ms). */
  drainMs?: number;
  /** Split `package` jobs into chunk jobs across workers (default true when there is an output root). */
  splitPackages?: boolean;
  /** Engine limits (maxInputBytes also bounds uploads and URL downloads). */
  limits?: Partial<Limits>;
  /** One URL transfer: whole time (default 10 min) and retries (default 3). */
  transferTimeoutMs?: number;
  transferRetries?: number;
  /** Local scratch for job inputs and outputs (default `<tmpdir>/sandcodec-service`). */
  workDir?: string;
  core?: string;
  logger?: Logger;
}

export interface RunningService {
  /** The port the HTTP server listens on. */
  port: number;
  engine: Engine;
  log: Logger;
  /** Stops taking work, lets running work finish within the drain time, and closes everything. */
  stop(drainMs?: number): Promise<void>;
}

interface Resolved {
  port: number;
  host: string;
  redis: string | undefined;
  workers: number | undefined;
  concurrency: number | undefined;
  policy: ReturnType<typeof urlPolicy>;
  outputRoot: string | undefined;
  maxQueue: number;
  maxSyncQueue: number;
  attempts: number;
  backoffMs: number;
  lockMs: number;
  drainMs: number;
  splitPackages: boolean;
  limits: Partial<Limits>;
  transferTimeoutMs: number;
  transferRetries: number;
  workDir: string;
}

const KEYS = [
  'port',
  'host',
  'redis',
  'workers',
  'concurrency',
  'allowHosts',
  'outputRoot',
  'maxQueue',
  'maxSyncQueue',
  'attempts',
  'backoffMs',
  'lockMs',
  'drainMs',
  'splitPackages',
  'limits',
  'transferTimeoutMs',
  'transferRetries',
  'workDir',
  'core',
  'logger',
];

function int(option: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new OptionsError(option, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return value;
}

async function resolveOptions(o: ServiceOptions, defaultPort: number): Promise<Resolved> {
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) throw new OptionsError(key, 'is not a service option');
  let outputRoot: string | undefined;
  if (o.outputRoot !== undefined) {
    if (typeof o.outputRoot !== 'string' || o.outputRoot === '') throw new OptionsError('outputRoot', 'must be a folder');
    outputRoot = resolve(o.outputRoot);
    const s = await stat(outputRoot).catch(() => null);
    if (!s?.isDirectory()) throw new OptionsError('outputRoot', `${outputRoot} is not an existing folder`);
  }
  return {
    port: int('port', o.port, 0, 65535, defaultPort),
    host: typeof o.host === 'string' && o.host !== '' ? o.host : '127.0.0.1',
    redis: o.redis === undefined ? undefined : checkRedisUrl(o.redis),
    workers: o.workers === undefined ? undefined : int('workers', o.workers, 1, 256, 1),
    concurrency: o.concurrency === undefined ? undefined : int('concurrency', o.concurrency, 0, 256, 1),
    policy: urlPolicy(o.allowHosts),
    outputRoot,
    maxQueue: int('maxQueue', o.maxQueue, 1, 10_000_000, 10_000),
    maxSyncQueue: int('maxSyncQueue', o.maxSyncQueue, 0, 10_000, 16),
    attempts: int('attempts', o.attempts, 1, 100, 3),
    backoffMs: int('backoffMs', o.backoffMs, 0, 3_600_000, 2000),
    lockMs: int('lockMs', o.lockMs, 1000, 3_600_000, 30_000),
    drainMs: int('drainMs', o.drainMs, 0, 3_600_000, 60_000),
    splitPackages: o.splitPackages ?? outputRoot !== undefined,
    limits: o.limits ?? {},
    transferTimeoutMs: int('transferTimeoutMs', o.transferTimeoutMs, 100, 24 * 3_600_000, 600_000),
    transferRetries: int('transferRetries', o.transferRetries, 0, 20, 3),
    workDir: typeof o.workDir === 'string' && o.workDir !== '' ? resolve(o.workDir) : join(tmpdir(), 'sandcodec-service'),
  };
}

async function startEngine(r: Resolved, o: ServiceOptions): Promise<Engine> {
  return createEngine({
    ...(r.workers !== undefined ? { workers: r.workers } : {}),
    ...(o.core !== undefined ? { core: o.core } : {}),
    maxQueue: r.maxSyncQueue,
    limits: r.limits,
  });
}

function runtime(r: Resolved, engine: Engine): JobRuntime {
  return {
    engine,
    policy: r.policy,
    workDir: r.workDir,
    outputRoot: r.outputRoot,
    maxInputBytes: engine.options.limits.maxInputBytes,
    transfer: { timeoutMs: r.transferTimeoutMs, retries: r.transferRetries },
  };
}

function engineCalls(engine: Engine): { running: number; waiting: number } {
  const s = engine.stats();
  return { running: Math.max(0, s.queue.depth - s.queue.waiting), waiting: s.queue.waiting };
}

/** Share of the engine's workers running a job. */
function busy(engine: Engine): number {
  const s = engine.stats();
  return s.workers.count === 0 ? 0 : Math.min(1, Math.max(0, s.queue.depth - s.queue.waiting) / s.workers.count);
}

/** `sandcodec serve`: the HTTP API. */
export async function startServer(options: ServiceOptions = {}): Promise<RunningService> {
  const r = await resolveOptions(options, 8080);
  const log = options.logger ?? serviceLogger();
  await prepareWorkDir(r.workDir);
  const engine = await startEngine(r, options);
  const onError = throttledErrors(log);
  let depth: () => Promise<QueueDepth> = async () => ({ waiting: 0, active: 0 });
  const metrics = new ServiceMetrics({ depth: () => depth(), busy: () => busy(engine), engine: () => engineCalls(engine) });
  const lifecycle = new JobLifecycle(log, metrics);
  const rt = runtime(r, engine);
  const concurrency = r.concurrency ?? engine.workers;
  let queue: JobQueue;
  let worker: RedisWorker | undefined;
  try {
    if (r.redis) {
      queue = await RedisQueue.create({ url: r.redis, lifecycle, maxQueue: r.maxQueue, attempts: r.attempts, backoffMs: r.backoffMs, onError });
      if (concurrency > 0) worker = await RedisWorker.create(workerOptions(r, rt, lifecycle, concurrency, onError));
    } else {
      if (concurrency === 0) throw new OptionsError('concurrency', 'must be at least 1 without Redis: the jobs run in this process');
      queue = new LocalQueue({ runtime: rt, lifecycle, concurrency, maxQueue: r.maxQueue, attempts: r.attempts });
    }
  } catch (err) {
    await engine.close();
    throw err;
  }
  depth = () => queue.depth();
  const http = new HttpService({ engine, queue, policy: r.policy, outputRoot: r.outputRoot, log, metrics, maxInputBytes: engine.options.limits.maxInputBytes });
  const port = await http.listen(r.port, r.host);
  log.info(
    { port, host: r.host, redis: r.redis !== undefined, workers: engine.workers, concurrency: worker || !r.redis ? concurrency : 0, outputRoot: r.outputRoot },
    'service listening',
  );
  let stopping: Promise<void> | undefined;
  return {
    port,
    engine,
    log,
    stop: (drainMs = r.drainMs) =>
      (stopping ??= (async () => {
        log.info({ drainMs }, 'draining');
        const until = Date.now() + drainMs;
        // New work is refused from now; clients can still read their jobs' status while the
        // running ones finish.
        http.drain();
        if (worker) await worker.drain(drainMs);
        if (queue instanceof LocalQueue) await queue.drain(Math.max(0, until - Date.now()));
        await http.close(Math.max(0, until - Date.now()));
        await queue.close();
        await engine.close();
        log.info('stopped');
        log.flush();
      })()),
  };
}

function workerOptions(r: Resolved, rt: JobRuntime, lifecycle: JobLifecycle, concurrency: number, onError: (err: Error) => void) {
  return {
    url: r.redis!,
    runtime: rt,
    lifecycle,
    concurrency,
    lockMs: r.lockMs,
    splitPackages: r.splitPackages,
    attempts: r.attempts,
    backoffMs: r.backoffMs,
    onError,
  };
}

/** `sandcodec worker`: takes jobs from Redis; serves /healthz, /readyz and /metrics on `port`. */
export async function startWorker(options: ServiceOptions = {}): Promise<RunningService> {
  const r = await resolveOptions(options, 9464);
  if (!r.redis) throw new OptionsError('redis', 'a worker takes its jobs from Redis: give its URL');
  const log = options.logger ?? serviceLogger();
  await prepareWorkDir(r.workDir);
  const engine = await startEngine(r, options);
  const onError = throttledErrors(log);
  let worker: RedisWorker | undefined;
  const metrics = new ServiceMetrics({
    depth: () => (worker ? worker.depth() : Promise.resolve({ waiting: 0, active: 0 })),
    busy: () => busy(engine),
    engine: () => engineCalls(engine),
  });
  const lifecycle = new JobLifecycle(log, metrics);
  const concurrency = r.concurrency ?? engine.workers;
  if (concurrency === 0) {
    await engine.close();
    throw new OptionsError('concurrency', 'a worker runs at least one job at a time');
  }
  try {
    worker = await RedisWorker.create(workerOptions(r, runtime(r, engine), lifecycle, concurrency, onError));
  } catch (err) {
    await engine.close();
    throw err;
  }
  const w = worker;
  const server = probeServer(metrics, () => w.ready());
  const port = await listen(server, r.port, r.host);
  log.info({ port, workers: engine.workers, concurrency, outputRoot: r.outputRoot }, 'worker started');
  let stopping: Promise<void> | undefined;
  return {
    port,
    engine,
    log,
    stop: (drainMs = r.drainMs) =>
      (stopping ??= (async () => {
        log.info({ drainMs, running: w.active }, 'draining');
        await w.drain(drainMs);
        await new Promise<void>((res) => {
          server.close(() => res());
          server.closeAllConnections();
        });
        await engine.close();
        log.info('stopped');
        log.flush();
      })()),
  };
}

/** A worker's own small server: liveness, readiness (Redis connected, not draining) and metrics. */
function probeServer(metrics: ServiceMetrics, ready: () => boolean): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://w').pathname;
    if (path === '/metrics') {
      void metrics.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      });
      return;
    }
    const status = path === '/healthz' ? 200 : path === '/readyz' ? (ready() ? 200 : 503) : 404;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status === 404 ? { error: { code: 'E_OPTIONS', message: `no route ${path}` } } : { ok: status === 200 }));
  });
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Redis errors come once per reconnect attempt while it is away: one log line per distinct
 * message every 10 s is enough to see the outage without flooding the log.
 */
function throttledErrors(log: Logger): (err: Error) => void {
  const last = new Map<string, number>();
  return (err) => {
    const now = Date.now();
    const key = err.message;
    if ((last.get(key) ?? 0) > now - 10_000) return;
    last.set(key, now);
    if (last.size > 100) last.clear();
    log.warn({ err: err.message }, 'redis');
  };
}
