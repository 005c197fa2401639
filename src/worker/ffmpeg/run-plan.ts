/**
 * Runs one plan on one core, inside a fresh job directory: mounts the plan's inputs and outputs,
 * runs ffprobe or ffmpeg, judges the outcome (verdict.ts) into a result or a typed error, and
 * always tears the job directory down. Runs on a worker thread; nothing here touches the pool.
 */
import { AbortedError, fromErrorData, InputError, InternalError, LimitError, SandcodecError, TimeoutError, toErrorData } from '../../errors.js';
import { CANCEL, type JobOutputResult, type JobResult, type Plan, type PlanInput, type WorkerEvent } from '../../model/plan.js';
import { globalArgs, LOG_LEVEL, PROTOCOL_WHITELIST, sandboxArgs } from './args.js';
import type { CoreExit, FFmpegCore } from './core.js';
import { demuxerTable } from './formats.js';
import { type ProgressReport, ProgressSink } from './progress.js';
import { BufferSink, type ByteSink, type ByteSource, bytesSource, hostFileSink, hostFileSource, JobFS, OutputBudget, viewSource } from './sandbox-fs.js';
import { RunWatch } from './verdict.js';

/** The node FFmpeg writes `-progress` to; plan files cannot be named like it (no leading dot). */
const PROGRESS_NODE = '.progress';
const PROBE_OUT = '.probe.json';
/** ffprobe's JSON for a file with many streams and tags stays far below this. */
const PROBE_MAX_BYTES = 16 * 1024 * 1024;

export interface RunContext {
  core: FFmpegCore;
  cancelFlag: Int32Array;
  emit: (event: WorkerEvent) => void;
  /** The sink of an analyze plan's `analysis` output (created by the worker, which awaits it). */
  analysis?: ByteSink;
}

export async function runPlan(plan: Plan, ctx: RunContext): Promise<JobResult> {
  if (plan.op === 'image') throw new InternalError('image plans run in the image pipeline, not here');
  const { core, cancelFlag, emit } = ctx;
  for (const file of [...plan.inputs, ...plan.outputs]) {
    if (!/^[\w][\w.-]*$/.test(file.name)) throw new InternalError(`${plan.phase}: invalid job file name ${JSON.stringify(file.name)}`);
  }
  // Before the job's record sink goes in: listing the demuxers runs FFmpeg with a sink of its own.
  const demuxers = await demuxerTable(core);
  core.setHeapBudget(plan.limits.maxHeapBytes);
  core.setThreads(plan.op === 'ffmpeg' ? (plan.threads ?? 1) : 1);

  const jobFs = new JobFS(core.FS);
  const inputPaths = plan.inputs.map((input) => jobFs.path(input.name));
  const planMuxers = new Set(plan.op === 'probe' ? [] : plan.args.filter((_, i) => plan.args[i - 1] === '-f'));
  const watch = new RunWatch({
    inputPaths,
    totals: () => core.decodeTotals(),
    isDemuxer: (component) => demuxers.longNames.has(component) && !planMuxers.has(component),
  });
  core.setRecordSink((record) => watch.observe(record));

  let started = 0;
  let lastEmit = 0;
  let progress: ProgressReport = { seconds: null, frames: null, end: false };
  const onProgress = (report: ProgressReport) => {
    progress = report;
    const seconds = report.seconds;
    if (seconds === null) return;
    if (seconds > plan.limits.maxDurationSeconds) Atomics.compareExchange(cancelFlag, 0, CANCEL.none, CANCEL.duration);
    const now = Date.now();
    if (now - lastEmit >= 50 || report.end) {
      lastEmit = now;
      // FFmpeg's own definition of speed (media time over wall time), measured here: the speed
      // this build prints is mangled (DESIGN.md).
      const elapsed = (performance.now() - started) / 1000;
      emit({ type: 'stats', seconds, speed: elapsed > 0 && seconds > 0 ? seconds / elapsed : undefined });
    }
  };

  const total = new OutputBudget(plan.limits.maxOutputBytes, 'maxOutputBytes');
  const returned = new OutputBudget(plan.limits.maxReturnedBytes, 'maxReturnedBytes');
  const sinks: Array<{ name: string; sink: ByteSink }> = [];
  try {
    for (const input of plan.inputs) jobFs.addInput(input.name, openSource(input), hostPathOf(input));
    for (const output of plan.outputs) {
      const { sink: target } = output;
      let sink: ByteSink | undefined;
      let budgets: OutputBudget[];
      if (target.type === 'path') {
        sink = hostFileSink(target.path);
        budgets = [total];
      } else if (target.type === 'bytes') {
        sink = new BufferSink(plan.limits.maxReturnedBytes, target.into);
        budgets = [total, returned];
      } else {
        // Measured PCM is never stored, so it counts against no budget.
        sink = ctx.analysis;
        budgets = [];
      }
      if (!sink) throw new InternalError(`${plan.phase}: no analysis sink for output ${output.name}`);
      sinks.push({ name: output.name, sink });
      jobFs.addOutput(output.name, sink, budgets, target.type === 'path' ? target.path : undefined);
    }

    started = performance.now();
    let probe: unknown;
    if (plan.op === 'probe') {
      probe = await runProbe(core, jobFs, inputPaths[0]!, watch, demuxers.whitelist);
    } else {
      jobFs.addOutput(PROGRESS_NODE, new ProgressSink(onProgress), []);
      const args = [...globalArgs(jobFs.path(PROGRESS_NODE)), ...sandboxArgs(plan.args, { whitelist: demuxers.whitelist, inputs: new Set(inputPaths) })];
      const exit = await guarded(plan.phase, watch, () => core.exec(args));
      throwIfStopped(cancelFlag, core, [total, returned], plan, watch);
      const nodeFailure = jobFs.failure();
      if (nodeFailure) throw nodeFailure;
      if (exit.code === -1) throw crashed(plan.phase, watch, core.broken ?? 'FFmpeg aborted');
      if (exit.code !== 0) throw watch.failure(plan.phase, exit.code);
      if (plan.inputs.length > 0) {
        const damage = watch.damage(plan.phase, progress);
        if (damage) throw damage;
      }
    }
    throwIfStopped(cancelFlag, core, [total, returned], plan, watch);
    jobFs.closeOutputs();
    const execMs = performance.now() - started;

    const outputs: JobOutputResult[] = sinks.map(({ name, sink }) => {
      const result: JobOutputResult = { name, size: sink.written };
      if (sink instanceof BufferSink) result.bytes = sink.bytes();
      return result;
    });
    const log = watch.log();
    return { outputs, probe, log, mediaSeconds: plan.op === 'probe' ? null : progress.seconds, execMs, instantiateMs: 0 };
  } finally {
    core.setRecordSink(() => {});
    jobFs.dispose();
  }
}

/** A plan input's bytes (its view, when it has one), read on demand. */
export function openSource(input: PlanInput): ByteSource {
  const { source } = input;
  const whole = source.type === 'path' ? hostFileSource(source.path) : bytesSource(new Uint8Array(source.buffer, 0, source.byteLength));
  return input.view ? viewSource(whole, input.view) : whole;
}

function hostPathOf(input: PlanInput): string | undefined {
  return input.source.type === 'path' ? input.source.path : undefined;
}

/** Runs a core call; a crash or a glue failure inside it comes out typed, with the phase and log. */
async function guarded(phase: string, watch: RunWatch, call: () => Promise<CoreExit>): Promise<CoreExit> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof SandcodecError)) throw new InternalError(`${phase}: ${(err as Error)?.message ?? String(err)}`, { log: watch.tail.get() });
    const data = toErrorData(err);
    throw fromErrorData({ ...data, message: `${phase}: ${data.message}`, details: { ...data.details, log: watch.tail.get() } });
  }
}

function crashed(phase: string, watch: RunWatch, why: string): SandcodecError {
  return fromErrorData({ __sandcodecError: true, code: 'E_FFMPEG', message: `${phase}: ${why}`, details: { log: watch.tail.get(), exitCode: -1 } });
}

async function runProbe(core: FFmpegCore, jobFs: JobFS, inputPath: string, watch: RunWatch, whitelist: string): Promise<unknown> {
  const sink = new BufferSink(PROBE_MAX_BYTES);
  jobFs.addOutput(PROBE_OUT, sink, [new OutputBudget(PROBE_MAX_BYTES)]);
  // ffprobe's options are set in full on every run, like ffmpeg's (args.ts): the same ones each time.
  const exit = await guarded('probe', watch, () =>
    core.ffprobe([
      '-hide_banner',
      '-loglevel',
      LOG_LEVEL,
      '-protocol_whitelist',
      PROTOCOL_WHITELIST,
      '-format_whitelist',
      whitelist,
      '-print_format',
      'json=c=1',
      '-show_format',
      '-show_streams',
      '-show_error',
      '-o',
      jobFs.path(PROBE_OUT),
      inputPath,
    ]),
  );
  const nodeFailure = jobFs.failure();
  if (nodeFailure) throw nodeFailure;
  if (exit.exited) {
    // ffprobe calls exit() when a stream's decoder will not open with the file's parameters
    // (a corrupt codec header), skipping its cleanup; the decoder said why just before.
    const failure = watch.failure('probe', exit.code);
    throw failure.code === 'E_FFMPEG' ? watch.decoderOpenFailure() : failure;
  }
  const text = new TextDecoder().decode(sink.bytes());
  let parsed: { format?: unknown; streams?: unknown[]; error?: { string?: string } };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError('the input is not readable media (the probe produced no result)', { log: watch.tail.get() });
  }
  if (parsed.error || !parsed.format) {
    const failure = watch.failure('probe', 1);
    if (failure.code === 'E_INPUT_INVALID' && failure.details.demuxer) throw failure;
    if (failure.code === 'E_UNSUPPORTED') throw failure;
    const why = parsed.error?.string ?? 'unknown format';
    throw new InputError(`the input is not readable media: ${why}`, { log: watch.tail.get() });
  }
  return parsed;
}

/** The error of a job its cancel flag stopped; undefined while the flag is down. */
export function stopError(flag: Int32Array, limits: Plan['limits']): SandcodecError | undefined {
  const reason = Atomics.load(flag, 0);
  if (reason === CANCEL.abort) return new AbortedError();
  if (reason === CANCEL.timeout) return new TimeoutError('the job ran past its timeout (timeoutMs)');
  if (reason === CANCEL.duration) {
    return new LimitError('maxDurationSeconds', `the input plays longer than maxDurationSeconds (${limits.maxDurationSeconds} s)`, {
      max: limits.maxDurationSeconds,
    });
  }
  return undefined;
}

function throwIfStopped(flag: Int32Array, core: FFmpegCore, budgets: OutputBudget[], plan: Plan, watch: RunWatch): void {
  const stop = stopError(flag, plan.limits);
  if (stop) throw stop;
  for (const budget of budgets) {
    if (budget.exceeded && budget.limit) {
      const what = budget.limit === 'maxReturnedBytes' ? 'the outputs returned as bytes grew' : 'the output grew';
      throw new LimitError(budget.limit, `${what} past ${budget.limit} (${budget.max} bytes)`, { max: budget.max });
    }
  }
  if (core.heapRefused) {
    throw new LimitError('maxHeapBytes', `the job needed more memory than maxHeapBytes (${plan.limits.maxHeapBytes} bytes)`, {
      max: plan.limits.maxHeapBytes,
      log: watch.tail.get(),
    });
  }
}
