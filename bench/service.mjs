#!/usr/bin/env node
// Load test of the HTTP service, on loopback only, bounded in requests and time:
// 1. reference: the same small call (probe of a 97 KB MP4) on an engine in this process, at the
//    service's concurrency — what the HTTP layer, the upload and the spooling cost on top;
// 2. synchronous calls (PUT /v1/probe, the body streamed) at increasing open-loop rates
//    (an open-loop generator on undici) until 429s appear: throughput, p50/p99 latency per rate;
// 3. four times the sustained rate for 15 s: the queue bound holds (429s, not a growing
//    queue) and the service's RSS, sampled every second from its /metrics, stays flat;
// 4. jobs submitted faster than they run, with a small queue bound: every accepted job reaches
//    one final state exactly once (by its status and by the service's own log lines), none is
//    lost or duplicated — in-process, and through Redis with a worker process when redis-server
//    is installed.
// The service runs as `sandcodec serve` in a child process, as it would in production.
// Usage: npm run build && node bench/service.mjs
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { createEngine } from '../dist/index.js';
import { describeMachine, loadAverage } from './engine/machine.js';
import { median } from './engine/measure.js';
import { ms, table } from './engine/report.js';

const log = (line) => process.stderr.write(`${line}\n`);
const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const fixtures = new URL('../test/fixtures/', import.meta.url).pathname;
const body = readFileSync(join(fixtures, 'video', 'realshort-h264-aac.mp4'));
const WORKERS = 2;
const SYNC_QUEUE = 8;
const CONNECTIONS = 32;
const STEP_SECONDS = 5;
const RATES = [10, 20, 40, 60, 80, 100, 120, 160, 200, 240, 320];
const OVERLOAD_SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 30);
const dir = await mkdtemp(join(tmpdir(), 'sandcodec-service-bench-'));
const loadBefore = loadAverage();

/** A `sandcodec serve` (or `worker`) process; its JSON log lines are kept (jobs only, to stay bounded). */
async function startProcess(args) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SANDCODEC_LOG_LEVEL: 'info' } });
  const jobLines = [];
  const proc = {};
  let buffered = '';
  let port;
  child.stdout.on('data', (d) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop();
    for (const line of parts) {
      if (port === undefined && /^\{"port":\d+\}$/.test(line)) port = JSON.parse(line).port;
      else if (line.includes('"jobId"')) jobLines.push(JSON.parse(line));
      else if (line.includes('"msg":"worker started"')) proc.metricsPort = JSON.parse(line).port;
    }
  });
  const until = Date.now() + 30_000;
  while (port === undefined && Date.now() < until && !args.includes('worker')) await sleep(50);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  Object.assign(proc, {
    child,
    jobLines,
    port,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  });
  return proc;
}

const sleep = (t) => new Promise((r) => setTimeout(r, t));

async function metric(url, name) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

/**
 * Open-loop load: one request every 1/rate seconds whatever the answers (a closed loop would
 * slow down with the service and never overload it), on a keep-alive pool of CONNECTIONS sockets;
 * requests beyond them wait in the pool, as they would in a client. Latency is from the request's
 * scheduled time, so queueing in the client counts too.
 */
async function openLoop(url, rate, seconds) {
  const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
  const results = [];
  const start = performance.now();
  const total = Math.round(rate * seconds);
  const pending = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(
      pool
        .request({ path: '/v1/probe?name=clip.mp4', method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } })
        .then(async (res) => {
          await res.body.dump();
          results.push({ status: res.statusCode, ms: performance.now() - due });
        })
        .catch(() => results.push({ status: 0, ms: performance.now() - due })),
    );
  }
  await Promise.all(pending);
  await pool.close();
  const ok = results.filter((r) => r.status === 200);
  const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
  const okLatencies = ok.map((r) => r.ms).sort((a, b) => a - b);
  const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : Number.NaN);
  return {
    rate,
    ok: ok.length,
    refused: results.filter((r) => r.status === 429).length,
    other: results.filter((r) => r.status !== 200 && r.status !== 429).length,
    okPerSecond: ok.length / ((performance.now() - start) / 1000),
    p50: pct(okLatencies, 0.5),
    p99: pct(okLatencies, 0.99),
    allP99: pct(latencies, 0.99),
  };
}

// 1. The reference: engine.probe in this process, as many calls in flight as the service admits
// (its workers and its sync queue), for 5 s — before the service runs, and again after.
async function reference() {
  const engine = await createEngine({ workers: WORKERS, maxQueue: 1000 });
  await engine.probe({ data: body });
  let done = 0;
  const latencies = [];
  const end = performance.now() + STEP_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WORKERS + SYNC_QUEUE }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await engine.probe({ data: body });
        latencies.push(performance.now() - t);
        done++;
      }
    }),
  );
  await engine.close();
  return { perSecond: done / STEP_SECONDS, p50: median(latencies) };
}
log('reference: engine.probe in-process');
const refBefore = await reference();

// 2. Rising rates against the service.
const serve = await startProcess(['serve', '--port', '0', '--json', '--workers', String(WORKERS), '--max-sync-queue', String(SYNC_QUEUE)]);
log(`service on ${serve.url}`);
await openLoop(serve.url, 10, 2); // warm-up: the workers' cores compiled, sockets open
const steps = [];
for (const rate of RATES) {
  const s = await openLoop(serve.url, rate, STEP_SECONDS);
  steps.push(s);
  log(`rate ${rate}/s: ${s.okPerSecond.toFixed(1)} ok/s, ${s.refused} 429, p50 ${s.p50} ms, p99 ${s.p99} ms`);
  if (s.refused > 0.01 * (s.ok + s.refused)) break;
}
const clean = steps.filter((s) => s.refused === 0 && s.other === 0);
const sustained = Math.max(...steps.map((s) => s.okPerSecond));
const lastClean = clean.at(-1);

// 3. Four times the sustained rate for 15 s, RSS and queue depth sampled each second.
const overloadRate = Math.round(4 * sustained);
log(`overload: ${overloadRate}/s for ${OVERLOAD_SECONDS} s`);
const rss = [await metric(serve.url, 'sandcodec_process_resident_memory_bytes')];
const waiting = [];
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    await sleep(1000);
    rss.push(await metric(serve.url, 'sandcodec_process_resident_memory_bytes'));
    waiting.push(await metric(serve.url, 'sandcodec_engine_calls{state="waiting"}'));
  }
})();
const overload = await openLoop(serve.url, overloadRate, OVERLOAD_SECONDS);
sampling = false;
await sampler;
rss.push(await metric(serve.url, 'sandcodec_process_resident_memory_bytes'));
await serve.stop();
log('reference again');
const refAfter = await reference();

// 4. Jobs: exactly-once outcome under a queue bound, in-process and through Redis.
const files = await fileServer(fixtures);
async function jobRun(label, serveArgs, workerArgs) {
  const api = await startProcess(['serve', '--port', '0', '--json', '--allow-hosts', '127.0.0.1', '--max-queue', '20', ...serveArgs]);
  const worker = workerArgs ? await startProcess(['worker', ...workerArgs]) : undefined;
  const N = 200;
  const accepted = [];
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const res = await fetch(`${api.url}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `load-${i}`, op: 'loudness', input: { url: `${files.url}/audio/loop_amen.flac` } }),
      });
      if (res.status === 202) accepted.push(`load-${i}`);
      else if (res.status === 429) refused++;
      await res.arrayBuffer();
    }),
  );
  const states = new Map();
  const until = Date.now() + 300_000;
  while (states.size < accepted.length && Date.now() < until) {
    for (const id of accepted) {
      if (states.has(id)) continue;
      const s = await (await fetch(`${api.url}/v1/jobs/${id}`)).json();
      if (s.state === 'completed' || s.state === 'failed' || s.state === 'cancelled') states.set(id, s.state);
    }
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  await sleep(500);
  await worker?.stop();
  await api.stop();
  const lines = [...api.jobLines, ...(worker?.jobLines ?? [])];
  const finals = new Map();
  for (const l of lines) if (l.state === 'completed' || l.state === 'failed' || l.state === 'cancelled') finals.set(l.jobId, (finals.get(l.jobId) ?? 0) + 1);
  const completed = [...states.values()].filter((s) => s === 'completed').length;
  const once = accepted.filter((id) => finals.get(id) === 1).length;
  const strays = [...finals.keys()].filter((id) => !accepted.includes(id)).length;
  return { label, submitted: N, accepted: accepted.length, refused, completed, once, lost: accepted.length - states.size, strays, seconds };
}
const jobRuns = [await jobRun('in-process (serve)', ['--workers', String(WORKERS)])];
let redisDir;
let redisChild;
let packageRun;
const redisBin = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();
if (redisBin) {
  redisDir = join(dir, 'redis');
  await mkdir(redisDir);
  const port = 20000 + Math.floor(Math.random() * 20000);
  redisChild = spawn(redisBin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await sleep(500);
  const url = `redis://127.0.0.1:${port}`;
  jobRuns.push(
    await jobRun(
      'Redis: API + 1 worker process',
      ['--redis', url, '--concurrency', '0', '--workers', '1'],
      ['--redis', url, '--workers', String(WORKERS), '--allow-hosts', '127.0.0.1', '--metrics-port', '0'],
    ),
  );
  packageRun = await splitPackage(url);
  redisChild.kill('SIGTERM');
}
await files.close();
await rm(dir, { recursive: true, force: true });

/**
 * One package split over two worker processes (one engine worker each) through Redis, against the
 * same package made by one engine with two workers in this process. The worker logs give each
 * chunk job's time; the plan step is from the package's first start to its first chunk's.
 */
async function splitPackage(redisUrl) {
  const media = join(dir, 'package-media');
  const outputRoot = join(dir, 'package-out');
  await mkdir(media);
  await mkdir(outputRoot);
  const source = join(media, 'clip.mp4');
  const options = { video: ['720p', '360p'], audio: ['aac-64'], segmentDuration: 4, chunkSeconds: 4 };
  const local = await createEngine({ workers: 2 });
  await local.generateVideo({ seconds: 24, width: 1280, height: 720, frameRate: 25, output: source });
  const t0 = performance.now();
  await local.package({ path: source }, { ...options, outputDir: join(dir, 'package-local') });
  const localMs = performance.now() - t0;
  await local.close();
  const server = await fileServer(media);
  const api = await startProcess([
    'serve',
    '--port',
    '0',
    '--json',
    '--redis',
    redisUrl,
    '--concurrency',
    '0',
    '--workers',
    '1',
    '--allow-hosts',
    '127.0.0.1',
    '--output-root',
    outputRoot,
  ]);
  const common = ['--redis', redisUrl, '--workers', '1', '--allow-hosts', '127.0.0.1', '--output-root', outputRoot, '--metrics-port', '0'];
  const workers = [await startProcess(['worker', ...common]), await startProcess(['worker', ...common])];
  while (workers.some((w) => w.metricsPort === undefined)) await sleep(100);
  const peaks = [0, 0];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const [i, w] of workers.entries()) {
        const v = await metric(`http://127.0.0.1:${w.metricsPort}`, 'sandcodec_process_resident_memory_bytes').catch(() => 0);
        peaks[i] = Math.max(peaks[i], v);
      }
      await sleep(250);
    }
  })();
  const t1 = performance.now();
  const res = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'bench-package', op: 'package', input: { url: `${server.url}/clip.mp4` }, ...options, output: { dir: 'package' } }),
  });
  await res.arrayBuffer();
  let state = 'queued';
  while (state !== 'completed' && state !== 'failed' && performance.now() - t1 < 600_000) {
    await sleep(200);
    state = (await (await fetch(`${api.url}/v1/jobs/bench-package`)).json()).state;
  }
  const wallMs = performance.now() - t1;
  sampling = false;
  await sampler;
  for (const w of workers) await w.stop();
  await api.stop();
  await server.close();
  const lines = workers.flatMap((w, i) => w.jobLines.map((l) => ({ ...l, worker: i })));
  const chunks = lines.filter((l) => l.op === 'chunk' && l.state === 'completed');
  const planStart = Math.min(...lines.filter((l) => l.jobId === 'bench-package' && l.state === 'active').map((l) => l.time));
  const firstChunk = Math.min(...lines.filter((l) => l.op === 'chunk' && l.state === 'active').map((l) => l.time));
  const stitch = lines.find((l) => l.jobId === 'bench-package' && l.state === 'completed');
  return {
    state,
    wallMs,
    localMs,
    chunks: chunks.map((c) => ({ id: c.jobId.replace('bench-package-', ''), ms: c.ms, worker: c.worker })),
    planMs: firstChunk - planStart,
    stitchMs: stitch?.ms ?? Number.NaN,
    peakRss: peaks,
  };
}

/** Serves the fixtures on loopback: the jobs' URL input. */
async function fileServer(root) {
  const server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    try {
      res.writeHead(200, { 'content-length': statSync(path).size });
      createReadStream(path).pipe(res);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const mb = (b) => (b / 1024 / 1024).toFixed(0);
const out = [];
out.push(`Machine: ${JSON.stringify(describeMachine())}; load before ${loadBefore}, after ${loadAverage()}; ${new Date().toISOString().slice(0, 10)}.`);
out.push(
  `Service: \`sandcodec serve --workers ${WORKERS} --max-sync-queue ${SYNC_QUEUE}\` in a child process; an open-loop generator (undici, ${CONNECTIONS} keep-alive connections; latency from each request's scheduled time), ${STEP_SECONDS} s per rate; the call: \`PUT /v1/probe\` of a 97 KB MP4.`,
);
out.push('');
out.push(
  table(
    ['offered rate (req/s)', '200 per s', '429', 'p50 (ms)', 'p99 (ms)'],
    steps.map((s) => [String(s.rate), s.okPerSecond.toFixed(1), String(s.refused), ms(s.p50), ms(s.p99)]),
  ),
);
out.push('');
out.push(
  `Sustained: **${sustained.toFixed(1)} calls/s** (the best 200s per second of any step); the last rate without a 429 was ${lastClean ? `${lastClean.rate}/s, p50 ${ms(lastClean.p50)} ms, p99 ${ms(lastClean.p99)} ms` : 'none'}. Reference in the same script: \`engine.probe\` on an engine in the script's own process, ${WORKERS + SYNC_QUEUE} calls in flight (what the service admits): ${refBefore.perSecond.toFixed(1)} calls/s before the service ran and ${refAfter.perSecond.toFixed(1)} after (p50 ${ms(refBefore.p50)} and ${ms(refAfter.p50)} ms): the service gives ${(sustained / ((refBefore.perSecond + refAfter.perSecond) / 2)).toFixed(2)}× of their mean.`,
);
out.push('');
out.push(
  `Overload at ${overloadRate} req/s (4× sustained) for ${OVERLOAD_SECONDS} s: ${overload.ok} answered 200, ${overload.refused} answered 429, ${overload.other} other; 200s p50 ${ms(overload.p50)} ms, p99 ${ms(overload.p99)} ms (all answers' p99 ${ms(overload.allP99)} ms). Calls waiting in the engine's queue, sampled each second: at most ${Math.max(...waiting)} (bound ${SYNC_QUEUE}). RSS each second (MB): ${rss.map(mb).join(', ')} — first ${mb(rss[0])}, max ${mb(Math.max(...rss))}, last ${mb(rss.at(-1))}.`,
);
out.push('');
out.push(
  table(
    ['jobs', 'submitted', 'accepted (202)', 'refused (429)', 'completed', 'one final log line', 'lost', 'unknown ids', 'seconds'],
    jobRuns.map((r) => [
      r.label,
      String(r.submitted),
      String(r.accepted),
      String(r.refused),
      String(r.completed),
      String(r.once),
      String(r.lost),
      String(r.strays),
      r.seconds.toFixed(1),
    ]),
  ),
);
if (packageRun) {
  const c = packageRun.chunks;
  const total = c.reduce((n, x) => n + x.ms, 0);
  out.push('');
  out.push(
    `Split package (${packageRun.state}): 24 s of 1280×720 at 25 fps, rungs 720p and 360p, aac-64, 4 s chunks, through Redis on two \`sandcodec worker\` processes of one engine worker each: ${(packageRun.wallMs / 1000).toFixed(1)} s from submission to completed; the same package by one engine with two workers in one process: ${(packageRun.localMs / 1000).toFixed(1)} s (${(packageRun.wallMs / packageRun.localMs).toFixed(2)}×). Plan step (download, probe, plan, queue the chunks) ${ms(packageRun.planMs)} ms; stitch step ${ms(packageRun.stitchMs)} ms; ${c.length} chunk jobs, ${ms(median(c.map((x) => x.ms)))} ms median, ${ms(Math.min(...c.map((x) => x.ms)))}–${ms(Math.max(...c.map((x) => x.ms)))} ms, ${(total / 1000).toFixed(1)} s in all; per worker: ${[0, 1].map((w) => c.filter((x) => x.worker === w).length).join(' and ')} chunks. Peak RSS of each worker process (one engine worker, sampled every 250 ms): ${packageRun.peakRss.map(mb).join(' and ')} MB.`,
  );
  out.push('');
  out.push(
    table(
      ['chunk job', 'ms', 'worker'],
      c.map((x) => [x.id, ms(x.ms), String(x.worker)]),
    ),
  );
}
if (!redisBin) out.push('\nredis-server is not installed: the Redis run was skipped.');
console.log(out.join('\n'));
