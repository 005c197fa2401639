// A reference for the pool numbers: how much parallelism the machine gives right now. The same
// CPU-bound loop runs in 1 and then 2 worker threads; on 2 idle cores 2 threads finish in about
// the time of 1 (ratio 2×), on a machine busy with other work the ratio drops toward 1×.
import { Worker } from 'node:worker_threads';

const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const started = performance.now();
let x = 0;
for (let i = 0; i < workerData; i++) x = (x + i * 7) % 1000003;
parentPort.postMessage({ ms: performance.now() - started, x });
`;

function runThreads(threads, iterations) {
  const started = performance.now();
  const runs = Array.from(
    { length: threads },
    () =>
      new Promise((resolve, reject) => {
        const worker = new Worker(LOOP, { eval: true, workerData: iterations });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  return Promise.all(runs).then(() => performance.now() - started);
}

/** Work per second with 2 threads over work per second with 1. */
export async function threadScaling(iterations = 60_000_000) {
  const one = await runThreads(1, iterations);
  const two = await runThreads(2, iterations);
  return { oneMs: one, twoMs: two, ratio: (2 * one) / two };
}
