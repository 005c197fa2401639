/**
 * One place that sees every job state change, whichever queue runs it: it writes the change's
 * log line (job id, operation, attempt, timings, outcome code, the submitting request's id) and
 * counts it in the metrics.
 */
import type { SandcodecError } from '../errors.js';
import type { Submission } from './job-queue.js';
import type { JobResult } from './job-runner.js';
import type { Logger } from './log.js';
import type { ServiceMetrics } from './metrics.js';

export class JobLifecycle {
  constructor(
    private readonly log: Logger,
    private readonly metrics: ServiceMetrics,
  ) {}

  private fields(id: string, job: Submission) {
    return { jobId: id, op: job.spec.op, reqId: job.requestId };
  }

  queued(id: string, job: Submission): void {
    this.log.info({ ...this.fields(id, job), state: 'queued' }, 'job queued');
  }

  /** Returns the start time that the outcome's duration is measured from. */
  active(id: string, job: Submission, attempt: number, waitedMs?: number): number {
    this.log.info({ ...this.fields(id, job), state: 'active', attempt, ...(waitedMs !== undefined ? { waitedMs } : {}) }, 'job started');
    return performance.now();
  }

  completed(id: string, job: Submission, started: number, result: JobResult): void {
    const ms = Math.round(performance.now() - started);
    this.metrics.jobs.inc({ op: job.spec.op, outcome: 'ok' });
    this.metrics.jobSeconds.observe({ op: job.spec.op }, ms / 1000);
    this.metrics.bytes.inc({ direction: 'in' }, result.inputBytes);
    this.metrics.bytes.inc(
      { direction: 'out' },
      result.outputs.reduce((n, f) => n + f.size, 0),
    );
    this.log.info(
      {
        ...this.fields(id, job),
        state: 'completed',
        ms,
        outcome: 'ok',
        outputs: result.outputs.length,
        ...(result.committed === false ? { alreadyCommitted: true } : {}),
      },
      'job completed',
    );
  }

  /** `retry`: the job goes back to the queue for another attempt. */
  failed(id: string, job: Submission, started: number, error: SandcodecError, retry: boolean): void {
    const ms = Math.round(performance.now() - started);
    if (!retry) {
      this.metrics.jobs.inc({ op: job.spec.op, outcome: error.code });
      this.metrics.jobSeconds.observe({ op: job.spec.op }, ms / 1000);
    }
    const line = { ...this.fields(id, job), state: retry ? 'retrying' : 'failed', ms, outcome: error.code, error: error.message };
    if (retry || error.code === 'E_INTERNAL') this.log.warn(line, retry ? 'job failed, will retry' : 'job failed');
    else this.log.info(line, 'job failed');
  }

  cancelled(id: string, job: Submission, started?: number): void {
    this.metrics.jobs.inc({ op: job.spec.op, outcome: 'E_ABORTED' });
    this.log.info(
      { ...this.fields(id, job), state: 'cancelled', ...(started !== undefined ? { ms: Math.round(performance.now() - started) } : {}), outcome: 'E_ABORTED' },
      'job cancelled',
    );
  }

  /** A draining worker gave its running job back to the queue for another worker. */
  handedBack(id: string, job: Submission, started: number): void {
    this.log.info({ ...this.fields(id, job), state: 'queued', ms: Math.round(performance.now() - started), outcome: 'handed-back' }, 'job handed back');
  }
}
