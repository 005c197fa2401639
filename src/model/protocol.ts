/** The messages between the engine and its workers. */

import type { MessagePort } from 'node:worker_threads';
import type { ErrorData } from '../errors.js';
import type { JobResult, Plan } from './plan.js';

export interface WorkerInit {
  /** The compiled FFmpeg core, shared by every worker of the process. */
  coreModule: WebAssembly.Module;
  /** A worker replaces its core once the heap grew past this after a job, returning the memory. */
  recycleHeapBytes: number;
}

export interface Task {
  plan: Plan;
  /** Int32Array(1) over shared memory: the CANCEL reason, set by the engine to stop the job. */
  cancel: SharedArrayBuffer;
  /** Progress and start events travel on this port. */
  port: MessagePort;
}

export type TaskResult = { ok: true; result: JobResult } | { ok: false; error: ErrorData };
