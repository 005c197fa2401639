/**
 * Jobs held by the process itself, for `serve` without Redis: a bounded FIFO run on the
 * service's engine with as many jobs at once as it has workers. Finished jobs are kept for an
 * hour (at most `keep` of them) so their status can be read. Nothing survives a restart: that is
 * what the Redis queue is for.
 */
import { ClosedError, QueueFullError } from '../errors.js';
import type { JobLifecycle } from './job-lifecycle.js';
import type { JobQueue, JobStatus, Submission } from './job-queue.js';
import { RETRYABLE } from './job-queue.js';
import { asJobError, type JobRuntime, runJob } from './job-runner.js';

interface Entry {
  id: string;
  job: Submission;
  status: JobStatus;
  controller: AbortController;
  finishedAt?: number;
}

export interface LocalQueueOptions {
  runtime: JobRuntime;
  lifecycle: JobLifecycle;
  concurrency: number;
  /** Jobs waiting beyond those running. */
  maxQueue: number;
  /** Attempts for retryable failures. */
  attempts: number;
  keep?: number;
}

export class LocalQueue implements JobQueue {
  private readonly jobs = new Map<string, Entry>();
  private readonly waiting: Entry[] = [];
  private running = 0;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(private readonly o: LocalQueueOptions) {}

  async submit(id: string, job: Submission): Promise<{ id: string; created: boolean }> {
    if (this.closed) throw new ClosedError('the service is draining and takes no new jobs');
    if (this.jobs.has(id)) return { id, created: false };
    if (this.waiting.length >= this.o.maxQueue)
      throw new QueueFullError(`the job queue is full (${this.o.maxQueue} waiting)`, { limit: 'maxQueue', max: this.o.maxQueue });
    const entry: Entry = { id, job, controller: new AbortController(), status: { id, op: job.spec.op, state: 'queued', progress: 0, attempts: 0 } };
    this.jobs.set(id, entry);
    this.waiting.push(entry);
    this.o.lifecycle.queued(id, job);
    this.pump();
    return { id, created: true };
  }

  async status(id: string): Promise<JobStatus | null> {
    return this.jobs.get(id)?.status ?? null;
  }

  async cancel(id: string): Promise<JobStatus | null> {
    const entry = this.jobs.get(id);
    if (!entry) return null;
    if (entry.status.state === 'queued') {
      this.waiting.splice(this.waiting.indexOf(entry), 1);
      this.finish(entry, 'cancelled');
      this.o.lifecycle.cancelled(id, entry.job);
    } else if (entry.status.state === 'active') {
      entry.controller.abort();
    }
    return entry.status;
  }

  async depth() {
    return { waiting: this.waiting.length, active: this.running };
  }

  ready(): boolean {
    return !this.closed;
  }

  /** Takes no new jobs, lets the queued and running ones finish within `deadlineMs`, then cancels what is left. */
  async drain(deadlineMs: number): Promise<void> {
    this.closed = true;
    if (this.running === 0 && this.waiting.length === 0) return;
    const done = new Promise<void>((resolve) => {
      this.idle = resolve;
    });
    const timer = setTimeout(() => {
      for (const e of this.waiting.splice(0)) this.finish(e, 'cancelled');
      for (const e of this.jobs.values()) if (e.status.state === 'active') e.controller.abort();
    }, deadlineMs);
    await done;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.drain(0);
  }

  private pump(): void {
    while (this.running < this.o.concurrency && this.waiting.length > 0) {
      const entry = this.waiting.shift()!;
      this.running++;
      void this.run(entry).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) this.idle?.();
      });
    }
  }

  private async run(entry: Entry): Promise<void> {
    const { id, job, status } = entry;
    status.state = 'active';
    for (;;) {
      status.attempts++;
      const started = this.o.lifecycle.active(id, job, status.attempts);
      try {
        status.result = await runJob(this.o.runtime, id, job.spec, {
          signal: entry.controller.signal,
          progress: (r) => {
            status.progress = Math.max(status.progress, Math.min(1, r));
          },
        });
        status.progress = 1;
        this.finish(entry, 'completed');
        this.o.lifecycle.completed(id, job, started, status.result);
        return;
      } catch (err) {
        const error = asJobError(err, entry.controller.signal);
        if (entry.controller.signal.aborted) {
          status.error = error.toJSON();
          this.finish(entry, 'cancelled');
          this.o.lifecycle.cancelled(id, job, started);
          return;
        }
        const retry = RETRYABLE.has(error.code) && status.attempts < this.o.attempts;
        this.o.lifecycle.failed(id, job, started, error, retry);
        if (!retry) {
          status.error = { code: error.code, message: error.message, details: error.details };
          this.finish(entry, 'failed');
          return;
        }
        await new Promise((r) => setTimeout(r, 500 * 2 ** (status.attempts - 1)));
      }
    }
  }

  private finish(entry: Entry, state: 'completed' | 'failed' | 'cancelled'): void {
    entry.status.state = state;
    entry.finishedAt = Date.now();
    this.evict();
  }

  /** Finished jobs older than an hour, and the oldest beyond `keep`, are forgotten. */
  private evict(): void {
    const keep = this.o.keep ?? 10_000;
    const finished = [...this.jobs.values()].filter((e) => e.finishedAt !== undefined);
    const cutoff = Date.now() - 3600_000;
    finished.forEach((e, i) => {
      if (e.finishedAt! < cutoff || finished.length - i > keep) this.jobs.delete(e.id);
    });
  }
}
