/**
 * The worker pool: Piscina with one FFmpeg core per thread, a bounded queue, and cancellation
 * that really stops work. Abort and timeout first raise a shared flag that the running core polls
 * (the job stops within milliseconds and the worker stays warm); if the job has not returned after
 * a short grace period, Piscina terminates the worker and starts a fresh one.
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AbortedError, ClosedError, fromErrorData, InternalError, QueueFullError, type SandcodecError, TimeoutError } from '../errors.js';
import { CANCEL, type JobResult, type Plan, type WorkerEvent } from '../model/plan.js';
import type { Task, TaskResult, WorkerInit } from '../model/protocol.js';
import { compileCore } from './core-module.js';

export interface PoolOptions {
  workers: number;
  maxQueue: number;
  /** Replace a worker's core when its heap grew past this during a job. */
  recycleHeapBytes: number;
  /** How long a flagged job may take to return before its worker is terminated. */
  terminateGraceMs: number;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  onEvent?: ((event: WorkerEvent) => void) | undefined;
}

export class JobPool {
  private pending = 0;
  private closed = false;

  private constructor(
    private readonly piscina: Piscina<Task, TaskResult>,
    private readonly options: PoolOptions,
  ) {}

  static async create(options: PoolOptions): Promise<JobPool> {
    const coreModule = await compileCore();
    const workerData: WorkerInit = { coreModule, recycleHeapBytes: options.recycleHeapBytes };
    const piscina = new Piscina<Task, TaskResult>({
      filename: new URL('../worker/index.js', import.meta.url).href,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Infinity,
      // The engine enforces its own bound (workers + maxQueue) so the error is typed and exact.
      maxQueue: Infinity as unknown as number,
      workerData,
    });
    return new JobPool(piscina, options);
  }

  get workers(): number {
    return this.options.workers;
  }

  /** Jobs submitted and not yet settled (running plus queued). */
  get inFlight(): number {
    return this.pending;
  }

  async run(plan: Plan, options: RunOptions): Promise<JobResult> {
    if (this.closed) throw new ClosedError();
    const { signal } = options;
    if (signal?.aborted) throw new AbortedError('the job was aborted before it started');
    const capacity = this.options.workers + this.options.maxQueue;
    if (this.pending >= capacity) {
      throw new QueueFullError(`the queue is full: ${this.pending} jobs waiting or running (workers + maxQueue = ${capacity})`, {
        limit: 'maxQueue',
        max: this.options.maxQueue,
      });
    }
    this.pending++;

    const cancelBuffer = new SharedArrayBuffer(4);
    const cancelFlag = new Int32Array(cancelBuffer);
    const kill = new AbortController();
    const channel = new MessageChannel();
    let started = false;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const stop = (reason: number) => {
      if (Atomics.compareExchange(cancelFlag, 0, CANCEL.none, reason) !== CANCEL.none) return;
      if (!started) {
        kill.abort();
        return;
      }
      graceTimer = setTimeout(() => kill.abort(), this.options.terminateGraceMs);
    };
    const onAbort = () => stop(CANCEL.abort);
    signal?.addEventListener('abort', onAbort, { once: true });

    channel.port1.on('message', (event: WorkerEvent) => {
      if (event.type === 'started') {
        started = true;
        if (Atomics.load(cancelFlag, 0) !== CANCEL.none) graceTimer ??= setTimeout(() => kill.abort(), this.options.terminateGraceMs);
        else if (Number.isFinite(options.timeoutMs)) timeoutTimer = setTimeout(() => stop(CANCEL.timeout), options.timeoutMs);
      }
      options.onEvent?.(event);
    });

    try {
      const task: Task = { plan, cancel: cancelBuffer, port: channel.port2 };
      let reply: TaskResult;
      try {
        reply = await this.piscina.run(task, { signal: kill.signal, transferList: [channel.port2] });
      } catch (err) {
        throw this.stoppedError(Atomics.load(cancelFlag, 0), err);
      }
      if (!reply.ok) throw fromErrorData(reply.error);
      return reply.result;
    } finally {
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      channel.port1.close();
      this.pending--;
    }
  }

  private stoppedError(reason: number, err: unknown): SandcodecError {
    if (reason === CANCEL.abort) return new AbortedError();
    if (reason === CANCEL.timeout) return new TimeoutError('the job ran past its timeout (timeoutMs) and its worker was stopped');
    if (this.closed) return new ClosedError('the engine was closed while the job was queued or running');
    return new InternalError(`the worker failed: ${(err as Error)?.message ?? String(err)}`, {}, { cause: err });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.piscina.close({ force: true });
  }
}
