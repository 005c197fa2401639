/**
 * The worker pool: Piscina with one FFmpeg core per thread, a bounded queue, and cancellation
 * that really stops work. Abort and timeout first raise a shared flag that the running core polls
 * (the job stops within milliseconds and the worker stays warm); if the job has not returned after
 * a short grace period, Piscina terminates the worker and starts a fresh one.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AbortedError, ClosedError, fromErrorData, InternalError, QueueFullError, SandcodecError, TimeoutError } from '../errors.js';
import { CANCEL, type JobResult, type Plan, type WorkerEvent } from '../model/plan.js';
import type { Task, TaskResult, WorkerInit } from '../model/protocol.js';
import type { CoreFiles } from '../util/core-files.js';
import { runtimeDir, WORKER_MODULE } from '../util/runtime-dir.js';
import { compileCore } from './core-module.js';
import { workerExecArgv } from './worker-argv.js';

export interface PoolOptions {
  workers: number;
  maxQueue: number;
  /** Replace a worker's core when its heap grew past this during a job. */
  recycleHeapBytes: number;
  /** How long a flagged job may take to return before its worker is terminated. */
  terminateGraceMs: number;
  /** The FFmpeg core every worker runs. */
  core: CoreFiles;
  /** The multithreaded core beside it for plans with threads (options.ts `videoCore`). */
  videoCore?: CoreFiles | null;
}

/** What calls run their jobs on: worker threads (JobPool) or the engine's own thread (InlinePool). */
export interface Pool {
  readonly workers: number;
  readonly inFlight: number;
  readonly waiting: number;
  readonly workerRestarts: number;
  reserve(): Reservation;
  run(plan: Plan, options: RunOptions): Promise<JobResult>;
  close(): Promise<void>;
}

export interface RunOptions {
  /**
   * Stops the job. The abort reason decides how it ends: a `TimeoutError` ends it as timed out,
   * anything else as aborted.
   */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: WorkerEvent) => void) | undefined;
  /** The call's admission: a job run under it takes no further place in the queue. */
  reservation?: Reservation | undefined;
  /**
   * When the job must stop (performance.now() ms), asked as it starts. Worker threads stop on the
   * signal; a job on the engine's own thread stops on this, from the core's cancel poll.
   */
  deadline?: (() => number | undefined) | undefined;
}

/**
 * A place in the pool's bound (workers + maxQueue) held by one call from its admission — before
 * its input is spooled — to its end. The call's jobs run under it one at a time; a job it runs
 * while another of its jobs is in flight takes a place of its own.
 */
export interface Reservation {
  release(): void;
}

export class JobPool implements Pool {
  /** Places taken: reservations plus jobs that run outside one. */
  private pending = 0;
  private closed = false;
  /** The terminate switch of every job on a worker now: closing the engine pulls them all. */
  private readonly running = new Set<AbortController>();

  /** Worker threads started after the first ones: each replaces one that was stopped or crashed. */
  private created = 0;

  private constructor(
    private readonly piscina: Piscina<Task, TaskResult>,
    private readonly options: PoolOptions,
  ) {
    piscina.on('workerCreate', () => this.created++);
  }

  get workerRestarts(): number {
    return Math.max(0, this.created - this.options.workers);
  }

  /** Jobs submitted and waiting for a free worker. */
  get waiting(): number {
    return this.piscina.queueSize;
  }

  static async create(options: PoolOptions): Promise<JobPool> {
    const [coreModule, videoModule] = await Promise.all([compileCore(options.core), options.videoCore ? compileCore(options.videoCore) : undefined]);
    const workerData: WorkerInit = { coreModule, core: options.core, recycleHeapBytes: options.recycleHeapBytes };
    if (options.videoCore && videoModule) workerData.videoCore = { module: videoModule, files: options.videoCore };
    const piscina = new Piscina<Task, TaskResult>({
      filename: pathToFileURL(join(runtimeDir(), WORKER_MODULE)).href,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Infinity,
      // The engine enforces its own bound (workers + maxQueue) so the error is typed and exact.
      maxQueue: Infinity as unknown as number,
      workerData,
      execArgv: workerExecArgv(),
    });
    return new JobPool(piscina, options);
  }

  get workers(): number {
    return this.options.workers;
  }

  /** Places taken: calls admitted plus jobs running or waiting beyond them. */
  get inFlight(): number {
    return this.pending;
  }

  /** Admits a call, or refuses it with `E_QUEUE_FULL` when workers + maxQueue places are taken. */
  reserve(): Reservation {
    this.take();
    let held = true;
    const reservation: Reservation & { busy: boolean } = {
      busy: false,
      release: () => {
        if (!held) return;
        held = false;
        this.pending--;
      },
    };
    return reservation;
  }

  private take(): void {
    if (this.closed) throw new ClosedError();
    const capacity = this.options.workers + this.options.maxQueue;
    if (this.pending >= capacity) {
      throw new QueueFullError(`the queue is full: ${this.pending} calls and jobs waiting or running (workers + maxQueue = ${capacity})`, {
        limit: 'maxQueue',
        max: this.options.maxQueue,
      });
    }
    this.pending++;
  }

  async run(plan: Plan, options: RunOptions): Promise<JobResult> {
    if (this.closed) throw new ClosedError();
    const { signal } = options;
    if (signal?.aborted) throw stopReason(signal, 'the job was stopped before it started');
    const reservation = options.reservation as (Reservation & { busy: boolean }) | undefined;
    const covered = reservation !== undefined && !reservation.busy;
    if (covered) reservation.busy = true;
    else this.take();

    const cancelBuffer = new SharedArrayBuffer(4);
    const cancelFlag = new Int32Array(cancelBuffer);
    const kill = new AbortController();
    this.running.add(kill);
    const channel = new MessageChannel();
    let started = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const stop = () => {
      const reason = signal?.reason instanceof TimeoutError ? CANCEL.timeout : CANCEL.abort;
      if (Atomics.compareExchange(cancelFlag, 0, CANCEL.none, reason) !== CANCEL.none) return;
      if (!started) {
        kill.abort();
        return;
      }
      graceTimer = setTimeout(() => kill.abort(), this.options.terminateGraceMs);
    };
    signal?.addEventListener('abort', stop, { once: true });

    channel.port1.on('message', (event: WorkerEvent) => {
      if (event.type === 'started') {
        started = true;
        if (Atomics.load(cancelFlag, 0) !== CANCEL.none) graceTimer ??= setTimeout(() => kill.abort(), this.options.terminateGraceMs);
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
      this.running.delete(kill);
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', stop);
      channel.port1.close();
      if (covered) reservation.busy = false;
      else this.pending--;
    }
  }

  private stoppedError(reason: number, err: unknown): SandcodecError {
    if (reason === CANCEL.abort) return new AbortedError();
    if (reason === CANCEL.timeout) return new TimeoutError('the call ran past its timeout (timeoutMs) and its worker was stopped');
    if (this.closed) return new ClosedError('the engine was closed while the job was queued or running');
    return new InternalError(`the worker failed: ${(err as Error)?.message ?? String(err)}`, {}, { cause: err });
  }

  /**
   * Stops every job at once: running ones lose their worker (their calls end with E_CLOSED), queued
   * ones never start. A job deep in a long encode would otherwise hold the close until it finished.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const kill of this.running) kill.abort();
    await this.piscina.close({ force: true });
  }
}

/** The error a stopped signal stands for: its own reason when that is ours. */
function stopReason(signal: AbortSignal, message: string): SandcodecError {
  return signal.reason instanceof SandcodecError ? signal.reason : new AbortedError(message);
}
