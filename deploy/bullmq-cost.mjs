#!/usr/bin/env node
// What one BullMQ job costs Redis, for deploy/README.md § At 100 workers. Counts every command
// Redis executes (INFO commandstats counts the commands run inside BullMQ's Lua scripts as well
// as the EVALSHA that runs them) for: adding jobs, processing them, workers sitting idle, and one
// long job (lock renewals). Needs a scratch Redis — it FLUSHALLs the database it is given:
//
//   redis-server --port 6391 --save '' --appendonly no --daemonize yes --pidfile /tmp/r.pid
//   node deploy/bullmq-cost.mjs redis://127.0.0.1:6391 [--jobs 2000] [--long-seconds 40]
//
// bullmq and ioredis are resolved from the repository's node_modules (both are dependencies);
// queue `sandcodec` and prefix `bull` as the service uses them.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

const url = process.argv[2];
if (!url?.startsWith('redis')) {
  console.error('usage: node deploy/bullmq-cost.mjs redis://HOST:PORT [--jobs N] [--long-seconds S]  (FLUSHALLs it)');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const JOBS = opt('--jobs', 2000);
const LONG = opt('--long-seconds', 40);
const WORKERS = 4;
const CONCURRENCY = 2;
const IDLE_SECONDS = 40;

const admin = new IORedis(url);
const connection = { url };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const counts = async () => {
  const out = {};
  for (const m of (await admin.info('commandstats')).matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)) {
    if (!/^(info|config\|resetstat|client\|list)$/.test(m[1])) out[m[1]] = Number(m[2]);
  }
  return out;
};
const sum = (c) => Object.values(c).reduce((a, b) => a + b, 0);
const reset = () => admin.config('RESETSTAT');

await admin.flushall();
const queue = new Queue('sandcodec', { connection, prefix: 'bull' });
await queue.waitUntilReady();

// 1. add (one Queue.add per job, a 200-byte payload)
await reset();
for (let i = 0; i < JOBS; i++) await queue.add('chunk', { plan: 'x'.repeat(200), job: `v${i}` });
const add = await counts();

// 2. process them: WORKERS Workers × CONCURRENCY, an empty processor
await reset();
let done = 0;
const started = performance.now();
const workers = [];
await new Promise((resolve) => {
  for (let w = 0; w < WORKERS; w++) {
    const worker = new Worker('sandcodec', async () => 'ok', { connection, prefix: 'bull', concurrency: CONCURRENCY });
    worker.on('completed', () => ++done === JOBS && resolve());
    workers.push(worker);
  }
});
const processed = await counts();
const seconds = (performance.now() - started) / 1000;
const clients = (await admin.client('LIST')).trim().split('\n').length - 1; // less this one

// 3. idle: the same Workers on an empty queue
await reset();
await sleep(IDLE_SECONDS * 1000);
const idle = await counts();
await Promise.all(workers.map((w) => w.close()));

// 4. one long job on one Worker, add to completion (lock renewed every lockDuration / 2 = 15 s)
const lw = new Worker('sandcodec', () => sleep(LONG * 1000), { connection, prefix: 'bull', concurrency: 1 });
await lw.waitUntilReady();
await sleep(500);
await reset();
const longDone = new Promise((r) => lw.once('completed', r));
await queue.add('long', { plan: 'x' });
await longDone;
const long = await counts();
await lw.close();

const top = (c) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
console.log(`bullmq ${require('bullmq/package.json').version}, redis ${(await admin.info('server')).match(/redis_version:(\S+)/)[1]}`);
console.log(`add:      ${(sum(add) / JOBS).toFixed(1)} commands per job (${(add.evalsha ?? 0) / JOBS} EVALSHA) — ${top(add)}`);
console.log(
  `process:  ${(sum(processed) / JOBS).toFixed(1)} commands per job, ${JOBS} jobs in ${seconds.toFixed(2)} s on ${WORKERS} Workers × concurrency ${CONCURRENCY} — ${top(processed)}`,
);
console.log(`connections: ${clients} for 1 Queue + ${WORKERS} Workers`);
console.log(`idle:     ${(sum(idle) / IDLE_SECONDS / WORKERS).toFixed(2)} commands/s per idle Worker (blocking wait of drainDelay 5 s, stalled-job checks)`);
console.log(`long:     ${sum(long)} commands for one ${LONG} s job, add to completion`);
await queue.close();
await admin.quit();
