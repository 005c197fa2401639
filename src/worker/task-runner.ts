/**
 * Runs one plan on a kept FFmpeg core and answers with plain data; whatever is thrown leaves as a
 * SandcodecError. Shared by the worker threads (worker/index.ts) and by an engine without
 * threads (`workers: 0`, pool/inline-pool.ts), which runs it on the calling thread. Every run sets
 * FFmpeg's global options afresh (ffmpeg/args.ts), so a job's options never reach the next one.
 * A core that failed a job (FFmpeg's early exits leak its allocations; a trap leaves it broken),
 * or whose heap grew past the recycle size, is dropped and a fresh one is instantiated for the
 * next job. (A built core takes a fresh wasm instance for every run anyway and lets the job's go
 * when the job ends: `endJob`.)
 */
import { InternalError, SandcodecError, toErrorData } from '../errors.js';
import type { JobResult, Plan, WorkerEvent } from '../model/plan.js';
import type { TaskResult, WorkerInit } from '../model/protocol.js';
import { FFmpegCore } from './ffmpeg/core.js';
import { runPlan } from './ffmpeg/run-plan.js';
import type { AnalysisSink } from './sinks/analysis.js';

export interface RunnerTask {
  plan: Plan;
  /** The CANCEL reason, set by the engine (or by the core at the deadline) to stop the job. */
  cancelFlag: Int32Array;
  emit(event: WorkerEvent): void;
  /**
   * When the job must stop (performance.now() ms), asked once the job has started: on the
   * engine's own thread no timer can fire while FFmpeg runs, so the core's cancel poll checks it.
   */
  deadline?: () => number | undefined;
}

export type TaskRunner = (task: RunnerTask) => Promise<{ reply: TaskResult; result?: JobResult }>;

export function createTaskRunner(init: WorkerInit): TaskRunner {
  const idleFlag = new Int32Array(new ArrayBuffer(4));
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

  return async ({ plan, cancelFlag, emit, deadline }) => {
    let healthy = false;
    const slot = plan.op === 'ffmpeg' && (plan.threads ?? 1) > 1 && init.videoCore ? 'video' : 'main';
    try {
      emit({ type: 'started' });
      const acquired = await acquireCore(cancelFlag, slot);
      acquired.core.setDeadline(deadline?.());
      // The image pipeline and the analysis kernels load on the first job that needs them: a
      // worker that only probes or transcodes starts without them.
      const analysis: AnalysisSink | undefined =
        plan.op === 'analyze' ? await (await import('./sinks/analysis.js')).AnalysisSink.create(plan.analysis) : undefined;
      const ctx = { core: acquired.core, cancelFlag, emit, ...(analysis ? { analysis } : {}) };
      const result = plan.op === 'image' ? await (await import('./image/pipeline.js')).runImagePlan(plan, ctx) : await runPlan(plan, ctx);
      if (analysis) result.analysis = analysis.finish();
      result.instantiateMs = acquired.instantiateMs;
      healthy = acquired.core.heapBytes <= init.recycleHeapBytes;
      return { reply: { ok: true, result }, result };
    } catch (err) {
      return { reply: { ok: false, error: toErrorData(typed(err)) } };
    } finally {
      if (!healthy) cores[slot] = undefined;
      cores[slot]?.setDeadline(undefined);
      cores[slot]?.setCancelFlag(idleFlag);
      cores[slot]?.endJob();
    }
  };
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
