/**
 * One engine call, whatever the operation: admission (the queue check, before any input is
 * read) → input (spooled inside the call's limits) → probe and the duration limit → the
 * operation's jobs on the pool → one output transaction committed, or rolled back on any
 * failure, abort or timeout → a typed error. Operations are plain modules that plan jobs and
 * finish results on a `Call`; every limit and output rule is enforced here, once.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AbortedError, InputError, InternalError, IOError, LimitError, OptionsError, SandcodecError, TimeoutError } from '../errors.js';
import type { CallInfo } from '../model/call-info.js';
import type { JobLimits, JobResult, Plan, WorkerEvent } from '../model/plan.js';
import { type ProbeResult, parseProbe } from '../model/probe-result.js';
import type { Observer } from '../observe.js';
import { type Limits, resolveLimits } from '../options.js';
import type { Pool, Reservation } from '../pool/pool.js';
import { type ProgressListener, ProgressTracker } from '../progress.js';
import type { H264Encoder } from '../util/core-files.js';
import { type MediaInput, type ResolvedInput, resolveInput } from './input.js';
import { OutputTransaction } from './outputs.js';
import { probePlan } from './probe-plan.js';

/** What every call accepts besides its own options. */
export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  /** Overrides of the engine's limits for this call. */
  limits?: Partial<Limits>;
}

/** What an engine lends its calls. */
export interface CallEnv {
  pool: Pool;
  limits: Limits;
  spoolDir: string;
  /** The H.264 encoder of the engine's FFmpeg core. */
  h264Encoder: H264Encoder | null;
  /** Threads a video encode may use (engine option videoThreads). */
  videoThreads: number;
  /** Counters, channels and the logger (observe.ts). */
  observer: Observer;
}

/** The options every call takes, checked before anything runs. */
export const COMMON_KEYS = ['signal', 'onProgress', 'limits'] as const;

export interface ResolvedCommon {
  limits: Limits;
  signal: AbortSignal | undefined;
  onProgress: ProgressListener | undefined;
  overwrite: boolean;
}

/**
 * Checks a call's options object: no unknown key (the message lists the known ones), the common
 * options of the right types, `overwrite` a boolean where the call takes it.
 */
export function resolveCommon(options: unknown, own: readonly string[], base: Limits): ResolvedCommon {
  if (typeof options !== 'object' || options === null) throw new OptionsError('options', 'must be an object');
  const known = [...own, ...COMMON_KEYS];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new OptionsError(key, `is not an option of this call (known: ${known.join(', ')})`);
  }
  const o = options as CallOptions & { overwrite?: unknown };
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new OptionsError('signal', 'must be an AbortSignal');
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new OptionsError('onProgress', 'must be a function');
  if (o.overwrite !== undefined && typeof o.overwrite !== 'boolean') throw new OptionsError('overwrite', 'must be a boolean');
  return { limits: resolveLimits(base, o.limits), signal: o.signal, onProgress: o.onProgress, overwrite: o.overwrite === true };
}

/** One call in flight: its limits, clock, jobs, inputs and outputs. */
export class Call {
  readonly limits: Limits;
  readonly jobLimits: JobLimits;
  readonly tracker: ProgressTracker;
  readonly outputs: OutputTransaction;
  /** Stops everything of the call; its reason is the error the call fails with. */
  private readonly stop = new AbortController();
  private readonly inputs: ResolvedInput[] = [];
  private reservation: Reservation | undefined;
  private readonly unlink: () => void;
  // The call's clock (`timeoutMs`) runs while the call works — spooling, probing, running jobs,
  // writing — and pauses while every job it submitted waits in the queue for a worker.
  private usedMs = 0;
  private activeSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queued = 0;
  private running = 0;
  /** What `call` reports: the call's time waiting, running and in I/O, and its jobs. */
  private readonly began = performance.now();
  private queueMs = 0;
  private runMs = 0;
  private ioMs = 0;
  private jobCount = 0;

  constructor(
    private readonly env: CallEnv,
    common: ResolvedCommon,
    readonly id: string,
    readonly op: string,
  ) {
    this.limits = common.limits;
    this.jobLimits = {
      maxOutputBytes: this.limits.maxOutputBytes,
      maxReturnedBytes: this.limits.maxReturnedBytes,
      maxHeapBytes: this.limits.maxHeapBytes,
      maxDurationSeconds: this.limits.maxDurationSeconds,
    };
    this.tracker = new ProgressTracker(common.onProgress);
    this.outputs = new OutputTransaction(common.overwrite);
    const user = common.signal;
    const onAbort = () => this.stop.abort(new AbortedError());
    if (user?.aborted) onAbort();
    user?.addEventListener('abort', onAbort, { once: true });
    this.unlink = () => user?.removeEventListener('abort', onAbort);
    this.tick();
  }

  /** The H.264 encoder the engine's core has: what video plans encode with. */
  get h264Encoder(): H264Encoder | null {
    return this.env.h264Encoder;
  }

  get videoThreads(): number {
    return this.env.videoThreads;
  }

  /** An output the caller gets as a stream, spooled in the engine's spoolDir (call/stream-output.ts). */
  streamOutput(): { tempPath: string; stream: Readable } {
    return this.outputs.streamFile(this.env.spoolDir);
  }

  /** Aborted by the caller or out of time. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** Takes the call's place in the queue, or fails with `E_QUEUE_FULL`, before any input is read. */
  admit(): void {
    this.throwIfStopped();
    this.reservation = this.env.pool.reserve();
  }

  /** Resolves (and spools) an input inside the call's limits; released when the call ends. */
  input(media: MediaInput): Promise<ResolvedInput> {
    return this.resolve(media, this.limits.maxInputBytes);
  }

  /** One of the call's own outputs read back (to measure it): not held to `maxInputBytes`. */
  ownInput(media: MediaInput): Promise<ResolvedInput> {
    return this.resolve(media, Number.MAX_SAFE_INTEGER);
  }

  private async resolve(media: MediaInput, maxInputBytes: number): Promise<ResolvedInput> {
    this.throwIfStopped();
    const t = performance.now();
    try {
      const resolved = await resolveInput(media, { maxInputBytes, spoolDir: this.env.spoolDir, signal: this.signal });
      this.inputs.push(resolved);
      return resolved;
    } finally {
      this.ioMs += performance.now() - t;
    }
  }

  /** Puts the outputs in place (counted as I/O). */
  async commit(): Promise<void> {
    const t = performance.now();
    try {
      await this.outputs.commit();
    } finally {
      this.ioMs += performance.now() - t;
    }
  }

  /** The call as results, errors and channels report it, as of now. */
  info(): CallInfo {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      id: this.id,
      op: this.op,
      elapsedMs: round(performance.now() - this.began),
      queueMs: round(this.queueMs),
      runMs: round(this.runMs),
      ioMs: round(this.ioMs),
      jobs: this.jobCount,
    };
  }

  /**
   * Probes an input. The duration limit is checked right here for every operation that decodes
   * (`limitDuration: false` only for a probe that reads headers and nothing else).
   */
  async probe(input: ResolvedInput, options: { limitDuration?: boolean } = {}): Promise<ProbeResult> {
    const result = await this.run(probePlan(input, this.jobLimits));
    const probe = parseProbe(result.probe);
    probe.size = input.size;
    if (options.limitDuration !== false) {
      this.checkDuration(probe.duration);
      checkStreams(probe);
    }
    return probe;
  }

  /** `E_LIMIT` when a stated duration is over `maxDurationSeconds`. */
  checkDuration(seconds: number | null | undefined): void {
    const max = this.limits.maxDurationSeconds;
    if (seconds !== null && seconds !== undefined && seconds > max) {
      throw new LimitError('maxDurationSeconds', `the input plays ${seconds.toFixed(1)} s, longer than maxDurationSeconds (${max} s)`, {
        max,
        actual: seconds,
      });
    }
  }

  /** Runs one plan on the pool, under the call's place in the queue, signal and clock. */
  async run(plan: Plan, onEvent?: (event: WorkerEvent) => void): Promise<JobResult> {
    this.throwIfStopped();
    let started = false;
    this.queued++;
    this.jobCount++;
    this.tick();
    const submitted = performance.now();
    let startedAt = submitted;
    let log: readonly string[] | undefined;
    let ok = false;
    try {
      const result = await this.env.pool.run(plan, {
        signal: this.signal,
        reservation: this.reservation,
        deadline: () => this.deadline(),
        onEvent: (event) => {
          if (event.type === 'started' && !started) {
            started = true;
            startedAt = performance.now();
            this.queueMs += startedAt - submitted;
            this.queued--;
            this.running++;
            this.tick();
          }
          onEvent?.(event);
        },
      });
      log = result.log;
      ok = true;
      return result;
    } catch (err) {
      const details = (err as SandcodecError)?.details;
      if (Array.isArray(details?.log)) log = details.log.map(String);
      throw err;
    } finally {
      const now = performance.now();
      if (started) this.runMs += now - startedAt;
      else this.queueMs += now - submitted;
      this.env.observer.jobEnded(this, plan.phase, ok, log);
      if (started) this.running--;
      else this.queued--;
      this.tick();
      // An abort or timeout that lands as a job finishes still wins: nothing is committed after it.
      this.throwIfStopped();
    }
  }

  /** When the call's time runs out if it stays active from now (performance.now() ms); undefined without a timeout. */
  private deadline(): number | undefined {
    const limit = this.limits.timeoutMs;
    if (!Number.isFinite(limit)) return undefined;
    return (this.activeSince ?? performance.now()) + limit - this.usedMs;
  }

  /** Stops every job of the call: a job that failed takes its siblings down with the same error. */
  stopWith(reason: unknown): void {
    if (!this.signal.aborted) this.stop.abort(asSandcodecError(reason));
  }

  throwIfStopped(): void {
    if (this.signal.aborted) throw asSandcodecError(this.signal.reason);
  }

  /** Ends the call: stops the clock, gives back the queue place, removes spooled inputs. */
  async end(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.activeSince = undefined;
    this.unlink();
    this.reservation?.release();
    this.reservation = undefined;
    await Promise.all(this.inputs.splice(0).map((i) => i.release()));
  }

  private tick(): void {
    const limit = this.limits.timeoutMs;
    if (!Number.isFinite(limit) || this.signal.aborted) return;
    const active = this.running > 0 || this.queued === 0;
    const now = performance.now();
    if (active && this.activeSince === undefined) {
      this.activeSince = now;
      this.timer = setTimeout(
        () => this.stop.abort(new TimeoutError(`the call ran past its timeout (timeoutMs: ${limit} ms)`, { max: limit })),
        Math.max(0, limit - this.usedMs),
      );
    } else if (!active && this.activeSince !== undefined) {
      this.usedMs += now - this.activeSince;
      this.activeSince = undefined;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * Runs `body` as one call: admission, then the body (which resolves inputs, probes, runs jobs and
 * stages outputs on the call), then the commit; any failure rolls the outputs back. Whatever is
 * thrown comes out as a `SandcodecError`.
 */
export async function runCall<T extends object>(
  env: CallEnv,
  op: string,
  common: ResolvedCommon,
  body: (call: Call) => Promise<T>,
): Promise<T & { call: CallInfo }> {
  const call = new Call(env, common, randomUUID(), op);
  env.observer.callStarted({ id: call.id, op: call.op });
  let outcome: { result: T & { call: CallInfo } } | { error: SandcodecError };
  try {
    call.admit();
    const result = await body(call);
    call.throwIfStopped();
    await call.commit();
    outcome = { result: Object.assign(result, { call: call.info() }) };
  } catch (err) {
    await call.outputs.rollback();
    outcome = { error: asSandcodecError(call.signal.aborted ? call.signal.reason : err) };
  } finally {
    await call.end();
  }
  if ('error' in outcome) {
    const { error } = outcome;
    // An error shared by several calls (an engine closing) keeps the first call's record; the
    // channels get this call's, the same snapshot the error carries when it is this call's.
    const info = call.info();
    error.call ??= info;
    env.observer.callFailed(info, error);
    throw error;
  }
  env.observer.callFinished(outcome.result.call);
  return outcome.result;
}

/**
 * Stream parameters no real recording has: a header that states them lies, and a decode would
 * only spend memory on the lie (a resampler sized for a gigahertz rate).
 */
const MAX_SAMPLE_RATE = 1_536_000;
const MAX_CHANNELS = 64;

function checkStreams(probe: ProbeResult): void {
  for (const s of probe.streams) {
    if (s.type !== 'audio') continue;
    if (s.sampleRate !== undefined && s.sampleRate > MAX_SAMPLE_RATE) {
      throw new InputError(`audio stream #${s.index} states a sample rate of ${s.sampleRate} Hz, which no recording has`, { stream: s.index });
    }
    if (s.channels !== undefined && s.channels > MAX_CHANNELS) {
      throw new InputError(`audio stream #${s.index} states ${s.channels} channels, more than any format carries (${MAX_CHANNELS})`, { stream: s.index });
    }
  }
}

/** Anything thrown, as a SandcodecError: host I/O failures as `E_IO`, the rest as ours. */
export function asSandcodecError(err: unknown): SandcodecError {
  if (err instanceof SandcodecError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e && typeof e === 'object' && typeof e.code === 'string' && (typeof e.syscall === 'string' || e.code === 'ERR_ACCESS_DENIED')) {
    return new IOError(`a host file operation failed: ${e.message}`, { errno: e.code, ...(e.path ? { path: e.path } : {}) }, { cause: err });
  }
  return new InternalError(`unexpected failure: ${e?.message ?? String(err)}`, {}, { cause: err });
}
