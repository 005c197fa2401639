/** The messages between the engine and its workers. */

import type { MessagePort } from 'node:worker_threads';
import type { ErrorData } from '../errors.js';
import type { JobResult, Plan } from './plan.js';

export interface WorkerInit {
  /** The compiled FFmpeg core, shared by every worker of the process. */
  coreModule: WebAssembly.Module;
  /** Which core `coreModule` was compiled from (util/core-files.ts resolves it). */
  core: CoreLocation;
  /** A worker replaces its core once the heap grew past this after a job, returning the memory. */
  recycleHeapBytes: number;
  /** The multithreaded core that runs plans with `threads` above 1, when it is not `core` itself. */
  videoCore?: { module: WebAssembly.Module; files: CoreLocation };
}

/** An FFmpeg core's files: its kind (the stock build or one of wasm-build/), glue script and wasm. */
export interface CoreLocation {
  kind: 'stock' | 'built';
  name: string;
  script: string;
  wasm: string;
  licence: string;
}

export interface Task {
  plan: Plan;
  /** Int32Array(1) over shared memory: the CANCEL reason, set by the engine to stop the job. */
  cancel: SharedArrayBuffer;
  /** Progress and start events travel on this port. */
  port: MessagePort;
}

export type TaskResult = { ok: true; result: JobResult } | { ok: false; error: ErrorData };
