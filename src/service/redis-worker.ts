/**
 * A worker's side of the Redis queue: a BullMQ Worker that runs jobs on this process's engine,
 * as many at once as the engine has workers.
 *
 * - Failures: the typed error travels as the job's failed reason (JSON). Only E_INTERNAL, E_IO
 *   and E_TIMEOUT are tried again (BullMQ's attempts, exponential backoff); anything else fails
 *   at once. A job that fails every attempt is also put on the dead-letter queue.
 * - A worker that dies (kill -9, a lost machine) stops renewing its job's lock; BullMQ's stalled
 *   check gives the job to another worker, and the outputs' commit (output-commit.ts) makes
 *   sure they appear once.
 * - Cancel: the API sets a flag in Redis; the worker polls the flags of its running jobs.
 * - Drain (SIGTERM): no new jobs; running ones get `drainMs` to finish, then are stopped and
 *   handed back to the queue for another worker, without counting as an attempt.
 * - A `package` job, when the worker has a shared output root, is split: a plan step downloads
 *   the source into the shared folder and adds one child job per chunk of the plan; the chunks
 *   run on any worker; when the last is done, BullMQ runs the parent again to stitch.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job, Queue, Worker } from 'bullmq';
import { AbortedError, OptionsError, type SandcodecError } from '../errors.js';
import type { ChunkResult, PackagePlan } from '../ops/package.js';
import type { JobLifecycle } from './job-lifecycle.js';
import { RETRYABLE } from './job-queue.js';
import { asJobError, fetchInput, type JobResult, type JobRuntime, runJob, summarize, transferOptions, withJobFolder } from './job-runner.js';
import type { JobOp } from './job-spec.js';
import type { QueueDepth } from './metrics.js';
import { commitOutputs, destination, listOutputs } from './output-commit.js';
import { cancelKey, connect, DEAD_QUEUE_NAME, loadBullmq, QUEUE_NAME, type RedisClient } from './redis-connection.js';
import { type JobData, queueDepth } from './redis-queue.js';

export interface RedisWorkerOptions {
  url: string;
  runtime: JobRuntime;
  lifecycle: JobLifecycle;
  concurrency: number;
  /** How long a job's lock lasts without renewal: how soon a dead worker's job is taken over. */
  lockMs: number;
  /** Split packages into chunk jobs (needs the output root to be shared by every worker). */
  splitPackages: boolean;
  attempts: number;
  backoffMs: number;
  onError: (err: Error) => void;
}

/** What a chunk job of a split package carries. */
interface ChunkData {
  parent: string;
  requestId: string;
  /** The plan's job id. */
  job: string;
  work: string;
  source: string;
}

/** What the plan step leaves in the shared work folder for the chunks and the stitch. */
interface PlanFile {
  plan: PackagePlan;
  /** The downloaded source, in the same folder. */
  source: string;
}

async function readPlan(path: string): Promise<PlanFile> {
  return JSON.parse(await readFile(path, 'utf8')) as PlanFile;
}

const POLL_MS = 250;
/** The package options the plan step takes; the rest are the stitch's. */
const PLAN_KEYS = ['video', 'audio', 'segmentDuration', 'formats', 'audioOnly', 'x264Preset', 'chunkSeconds'];

export class RedisWorker {
  private readonly running = new Map<string, { controller: AbortController; handBack: boolean }>();
  private draining = false;

  private constructor(
    private readonly o: RedisWorkerOptions,
    private readonly redis: RedisClient,
    private readonly queue: Queue,
    private readonly dead: Queue,
    readonly worker: Worker,
    private readonly errors: typeof import('bullmq'),
    /** BullMQ leaves connections it was given open: they are closed here. */
    private readonly connections: RedisClient[],
  ) {}

  static async create(o: RedisWorkerOptions): Promise<RedisWorker> {
    const bull = await loadBullmq();
    const redis = await connect(o.url, 'worker', o.onError);
    const producer = await connect(o.url, 'worker', o.onError);
    const consumer = await connect(o.url, 'worker', o.onError);
    const queue = new bull.Queue(QUEUE_NAME, { connection: producer });
    const dead = new bull.Queue(DEAD_QUEUE_NAME, { connection: producer });
    let self: RedisWorker | undefined;
    const worker = new bull.Worker(QUEUE_NAME, (job, token) => self!.process(job, token), {
      connection: consumer,
      concurrency: o.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: Math.max(1000, Math.round(o.lockMs / 2)),
      // A job whose worker died twice is not tried a third time that way: it may be what kills them.
      maxStalledCount: 2,
      autorun: false,
    });
    worker.on('error', o.onError);
    for (const q of [queue, dead]) q.on('error', o.onError);
    self = new RedisWorker(o, redis, queue, dead, worker, bull, [redis, producer, consumer]);
    void worker.run();
    await worker.waitUntilReady();
    return self;
  }

  /** Jobs running now. */
  get active(): number {
    return this.running.size;
  }

  /** Whether the worker can take jobs: connected to Redis and not draining. */
  ready(): boolean {
    return !this.draining && this.redis.status === 'ready';
  }

  depth(): Promise<QueueDepth> {
    return queueDepth(this.queue);
  }

  /**
   * Takes no more jobs; lets the running ones finish within `drainMs`, then stops them and hands
   * them back to the queue. Resolves when the worker has let go of every job.
   */
  async drain(drainMs: number): Promise<void> {
    this.draining = true;
    const closing = this.worker.close();
    const timer = setTimeout(() => {
      for (const r of this.running.values()) {
        r.handBack = true;
        r.controller.abort(new AbortedError('the worker is shutting down; the job goes back to the queue'));
      }
    }, drainMs);
    await closing;
    clearTimeout(timer);
    await Promise.all([this.queue.close(), this.dead.close()]).catch(() => {});
    for (const c of this.connections) c.disconnect();
  }

  private async process(job: Job, token: string | undefined): Promise<unknown> {
    const id = job.id ?? '';
    const data = job.data as JobData | ChunkData;
    const controller = new AbortController();
    const entry = { controller, handBack: false };
    this.running.set(id, entry);
    // A chunk is logged and counted as its own operation, `chunk`, with its package's request id.
    const sub: JobData = 'spec' in data ? data : { spec: { op: 'chunk' as JobOp, input: { url: '' }, options: {} }, requestId: data.requestId };
    const started = this.o.lifecycle.active(id, sub, job.attemptsMade + 1, Date.now() - job.timestamp);
    const stopPolling = this.pollCancel(id, 'parent' in data ? data.parent : undefined, controller);
    let progressAt = 0;
    const progress = (r: number) => {
      const now = performance.now();
      if (now - progressAt < 500 && r < 1) return;
      progressAt = now;
      void job.updateProgress(Math.round(Math.min(1, r) * 1000) / 1000).catch(() => {});
    };
    try {
      // Fetched just as the drain began: back to the queue untouched, for another worker.
      if (this.draining) {
        entry.handBack = true;
        throw new AbortedError('the worker is shutting down');
      }
      if ('parent' in data) {
        const chunk = await this.chunk(data, controller.signal);
        this.o.lifecycle.completed(id, sub, started, {
          op: sub.spec.op,
          result: {},
          outputs: chunk.files.map((f) => ({ name: f.rendition, size: f.size })),
          inputBytes: 0,
        });
        return chunk;
      }
      const result = await this.run(job, data, token, controller.signal, progress);
      if (result !== undefined) this.o.lifecycle.completed(id, data, started, result);
      return result;
    } catch (err) {
      if (err instanceof this.errors.WaitingChildrenError) throw err;
      if (entry.handBack || (this.draining && controller.signal.aborted && !(await this.cancelRequested(id)))) {
        // Back to the queue as it was: another worker starts it from the beginning.
        await job.moveToWait(token);
        this.o.lifecycle.handedBack(id, sub, started);
        throw new this.errors.WaitingError();
      }
      const error = asJobError(err, controller.signal);
      const retry = RETRYABLE.has(error.code) && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      this.o.lifecycle.failed(id, sub, started, error, retry);
      const reason = JSON.stringify({ code: error.code, message: error.message, details: error.details });
      if (retry) throw new Error(reason);
      if (RETRYABLE.has(error.code)) await this.deadLetter(job, error);
      throw new this.errors.UnrecoverableError(reason);
    } finally {
      stopPolling();
      this.running.delete(id);
    }
  }

  private async run(job: Job, data: JobData, token: string | undefined, signal: AbortSignal, progress: (r: number) => void): Promise<JobResult | undefined> {
    const rt = this.o.runtime;
    if (data.spec.op !== 'package' || !this.o.splitPackages || !rt.outputRoot) return runJob(rt, job.id ?? '', data.spec, { signal, progress });
    return this.splitPackage(job, data, token, signal, progress);
  }

  /**
   * The two steps of a split package. Step `plan` puts the source and the plan in the shared
   * work folder and queues the chunks as children; BullMQ runs the job again (step `stitch`)
   * when every child has completed, and a child that fails for good fails it.
   */
  private async splitPackage(
    job: Job,
    data: JobData,
    token: string | undefined,
    signal: AbortSignal,
    progress: (r: number) => void,
  ): Promise<JobResult | undefined> {
    const rt = this.o.runtime;
    const id = job.id ?? '';
    const work = await destination(rt.outputRoot!, `.sandcodec-work/${id}`);
    const planPath = join(work, 'plan.json');
    if ((data.step ?? 'plan') === 'plan') {
      // A plan step runs again when its first attempt died before the job moved on to its
      // chunks; a plan it already wrote stands (chunks may be running from it). Otherwise what
      // it left is nobody's.
      let planned = await readPlan(planPath).catch(() => null);
      if (!planned) {
        await rm(work, { recursive: true, force: true });
        await mkdir(work, { recursive: true });
        const downloaded = await fetchInput(rt, data.spec.input.url, work, signal);
        const options = Object.fromEntries(Object.entries(data.spec.options).filter(([k]) => PLAN_KEYS.includes(k)));
        const { call: _call, ...plan } = await rt.engine.planPackage({ path: downloaded }, { ...options, signal });
        // Written whole or not at all: a reader never sees half a plan.
        await writeFile(`${planPath}.part`, JSON.stringify({ plan, source: downloaded } satisfies PlanFile));
        await rename(`${planPath}.part`, planPath);
        planned = { plan, source: downloaded };
      }
      const { plan, source } = planned;
      progress(0.05);
      const children = plan.jobs.map((j) => ({
        name: 'chunk',
        data: { parent: id, requestId: data.requestId, job: j.id, work, source } satisfies ChunkData,
        opts: {
          jobId: `${id}-${j.id}`,
          parent: { id, queue: job.queueQualifiedName },
          attempts: this.o.attempts,
          backoff: { type: 'exponential', delay: this.o.backoffMs },
          failParentOnFailure: true,
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      }));
      await this.queue.addBulk(children);
      await job.updateData({ ...data, step: 'stitch' } satisfies JobData);
      if (await job.moveToWaitingChildren(token ?? '')) throw new this.errors.WaitingChildrenError();
    }
    // Step `stitch`: every chunk is done.
    const { plan } = await readPlan(planPath);
    const results = Object.values(await job.getChildrenValues()) as ChunkResult[];
    if (results.length !== plan.jobs.length) throw new OptionsError('package', `${results.length} of the plan's ${plan.jobs.length} chunks came back`);
    const stitchOptions = Object.fromEntries(Object.entries(data.spec.options).filter(([k]) => !PLAN_KEYS.includes(k)));
    const result = await withJobFolder(rt, id, async (dir) => {
      const out = join(dir, 'out');
      const r = await rt.engine.stitch(plan, results, { ...stitchOptions, outputDir: out, signal });
      const outputs = await listOutputs(out);
      const { committed } = await commitOutputs(out, data.spec.output!, outputs, {
        jobId: id,
        outputRoot: rt.outputRoot,
        transfer: transferOptions(rt, signal),
      });
      return {
        op: data.spec.op,
        result: summarize('package', r),
        outputs,
        inputBytes: plan.source.size ?? 0,
        ...(committed ? {} : { committed }),
      } satisfies JobResult;
    });
    await rm(work, { recursive: true, force: true });
    progress(1);
    return result;
  }

  /** One chunk of a split package, its files in the shared work folder (replaced if a dead attempt left them). */
  private async chunk(data: ChunkData, signal: AbortSignal): Promise<ChunkResult> {
    const { plan } = await readPlan(join(data.work, 'plan.json'));
    const { call: _call, ...result } = await this.o.runtime.engine.runChunk({ path: data.source }, plan, data.job, {
      outputDir: join(data.work, 'chunks'),
      overwrite: true,
      signal,
    });
    return result;
  }

  /** Aborts the job when its cancel flag (or its parent's) is set. Returns the stop function. */
  private pollCancel(id: string, parent: string | undefined, controller: AbortController): () => void {
    const keys = parent ? [cancelKey(id), cancelKey(parent)] : [cancelKey(id)];
    const timer = setInterval(() => {
      void this.redis.exists(...keys).then(
        (n) => {
          if (n > 0) controller.abort(new AbortedError('the job was cancelled'));
        },
        () => {},
      );
    }, POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async cancelRequested(id: string): Promise<boolean> {
    return (await this.redis.exists(cancelKey(id)).catch(() => 0)) > 0;
  }

  private async deadLetter(job: Job, error: SandcodecError): Promise<void> {
    await this.dead
      .add(
        'dead',
        { id: job.id, name: job.name, data: job.data, error: error.toJSON(), attempts: job.attemptsMade + 1, failedAt: new Date().toISOString() },
        { jobId: job.id },
      )
      .catch((err) => this.o.onError(err as Error));
  }
}
