/**
 * The API's side of the Redis queue: submissions become BullMQ jobs (the job id is the
 * idempotency key, so a repeated submission finds the first), status is read back from BullMQ's
 * job, and a cancel removes a waiting job or flags a running one for its worker.
 */
import type { Job, Queue } from 'bullmq';
import { QueueFullError } from '../errors.js';
import type { JobLifecycle } from './job-lifecycle.js';
import type { JobError, JobQueue, JobState, JobStatus, Submission } from './job-queue.js';
import type { JobResult } from './job-runner.js';
import type { QueueDepth } from './metrics.js';
import { cancelKey, cancelledKey, connect, loadBullmq, QUEUE_NAME, type RedisClient, unavailable } from './redis-connection.js';

export interface RedisQueueOptions {
  url: string;
  lifecycle: JobLifecycle;
  /** Waiting jobs beyond which submissions get 429. */
  maxQueue: number;
  /** Attempts for retryable failures, and the first backoff (doubled each time). */
  attempts: number;
  backoffMs: number;
  onError: (err: Error) => void;
}

/** What a queued job carries. */
export interface JobData extends Submission {
  /** A package split into chunks: which stage runs next. */
  step?: 'plan' | 'stitch';
}

export class RedisQueue implements JobQueue {
  private constructor(
    private readonly o: RedisQueueOptions,
    private readonly redis: RedisClient,
    private readonly queue: Queue,
  ) {}

  static async create(o: RedisQueueOptions): Promise<RedisQueue> {
    const { Queue } = await loadBullmq();
    const redis = await connect(o.url, 'producer', o.onError);
    const queue = new Queue(QUEUE_NAME, { connection: redis });
    queue.on('error', o.onError);
    return new RedisQueue(o, redis, queue);
  }

  ready(): boolean {
    return this.redis.status === 'ready';
  }

  async submit(id: string, job: Submission): Promise<{ id: string; created: boolean }> {
    try {
      if (await this.queue.getJob(id)) return { id, created: false };
      const waiting = await this.queue.getWaitingCount();
      if (waiting >= this.o.maxQueue)
        throw new QueueFullError(`the job queue is full (${waiting} waiting)`, { limit: 'maxQueue', max: this.o.maxQueue, actual: waiting });
      const data: JobData = { ...job };
      await this.queue.add(job.spec.op, data, {
        jobId: id,
        attempts: this.o.attempts,
        backoff: { type: 'exponential', delay: this.o.backoffMs },
        // Finished jobs stay readable for a day (failed ones a week), then Redis forgets them.
        removeOnComplete: { age: 24 * 3600, count: 100_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    } catch (err) {
      throw err instanceof QueueFullError ? err : unavailable(err);
    }
    this.o.lifecycle.queued(id, job);
    return { id, created: true };
  }

  async status(id: string): Promise<JobStatus | null> {
    try {
      const job = await this.queue.getJob(id);
      if (!job) {
        const record = await this.redis.get(cancelledKey(id));
        return record ? (JSON.parse(record) as JobStatus) : null;
      }
      return statusOf(job, await job.getState(), (await this.redis.exists(cancelKey(id))) === 1);
    } catch (err) {
      throw unavailable(err);
    }
  }

  async cancel(id: string): Promise<JobStatus | null> {
    try {
      const job = await this.queue.getJob(id);
      if (!job) return this.status(id);
      // The flag is what a worker sees, for a running job and for one a worker takes meanwhile.
      await this.redis.set(cancelKey(id), '1', 'EX', 7 * 24 * 3600);
      const state = await job.getState();
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized') {
        const removed = await job.remove().then(
          () => true,
          () => false,
        );
        if (removed) {
          const status: JobStatus = {
            id,
            op: job.name,
            state: 'cancelled',
            progress: 0,
            attempts: job.attemptsStarted ?? 0,
            error: { code: 'E_ABORTED', message: 'the job was cancelled before it started' },
          };
          await this.redis.set(cancelledKey(id), JSON.stringify(status), 'EX', 7 * 24 * 3600);
          this.o.lifecycle.cancelled(id, job.data as JobData);
          return status;
        }
      }
      return this.status(id);
    } catch (err) {
      throw unavailable(err);
    }
  }

  depth(): Promise<QueueDepth> {
    return queueDepth(this.queue);
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.redis.disconnect();
  }
}

/** A BullMQ job as the API's status. A failed job's reason is the typed error as JSON (redis-worker.ts). */
export function statusOf(job: Job, state: string, cancelRequested: boolean): JobStatus {
  const error = job.failedReason ? parseError(job.failedReason) : undefined;
  const mapped: JobState =
    state === 'completed'
      ? 'completed'
      : state === 'failed'
        ? cancelRequested && (error?.code === 'E_ABORTED' || !error?.details)
          ? 'cancelled'
          : 'failed'
        : state === 'active' || state === 'waiting-children'
          ? 'active'
          : 'queued';
  const progress = typeof job.progress === 'number' ? job.progress : 0;
  const status: JobStatus = {
    id: job.id ?? '',
    op: job.name,
    state: mapped,
    progress: mapped === 'completed' ? 1 : progress,
    attempts: job.attemptsStarted ?? job.attemptsMade,
  };
  if (mapped === 'completed') status.result = job.returnvalue as JobResult;
  if ((mapped === 'failed' || mapped === 'cancelled') && error) status.error = error;
  return status;
}

/** The typed error a worker wrote; BullMQ's own reasons (a failed child, a stalled job given up) are E_INTERNAL, without details. */
function parseError(reason: string): JobError {
  try {
    const e = JSON.parse(reason) as JobError;
    if (typeof e.code === 'string' && typeof e.message === 'string') return { code: e.code, message: e.message, details: e.details ?? {} };
  } catch {}
  return { code: 'E_INTERNAL', message: reason };
}

/** Jobs by state, as the metrics show them: waiting (incl. prioritised), active (incl. packages waiting for their chunks), delayed (retry backoff), failed. */
export async function queueDepth(queue: Queue): Promise<QueueDepth> {
  const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'waiting-children');
  return {
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
    active: (c.active ?? 0) + (c['waiting-children'] ?? 0),
    delayed: c.delayed ?? 0,
    failed: c.failed ?? 0,
  };
}
