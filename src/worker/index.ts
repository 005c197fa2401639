/**
 * The worker: thin on purpose. It keeps one FFmpeg core per thread, runs one plan per task on it,
 * and answers with plain data; whatever is thrown leaves as a SandcodecError. Every run sets
 * FFmpeg's global options afresh (ffmpeg/args.ts), so a job's options never reach the next one.
 * A core that failed a job (FFmpeg's early exits leak its allocations; a trap leaves it broken),
 * or whose heap grew past the recycle size, is dropped and a fresh one is instantiated for the
 * next job. (A built core takes a fresh wasm instance for every run anyway and lets the job's go
 * when the job ends: `endJob`.)
 */
import { workerData } from 'node:worker_threads';
import { InternalError, SandcodecError, toErrorData } from '../errors.js';
import type { WorkerEvent } from '../model/plan.js';
import type { Task, TaskResult, WorkerInit } from '../model/protocol.js';
import { FFmpegCore } from './ffmpeg/core.js';
import { runPlan } from './ffmpeg/run-plan.js';
import type { AnalysisSink } from './sinks/analysis.js';

// Piscina hands the pool's workerData to each worker thread as the thread's own.
const init = workerData as WorkerInit;
const idleFlag = new Int32Array(new SharedArrayBuffer(4));
/** The core every plan runs on, and the multithreaded one for plans with threads (when there is one). */
const cores: { main?: FFmpegCore; video?: FFmpegCore } = {};

async function acquireCore(cancelFlag: Int32Array, slot: 'main' | 'video'): Promise<{ core: FFmpegCore; instantiateMs: number }> {
  const held = cores[slot];
  if (held && !held.broken) {
    held.setCancelFlag(cancelFlag);
    return { core: held, instantiateMs: 0 };
  }
  const started = performance.now();
  const { module, files } = slot === 'video' && init.videoCore ? init.videoCore : { module: init.coreModule, files: init.core };
  const core = await FFmpegCore.create(module, { cancelFlag, heapBudget: Number.MAX_SAFE_INTEGER, core: files });
  cores[slot] = core;
  return { core, instantiateMs: performance.now() - started };
}

export default async function runTask(task: Task): Promise<TaskResult> {
  const cancelFlag = new Int32Array(task.cancel);
  const emit = (event: WorkerEvent) => task.port.postMessage(event);
  let healthy = false;
  const slot = task.plan.op === 'ffmpeg' && (task.plan.threads ?? 1) > 1 && init.videoCore ? 'video' : 'main';
  try {
    emit({ type: 'started' });
    const acquired = await acquireCore(cancelFlag, slot);
    // The image pipeline and the analysis kernels load on a worker's first job that needs them:
    // a worker that only probes or transcodes starts without them.
    const analysis: AnalysisSink | undefined =
      task.plan.op === 'analyze' ? await (await import('./sinks/analysis.js')).AnalysisSink.create(task.plan.analysis) : undefined;
    const ctx = { core: acquired.core, cancelFlag, emit, ...(analysis ? { analysis } : {}) };
    const result = task.plan.op === 'image' ? await (await import('./image/pipeline.js')).runImagePlan(task.plan, ctx) : await runPlan(task.plan, ctx);
    if (analysis) result.analysis = analysis.finish();
    result.instantiateMs = acquired.instantiateMs;
    healthy = acquired.core.heapBytes <= init.recycleHeapBytes;
    const transfer = result.outputs.flatMap((o) => (o.bytes ? [o.bytes.buffer as ArrayBuffer] : []));
    if (result.analysis?.peaks) transfer.push(result.analysis.peaks.data.buffer as ArrayBuffer);
    return await markTransfer({ ok: true, result }, transfer);
  } catch (err) {
    return { ok: false, error: toErrorData(typed(err)) };
  } finally {
    if (!healthy) cores[slot] = undefined;
    cores[slot]?.setCancelFlag(idleFlag);
    cores[slot]?.endJob();
    task.port.close();
  }
}

/** Whatever was thrown, as a SandcodecError: a bare value must not reach the caller as "[object Object]". */
function typed(err: unknown): SandcodecError {
  if (err instanceof SandcodecError) return err;
  if (err instanceof Error) return new InternalError(`the worker failed: ${err.name}: ${err.message}`, {}, { cause: err });
  let shown: string;
  try {
    shown = JSON.stringify(err) ?? String(err);
  } catch {
    shown = String(err);
  }
  return new InternalError(`the worker failed: a non-error value was thrown: ${shown.slice(0, 200)}`);
}

/** Hands output buffers to the main thread without copying them. */
async function markTransfer(value: TaskResult, buffers: ArrayBuffer[]): Promise<TaskResult> {
  if (buffers.length === 0) return value;
  // Piscina's module (its whole pool) loads on the first job that returns bytes, not at start-up.
  // Where it cannot be found from here (a runtime copied beside a bundle without it), the result
  // is copied to the main thread instead of moved.
  const move = await import('piscina').then(
    (m) => m.move,
    () => undefined,
  );
  if (!move) return value;
  const wrapper = {
    [Symbol.for('Piscina.transferable')]: buffers,
    [Symbol.for('Piscina.valueOf')]: value,
  };
  return move(wrapper as never) as unknown as TaskResult;
}
