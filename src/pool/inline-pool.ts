/**
 * The pool of an engine without threads (`workers: 0`): jobs run one at a time on the thread that
 * made the engine, for runtimes that have no `worker_threads`. The same limits hold: the queue
 * bound (one running, `maxQueue` waiting), the heap budget, and the timeout, which the core's
 * own cancel poll enforces (no timer can fire on this thread while FFmpeg runs). An abort that
 * arrives while a job runs stops it when the job next yields, which an FFmpeg run does not: it
 * takes effect when that job returns. The event loop is blocked for as long as a job runs.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AbortedError, ClosedError, fromErrorData, QueueFullError, SandcodecError } from '../errors.js';
import { CANCEL, type JobResult, type Plan } from '../model/plan.js';
import type { WorkerInit } from '../model/protocol.js';
import type { CoreFiles } from '../util/core-files.js';
import { runtimeDir } from '../util/runtime-dir.js';
import type { TaskRunner } from '../worker/task-runner.js';
import { compileCore } from './core-module.js';
import type { Pool, Reservation, RunOptions } from './pool.js';

/** The worker side's module, loaded by its URL: a CommonJS bundle of the main thread leaves it as it is. */
const TASK_RUNNER_MODULE = join('dist', 'worker', 'task-runner.js');

export class InlinePool implements Pool {
  private pending = 0;
  private closed = false;
  /** The job running now and those waiting behind it, in order. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly runner: TaskRunner,
    private readonly maxQueue: number,
  ) {}

  static async create(options: { maxQueue: number; recycleHeapBytes: number; core: CoreFiles }): Promise<InlinePool> {
    const coreModule = await compileCore(options.core);
    const { createTaskRunner } = (await import(pathToFileURL(join(runtimeDir(), TASK_RUNNER_MODULE)).href)) as typeof import('../worker/task-runner.js');
    const init: WorkerInit = { coreModule, core: options.core, recycleHeapBytes: options.recycleHeapBytes };
    return new InlinePool(createTaskRunner(init), options.maxQueue);
  }

  get workers(): number {
    return 0;
  }

  get inFlight(): number {
    return this.pending;
  }

  get waiting(): number {
    return Math.max(0, this.pending - 1);
  }

  get workerRestarts(): number {
    return 0;
  }

  reserve(): Reservation {
    this.take();
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.pending--;
      },
    };
  }

  private take(): void {
    if (this.closed) throw new ClosedError();
    // One job runs at a time: the bound is that one and maxQueue behind it.
    const capacity = 1 + this.maxQueue;
    if (this.pending >= capacity) {
      throw new QueueFullError(`the queue is full: ${this.pending} calls and jobs waiting or running (1 + maxQueue = ${capacity}, workers: 0)`, {
        limit: 'maxQueue',
        max: this.maxQueue,
      });
    }
    this.pending++;
  }

  async run(plan: Plan, options: RunOptions): Promise<JobResult> {
    if (this.closed) throw new ClosedError();
    const { signal } = options;
    if (signal?.aborted) throw stopReason(signal);
    const reservation = options.reservation as (Reservation & { busy?: boolean }) | undefined;
    const covered = reservation !== undefined && !reservation.busy;
    if (covered) reservation.busy = true;
    else this.take();
    const turn = this.tail.then(() => this.runNow(plan, options));
    this.tail = turn.catch(() => {});
    try {
      return await turn;
    } finally {
      if (covered) reservation.busy = false;
      else this.pending--;
    }
  }

  private async runNow(plan: Plan, options: RunOptions): Promise<JobResult> {
    if (this.closed) throw new ClosedError('the engine was closed while the job was queued');
    const { signal } = options;
    if (signal?.aborted) throw stopReason(signal);
    const cancelFlag = new Int32Array(new ArrayBuffer(4));
    const { reply } = await this.runner({ plan, cancelFlag, emit: (event) => options.onEvent?.(event), deadline: () => options.deadline?.() });
    if (!reply.ok) throw fromErrorData(reply.error);
    // An abort that came while the job ran wins, as it does on a worker.
    if (signal?.aborted) throw stopReason(signal);
    if (Atomics.load(cancelFlag, 0) === CANCEL.abort) throw new AbortedError();
    return reply.result;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
  }
}

function stopReason(signal: AbortSignal): SandcodecError {
  return signal.reason instanceof SandcodecError ? signal.reason : new AbortedError('the job was stopped before it started');
}
