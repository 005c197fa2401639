/**
 * The worker thread: thin on purpose. It keeps one FFmpeg core per thread and runs one plan per
 * task on it (task-runner.ts), sending its events on the task's port and moving output buffers
 * to the main thread without copying them.
 */
import { workerData } from 'node:worker_threads';
import type { Task, TaskResult, WorkerInit } from '../model/protocol.js';
import { createTaskRunner } from './task-runner.js';

// Piscina hands the pool's workerData to each worker thread as the thread's own.
const runner = createTaskRunner(workerData as WorkerInit);

export default async function runTask(task: Task): Promise<TaskResult> {
  try {
    const { reply, result } = await runner({ plan: task.plan, cancelFlag: new Int32Array(task.cancel), emit: (event) => task.port.postMessage(event) });
    if (!result) return reply;
    const transfer = result.outputs.flatMap((o) => (o.bytes ? [o.bytes.buffer as ArrayBuffer] : []));
    if (result.analysis?.peaks) transfer.push(result.analysis.peaks.data.buffer as ArrayBuffer);
    return await markTransfer(reply, transfer);
  } finally {
    task.port.close();
  }
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
