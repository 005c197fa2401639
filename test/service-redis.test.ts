/**
 * The service over a real Redis: the API enqueues, worker processes (the `sandcodec worker`
 * command) run the jobs, and each job reaches one outcome, with its outputs written once, when
 * things go wrong: a worker killed with SIGKILL in the middle of a job, Redis stopped for a
 * few seconds, a worker told to stop (SIGTERM) while it runs a job. A long package is split into
 * chunk jobs that several workers encode, stitched when the last is done. Needs redis-server
 * (`.ci/run` installs it); without it the file skips and says so.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../dist/index.js';
import { serviceLogger } from '../dist/service/log.js';
import { type RunningService, startServer, startWorker } from '../dist/service/service.js';
import { fileServer, type TestServer } from './helpers/file-server.js';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';
import { RedisServer, redisServerPath } from './helpers/redis.js';

const hasRedis = redisServerPath() !== null;
if (!hasRedis) console.warn('service-redis.test.ts: SKIPPED — redis-server is not installed (.ci/run installs it with apt-get)');

const cli = join(repoRoot, 'dist', 'cli', 'main.js');

let dir: string;
let redis: RedisServer;
let files: TestServer;
let api: RunningService;
let apiUrl: string;
let outputRoot: string;
const apiLog: string[] = [];

/** A `sandcodec worker` process, its JSON log lines collected. */
class WorkerProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(name: string, extra: string[] = []) {
    this.child = spawn(
      process.execPath,
      [
        cli,
        'worker',
        '--redis',
        redis.url,
        '--workers',
        '1',
        '--concurrency',
        '1',
        '--allow-hosts',
        '127.0.0.1',
        '--output-root',
        outputRoot,
        '--lock-seconds',
        '2',
        '--metrics-port',
        '0',
        '--work-dir',
        join(dir, `work-${name}`),
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let buffered = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {}
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[worker ${name}] ${d}`));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async waitFor(pred: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(pred);
      if (found) return found;
      if (Date.now() > until) throw new Error(`no such log line; got:\n${this.lines.map((l) => JSON.stringify(l)).join('\n')}`);
      if (this.child.exitCode !== null) throw new Error(`the worker exited ${this.child.exitCode}`);
      await sleep(50);
    }
  }

  ready(): Promise<Record<string, unknown>> {
    return this.waitFor((l) => l.msg === 'worker started');
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function submit(body: object, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${apiUrl}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function status(id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${apiUrl}/v1/jobs/${id}`)).json()) as Record<string, unknown>;
}

async function settled(id: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(id);
    if (s.state === 'completed' || s.state === 'failed' || s.state === 'cancelled') return s;
    if (Date.now() > until) throw new Error(`job ${id} still ${JSON.stringify(s)}`);
    await sleep(200);
  }
}

/** Every file under `root`, relative; staged leftovers would show as `.…sandcodec-….part`. */
async function tree(root: string): Promise<string[]> {
  if (!existsSync(root)) return [];
  return (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort();
}

const PACKAGE_OPTIONS = { video: ['360p', '240p'], audio: ['aac-64'], segmentDuration: 2, chunkSeconds: 2 };

let localMade: Promise<string[]> | undefined;

/** The package one engine makes of the clip (in `dir/pkg-local`): what a split package must equal. Its file list. */
function localPackage(): Promise<string[]> {
  localMade ??= (async () => {
    const engine = await createEngine({ workers: 1 });
    try {
      await engine.package({ path: join(dir, 'media', 'clip.mp4') }, { ...PACKAGE_OPTIONS, outputDir: join(dir, 'pkg-local') });
    } finally {
      await engine.close();
    }
    return tree(join(dir, 'pkg-local'));
  })();
  return localMade;
}

const transcodeJob = (id: string, dirName: string) => ({
  id,
  op: 'transcode',
  input: { url: `${files.url}/clip.mp4` },
  preset: 'mp4-h264-aac',
  output: { dir: dirName },
});

describe.skipIf(!hasRedis)('the service over Redis', () => {
  beforeAll(async () => {
    dir = await makeTempDir();
    outputRoot = join(dir, 'out');
    await mkdir(outputRoot);
    await mkdir(join(dir, 'media'));
    // A clip long enough that a worker can be stopped in the middle of encoding it.
    const engine = await createEngine({ workers: 1 });
    try {
      await engine.generateVideo({ seconds: 12, width: 640, height: 360, frameRate: 25, output: join(dir, 'media', 'clip.mp4') });
    } finally {
      await engine.close();
    }
    files = await fileServer(join(dir, 'media'));
    await mkdir(join(dir, 'redis'));
    redis = await RedisServer.start(join(dir, 'redis'));
    const destination = new Writable({
      write(chunk, _enc, cb) {
        apiLog.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    api = await startServer({
      port: 0,
      redis: redis.url,
      concurrency: 0,
      allowHosts: '127.0.0.1',
      outputRoot,
      workers: 1,
      maxQueue: 50,
      logger: serviceLogger({ destination }),
    });
    apiUrl = `http://127.0.0.1:${api.port}`;
  });

  afterAll(async () => {
    await api?.stop(0);
    await redis?.stop();
    await files?.close();
    await removeTempDir(dir);
  });

  it('a job submitted to the API runs on a worker process; its log lines carry the request id', async () => {
    const worker = new WorkerProcess('a');
    try {
      await worker.ready();
      const sub = await submit(
        {
          id: 'ladder-1',
          op: 'ladder',
          input: { url: `${files.url}/../../${'x'}`.replace(/\/\.\.\/\.\.\/x$/, '/clip.mp4') },
          presets: ['opus-64', 'aac-64'],
          output: { dir: 'ladder-1' },
        },
        { 'x-request-id': 'req-ladder-1' },
      );
      expect(sub.status).toBe(202);
      expect(sub.json).toEqual({ id: 'ladder-1' });
      // The same id again is the same job.
      const again = await submit({ id: 'ladder-1', op: 'ladder', input: { url: `${files.url}/clip.mp4` }, presets: ['opus-64'], output: { dir: 'elsewhere' } });
      expect(again.status).toBe(200);
      expect(again.json).toEqual({ id: 'ladder-1' });
      const s = await settled('ladder-1');
      expect(s.state).toBe('completed');
      expect(s.progress).toBe(1);
      const result = s.result as { outputs: Array<{ name: string; size: number }> };
      expect(result.outputs.map((o) => o.name)).toEqual(['clip.aac-64.m4a', 'clip.opus-64.opus']);
      expect(await tree(join(outputRoot, 'ladder-1'))).toEqual(['.sandcodec-job.json', 'clip.aac-64.m4a', 'clip.opus-64.opus']);
      expect(existsSync(join(outputRoot, 'elsewhere'))).toBe(false);
      const lines = worker.lines.filter((l) => l.jobId === 'ladder-1');
      expect(lines.map((l) => l.state)).toEqual(['active', 'completed']);
      expect(lines.every((l) => l.reqId === 'req-ladder-1' && l.op === 'ladder')).toBe(true);
      expect(typeof lines[1]!.ms).toBe('number');
      expect(apiLog.some((l) => l.includes('"jobId":"ladder-1"') && l.includes('"state":"queued"') && l.includes('"reqId":"req-ladder-1"'))).toBe(true);
    } finally {
      await worker.kill();
    }
  });

  it('kill -9 in the middle of a job: another worker takes it over, it completes once, its outputs written once', async () => {
    const a = new WorkerProcess('k1');
    const b = new WorkerProcess('k2');
    try {
      await Promise.all([a.ready(), b.ready()]);
      expect((await submit(transcodeJob('kill-1', 'kill-1'))).status).toBe(202);
      const started = await Promise.race([a, b].map((w) => w.waitFor((l) => l.jobId === 'kill-1' && l.state === 'active').then(() => w)));
      const other = started === a ? b : a;
      // Into the encode, then killed: no chance to clean up or hand back.
      await sleep(700);
      await started.kill();
      const s = await settled('kill-1');
      expect(s.state).toBe('completed');
      expect(s.attempts).toBeGreaterThanOrEqual(2);
      expect(started.lines.some((l) => l.jobId === 'kill-1' && l.state === 'completed')).toBe(false);
      expect(other.lines.filter((l) => l.jobId === 'kill-1' && l.state === 'completed')).toHaveLength(1);
      expect(await tree(join(outputRoot, 'kill-1'))).toEqual(['.sandcodec-job.json', 'clip.mp4']);
      // Nothing staged or half-written is left anywhere under the output root.
      expect((await tree(outputRoot)).filter((f) => f.includes('.part') || f.includes('sandcodec-work'))).toEqual([]);
      const marker = JSON.parse(await readFile(join(outputRoot, 'kill-1', '.sandcodec-job.json'), 'utf8')) as { job: string };
      expect(marker.job).toBe('kill-1');
    } finally {
      await a.kill();
      await b.kill();
    }
  });

  it('Redis stopped for a few seconds: submissions get 503 with Retry-After, readiness drops, and the worker reconnects', async () => {
    const worker = new WorkerProcess('r');
    try {
      await worker.ready();
      await redis.stop();
      await sleep(500);
      const refused = await submit(transcodeJob('outage-1', 'outage-1'));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect((refused.json.error as { code: string }).code).toBe('E_IO');
      expect((await fetch(`${apiUrl}/readyz`)).status).toBe(503);
      await sleep(2500);
      await redis.start();
      const until = Date.now() + 20_000;
      while ((await fetch(`${apiUrl}/readyz`)).status !== 200 && Date.now() < until) await sleep(200);
      expect((await fetch(`${apiUrl}/readyz`)).status).toBe(200);
      const sub = await submit({ id: 'outage-2', op: 'loudness', input: { url: `${files.url}/clip.mp4` } });
      expect(sub.status).toBe(202);
      const s = await settled('outage-2');
      expect(s.state).toBe('completed');
      expect(worker.lines.filter((l) => l.jobId === 'outage-2' && l.state === 'completed')).toHaveLength(1);
    } finally {
      await worker.kill();
    }
  });

  it('SIGTERM: the worker takes no new job, hands its running job back within the drain deadline and exits 0; another finishes it', async () => {
    const a = new WorkerProcess('t1', ['--drain-seconds', '0.5']);
    try {
      await a.ready();
      expect((await submit(transcodeJob('term-1', 'term-1'))).status).toBe(202);
      await a.waitFor((l) => l.jobId === 'term-1' && l.state === 'active');
      await sleep(300);
      const t0 = Date.now();
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(a.lines.some((l) => l.jobId === 'term-1' && l.outcome === 'handed-back')).toBe(true);
      expect((await status('term-1')).state).toBe('queued');
      const b = new WorkerProcess('t2');
      try {
        const s = await settled('term-1');
        expect(s.state).toBe('completed');
        expect(await tree(join(outputRoot, 'term-1'))).toEqual(['.sandcodec-job.json', 'clip.mp4']);
      } finally {
        await b.kill();
      }
    } finally {
      await a.kill();
    }
  });

  it('SIGTERM with time to spare: the running job finishes, then the worker exits 0', async () => {
    const a = new WorkerProcess('t3', ['--drain-seconds', '60']);
    try {
      await a.ready();
      expect((await submit({ id: 'term-2', op: 'loudness', input: { url: `${files.url}/clip.mp4` } })).status).toBe(202);
      await a.waitFor((l) => l.jobId === 'term-2' && l.state === 'active');
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect((await status('term-2')).state).toBe('completed');
    } finally {
      await a.kill();
    }
  });

  it('a long package is split into chunk jobs that two workers encode; the stitch runs when the last is done', async () => {
    const a = new WorkerProcess('p1');
    const b = new WorkerProcess('p2');
    try {
      await Promise.all([a.ready(), b.ready()]);
      const sub = await submit({
        id: 'pkg-1',
        op: 'package',
        input: { url: `${files.url}/clip.mp4` },
        ...PACKAGE_OPTIONS,
        output: { dir: 'pkg-1' },
      });
      expect(sub.status).toBe(202);
      const s = await settled('pkg-1', 240_000);
      expect(s.state).toBe('completed');
      const chunkLines = [...a.lines, ...b.lines].filter(
        (l) => typeof l.jobId === 'string' && (l.jobId as string).startsWith('pkg-1-') && l.state === 'active',
      );
      // Chunks of 2 s of a 12 s clip, two rungs: more chunk jobs than workers, and both took some.
      expect(chunkLines.length).toBeGreaterThanOrEqual(6);
      expect(new Set(chunkLines.map((l) => l.pid)).size).toBe(2);
      const out = await tree(join(outputRoot, 'pkg-1'));
      expect(out).toContain('master.m3u8');
      expect(out).toContain('manifest.mpd');
      expect(out.filter((f) => f.endsWith('.m4s')).length).toBeGreaterThanOrEqual(12);
      // The shared work folder (source, plan, chunks) is gone.
      expect(existsSync(join(outputRoot, '.sandcodec-work', 'pkg-1'))).toBe(false);
      const stitches = [...a.lines, ...b.lines].filter((l) => l.jobId === 'pkg-1' && l.state === 'completed');
      expect(stitches).toHaveLength(1);
      // Byte for byte the package one engine makes of the same source with the same options.
      const local = await localPackage();
      expect(out.filter((f) => f !== '.sandcodec-job.json')).toEqual(local);
      for (const f of local) expect((await readFile(join(outputRoot, 'pkg-1', f))).equals(await readFile(join(dir, 'pkg-local', f))), f).toBe(true);
    } finally {
      await a.kill();
      await b.kill();
    }
  });

  it('kill -9 of a worker in the middle of a chunk: the chunk runs again elsewhere and the package is the same, byte for byte', async () => {
    const a = new WorkerProcess('c1');
    const b = new WorkerProcess('c2');
    const c = new WorkerProcess('c3');
    try {
      await Promise.all([a.ready(), b.ready(), c.ready()]);
      expect((await submit({ id: 'pkg-2', op: 'package', input: { url: `${files.url}/clip.mp4` }, ...PACKAGE_OPTIONS, output: { dir: 'pkg-2' } })).status).toBe(
        202,
      );
      const isChunk = (l: Record<string, unknown>) => typeof l.jobId === 'string' && (l.jobId as string).startsWith('pkg-2-') && l.state === 'active';
      const victim = await Promise.race([a, b, c].map((w) => w.waitFor(isChunk, 120_000).then(() => w)));
      const killedChunk = victim.lines.find(isChunk)!.jobId as string;
      await sleep(300);
      await victim.kill();
      const s = await settled('pkg-2', 240_000);
      expect(s.state).toBe('completed');
      const survivors = [a, b, c].filter((w) => w !== victim);
      expect(survivors.flatMap((w) => w.lines).filter((l) => l.jobId === killedChunk && l.state === 'completed')).toHaveLength(1);
      const out = (await tree(join(outputRoot, 'pkg-2'))).filter((f) => f !== '.sandcodec-job.json');
      const local = await localPackage();
      expect(out).toEqual(local);
      for (const f of local) expect((await readFile(join(outputRoot, 'pkg-2', f))).equals(await readFile(join(dir, 'pkg-local', f))), f).toBe(true);
      expect((await tree(outputRoot)).filter((f) => f.includes('.part') || f.includes('sandcodec-work'))).toEqual([]);
    } finally {
      await Promise.all([a.kill(), b.kill(), c.kill()]);
    }
  });
});

describe.skipIf(!hasRedis)('retries, dead letters, cancel and the queue bound (in-process worker)', () => {
  let worker: RunningService | undefined;
  let redis2: RedisServer;
  let api2: RunningService;
  let url2: string;
  let dir2: string;
  let media2: TestServer;

  beforeAll(async () => {
    dir2 = await makeTempDir();
    await mkdir(join(dir2, 'redis'));
    await mkdir(join(dir2, 'out'));
    redis2 = await RedisServer.start(join(dir2, 'redis'));
    media2 = await fileServer(join(repoRoot, 'test', 'fixtures'));
    const quiet = serviceLogger({ level: 'silent' });
    api2 = await startServer({
      port: 0,
      redis: redis2.url,
      concurrency: 0,
      workers: 1,
      allowHosts: '127.0.0.1',
      maxQueue: 2,
      attempts: 2,
      backoffMs: 50,
      logger: quiet,
      outputRoot: join(dir2, 'out'),
    });
    url2 = `http://127.0.0.1:${api2.port}`;
  });

  afterAll(async () => {
    await worker?.stop(0);
    await api2?.stop(0);
    await redis2?.stop();
    await media2?.close();
    await removeTempDir(dir2);
  });

  const post = async (body: object) => {
    const res = await fetch(`${url2}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown>, retryAfter: res.headers.get('retry-after') };
  };
  const get = async (id: string) => (await (await fetch(`${url2}/v1/jobs/${id}`)).json()) as Record<string, unknown>;

  it('a full queue answers 429 with Retry-After; a cancelled waiting job is cancelled at once', async () => {
    const loud = (id: string) => ({ id, op: 'loudness', input: { url: `${media2.url}/audio/loop_amen.flac` } });
    expect((await post(loud('q-1'))).status).toBe(202);
    expect((await post(loud('q-2'))).status).toBe(202);
    const full = await post(loud('q-3'));
    expect(full.status).toBe(429);
    expect(full.retryAfter).toBe('1');
    expect((full.json.error as { code: string }).code).toBe('E_QUEUE_FULL');
    const del = await fetch(`${url2}/v1/jobs/q-2`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as { state: string }).state).toBe('cancelled');
    expect((await get('q-2')).state).toBe('cancelled');
    expect((await post(loud('q-3'))).status).toBe(202);
  });

  it('the waiting jobs complete; input errors fail at once; E_IO is tried again and then dead-lettered', async () => {
    const quiet = serviceLogger({ level: 'silent' });
    worker = await startWorker({
      port: 0,
      redis: redis2.url,
      workers: 1,
      allowHosts: '127.0.0.1',
      attempts: 2,
      backoffMs: 50,
      transferRetries: 0,
      logger: process.env.SANDCODEC_TEST_LOG ? serviceLogger() : quiet,
      workDir: join(dir2, 'work'),
      outputRoot: join(dir2, 'out'),
    });
    // The jobs that waited in the full queue run first.
    for (const id of ['q-1', 'q-3']) {
      const s = await (async () => {
        for (;;) {
          const x = await get(id);
          if (x.state === 'completed' || x.state === 'failed') return x;
          await sleep(100);
        }
      })();
      expect(s.state).toBe('completed');
      expect(typeof (s.result as { result: { integrated: number } }).result.integrated).toBe('number');
    }
    expect((await post({ id: 'bad-input', op: 'loudness', input: { url: `${media2.url}/missing.flac` } })).status).toBe(202);
    expect((await post({ id: 'flaky', op: 'loudness', input: { url: `${media2.url}/status/503/x.flac` } })).status).toBe(202);
    const until = Date.now() + 60_000;
    let bad: Record<string, unknown> = {};
    let flaky: Record<string, unknown> = {};
    while (Date.now() < until) {
      [bad, flaky] = await Promise.all([get('bad-input'), get('flaky')]);
      if (bad.state === 'failed' && flaky.state === 'failed') break;
      await sleep(100);
    }
    expect(bad.state).toBe('failed');
    expect((bad.error as { code: string }).code).toBe('E_INPUT_INVALID');
    expect(bad.attempts).toBe(1);
    expect(media2.hits.get('/missing.flac')).toBe(1);
    expect(flaky.state).toBe('failed');
    expect((flaky.error as { code: string }).code).toBe('E_IO');
    expect(flaky.attempts).toBe(2);
    expect(media2.hits.get('/status/503/x.flac')).toBe(2);
    const { Queue } = await import('bullmq');
    const dead = new Queue('sandcodec-dead', { connection: { host: '127.0.0.1', port: redis2.port } });
    try {
      const job = await dead.getJob('flaky');
      expect(job?.data.error.code).toBe('E_IO');
      expect(await dead.getJob('bad-input')).toBeUndefined();
    } finally {
      await dead.close();
    }
  });

  it('cancelling a running job stops it: cancelled, and nothing written', async () => {
    // An 8 s 360p clip to H.264: two seconds or more of encoding, cancelled as soon as it starts
    // (the worker sees the flag within 250 ms).
    const sub = await post({
      id: 'cancel-run',
      op: 'transcode',
      input: { url: `${media2.url}/video/oa4-launch-vp8-vorbis.webm` },
      preset: 'mp4-h264-aac',
      output: { dir: 'cancel-run' },
    });
    expect(sub.status).toBe(202);
    for (let i = 0; i < 200 && (await get('cancel-run')).state !== 'active'; i++) await sleep(20);
    const del = await fetch(`${url2}/v1/jobs/cancel-run`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    let s = await get('cancel-run');
    for (let i = 0; i < 200 && s.state === 'active'; i++) {
      await sleep(50);
      s = await get('cancel-run');
    }
    expect(s.state, JSON.stringify(s)).toBe('cancelled');
    expect((s.error as { code: string }).code).toBe('E_ABORTED');
    expect(existsSync(join(dir2, 'out', 'cancel-run'))).toBe(false);
    expect(await readdir(join(dir2, 'work'))).toEqual([]);
  });
});
