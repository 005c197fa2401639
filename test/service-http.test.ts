/**
 * The HTTP API with jobs run in the service's own process (no Redis): synchronous calls that
 * stream their upload into the engine under its byte limit, job submission checked before
 * anything is queued (SSRF, output folders, options), URL and folder outputs, status with
 * progress, cancel, typed errors with an HTTP status per family, 429s, metrics, logs that carry
 * the request id, and a drain that finishes what runs and refuses what comes.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { serviceLogger } from '../dist/service/log.js';
import { type RunningService, startServer } from '../dist/service/service.js';
import { fileServer, type TestServer, type UploadServer, uploadServer } from './helpers/file-server.js';
import { makeTempDir, media, mediaDir, removeTempDir, repoRoot } from './helpers/media.js';

let dir: string;
let root: string;
let service: RunningService;
let base: string;
let files: TestServer;
let uploads: UploadServer;
let engine: Engine;
const log: Array<Record<string, unknown>> = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

async function submit(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
}

async function settled(id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const s = await json(await fetch(`${base}/v1/jobs/${id}`));
    if (s.state === 'completed' || s.state === 'failed' || s.state === 'cancelled') return s;
    await sleep(50);
  }
}

const code = (body: Record<string, unknown>) => (body.error as { code: string }).code;
const message = (body: Record<string, unknown>) => (body.error as { message: string }).message;

function put(path: string, body: Uint8Array | Readable, headers: Record<string, string> = {}): Promise<Response> {
  const stream = body instanceof Readable ? (Readable.toWeb(body) as ReadableStream) : body;
  return fetch(`${base}${path}`, { method: 'PUT', body: stream, headers, duplex: 'half' } as RequestInit);
}

beforeAll(async () => {
  dir = await makeTempDir();
  root = join(dir, 'root');
  await mkdir(root);
  files = await fileServer(mediaDir);
  uploads = await uploadServer();
  engine = await createEngine({ workers: 1 });
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) log.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  service = await startServer({
    port: 0,
    workers: 1,
    allowHosts: '127.0.0.1',
    outputRoot: root,
    maxSyncQueue: 1,
    limits: { maxInputBytes: 2_000_000 },
    workDir: join(dir, 'work'),
    logger: serviceLogger({ destination }),
  });
  base = `http://127.0.0.1:${service.port}`;
});

afterAll(async () => {
  await service?.stop(0);
  await engine?.close();
  await files?.close();
  await uploads?.close();
  await removeTempDir(dir);
});

describe('synchronous calls stream their upload', () => {
  it('probe, loudness and resize answer from the streamed body', async () => {
    const flac = media('audio', 'loop_amen.flac');
    const probe = await put('/v1/probe?name=loop_amen.flac', createReadStream(flac));
    expect(probe.status).toBe(200);
    expect(probe.headers.get('x-request-id')).toBeTruthy();
    const p = await json(probe);
    expect(p.format).toBe('flac');
    expect((p.streams as Array<{ codec: string; sampleRate: number }>)[0]).toMatchObject({ codec: 'flac', sampleRate: 44100 });

    const loud = await json(await put('/v1/loudness', createReadStream(flac)));
    const direct = await engine.loudness({ path: flac });
    expect(loud.integrated as number).toBeCloseTo(direct.integrated as number, 6);
    expect(loud.truePeak as number).toBeCloseTo(direct.truePeak, 6);

    const resized = await put('/v1/resize?width=200&format=png', createReadStream(media('image', 'coffee.png')));
    expect(resized.status).toBe(200);
    expect(resized.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await resized.arrayBuffer());
    const check = await engine.probe({ data: bytes });
    expect(check.streams[0]).toMatchObject({ codec: 'png', width: 200 });
    expect(Number(resized.headers.get('x-image-width'))).toBe(200);
  });

  it('an upload over maxInputBytes is refused 413 (declared, and while it streams); bad media is 422; options are 400', async () => {
    const declared = await put('/v1/probe', new Uint8Array(2_000_001));
    expect(declared.status).toBe(413);
    const d = await json(declared);
    expect(code(d)).toBe('E_LIMIT');
    expect((d.error as { details: { limit: string } }).details.limit).toBe('maxInputBytes');

    // No content-length: counted as it arrives, stopped past the limit (the generator would go on for 100 MB).
    let sent = 0;
    const endless = Readable.from(
      (function* () {
        for (let i = 0; i < 1600; i++) {
          sent += 65536;
          yield new Uint8Array(65536);
        }
      })(),
    );
    const streamed = await put('/v1/probe', endless).catch((err: Error) => err);
    if (streamed instanceof Response) {
      expect(streamed.status).toBe(413);
      expect(code(await json(streamed))).toBe('E_LIMIT');
    }
    expect(sent).toBeLessThan(50_000_000);

    const garbage = await put('/v1/probe', new TextEncoder().encode('this is not media at all, only words '.repeat(100)));
    expect(garbage.status).toBe(422);
    expect(code(await json(garbage))).toBe('E_INPUT_INVALID');

    const badQuery = await put('/v1/resize?width=abc', createReadStream(media('image', 'coffee.png')));
    expect(badQuery.status).toBe(400);
    expect(message(await json(badQuery))).toMatch(/^width: /);
  });

  it('routes: health, readiness, unknown paths 404, wrong methods 405', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await json(await fetch(`${base}/readyz`))).toEqual({ ready: true, draining: false });
    expect((await fetch(`${base}/v2/nothing`)).status).toBe(404);
    const wrong = await fetch(`${base}/v1/probe`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('PUT, POST');
    expect((await fetch(`${base}/v1/jobs/no-such-job`)).status).toBe(404);
  });

  it('more synchronous calls than the engine queues: 429 with Retry-After, and the others succeed', async () => {
    const wav = await readFile(media('audio', 'codec2-ve9qrp.wav'));
    const answers = await Promise.all(Array.from({ length: 5 }, () => put('/v1/loudness', wav)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(code(await json(refused))).toBe('E_QUEUE_FULL');
  });
});

describe('jobs are checked when submitted', () => {
  it.each([
    ['not JSON', '{"op":', 400, /^body: /],
    ['an unknown operation', { op: 'explode', input: { url: 'http://127.0.0.1/a' } }, 400, /^op: must be one of/],
    ['a private address', { op: 'loudness', input: { url: 'http://10.1.2.3/a.flac' } }, 400, /^input\.url: .*private/],
    ['the metadata address', { op: 'loudness', input: { url: 'http://169.254.169.254/latest/meta-data/' } }, 400, /^input\.url: .*link-local/],
    ['IPv6 loopback', { op: 'loudness', input: { url: 'http://[::1]:8080/a.flac' } }, 400, /^input\.url: .*loopback/],
    ['localhost', { op: 'loudness', input: { url: 'http://localhost/a.flac' } }, 400, /^input\.url: /],
    ['a file: URL', { op: 'loudness', input: { url: 'file:///etc/passwd' } }, 400, /^input\.url: /],
    [
      'a path-valued option',
      { op: 'transcode', input: { url: 'http://127.0.0.1/a.flac' }, preset: 'flac', output: { dir: 'x' }, options: { output: '/etc/x' } },
      400,
      /^output: is not an option/,
    ],
    [
      'a cover from a path',
      { op: 'transcode', input: { url: 'http://127.0.0.1/a.flac' }, preset: 'flac', cover: '/etc/passwd', output: { dir: 'x' } },
      400,
      /^cover: /,
    ],
    [
      'an output folder outside the root',
      { op: 'transcode', input: { url: 'http://127.0.0.1/a.flac' }, preset: 'flac', output: { dir: '../escape' } },
      400,
      /^output\.dir: /,
    ],
    [
      'an absolute output folder',
      { op: 'transcode', input: { url: 'http://127.0.0.1/a.flac' }, preset: 'flac', output: { dir: '/tmp/x' } },
      400,
      /^output\.dir: /,
    ],
    [
      'an output URL to a private address',
      { op: 'transcode', input: { url: 'http://127.0.0.1/a.flac' }, preset: 'flac', output: { url: 'http://192.168.1.1/put/' } },
      400,
      /^output\.url: /,
    ],
    ['no preset', { op: 'transcode', input: { url: 'http://127.0.0.1/a.flac' }, output: { dir: 'x' } }, 400, /^preset: /],
    ['a bad id', { id: 'a:b', op: 'loudness', input: { url: 'http://127.0.0.1/a.flac' } }, 400, /^id: /],
  ])('%s is refused with the field named', async (_name, body, status, pattern) => {
    const r = await submit(body);
    expect(r.status).toBe(status);
    expect(code(r.body)).toBe('E_OPTIONS');
    expect(message(r.body)).toMatch(pattern);
  });

  it('a job must be JSON', async () => {
    const r = await submit('{}', { 'content-type': 'text/plain' });
    expect(r.status).toBe(400);
    expect(message(r.body)).toMatch(/^content-type: /);
  });
});

describe('jobs run and report', () => {
  it('a transcode to a URL template uploads the file once it is made; status shows progress, then the result', async () => {
    const r = await submit(
      {
        id: 'to-url',
        op: 'transcode',
        input: { url: `${files.url}/audio/loop_amen.flac` },
        preset: 'opus-96',
        duration: 1,
        output: { url: `${uploads.url}/bucket/{name}?X-Signature=secret` },
      },
      { 'x-request-id': 'req-to-url' },
    );
    expect(r).toEqual({ status: 202, body: { id: 'to-url' } });
    const s = await settled('to-url');
    expect(s.state).toBe('completed');
    expect(s.progress).toBe(1);
    const up = uploads.received.get('/bucket/loop_amen.opus?X-Signature=secret');
    expect(up?.method).toBe('PUT');
    expect(up?.type).toBe('audio/ogg');
    const decoded = await engine.probe({ data: up!.body }, { decode: true });
    expect(decoded.streams[0]?.codec).toBe('opus');
    expect(decoded.decodedDuration).toBeGreaterThan(0.97);
    expect(decoded.decodedDuration).toBeLessThan(1.03);
    const result = s.result as { outputs: Array<{ name: string; size: number }>; result: Record<string, unknown> };
    expect(result.outputs).toEqual([{ name: 'loop_amen.opus', size: up!.body.byteLength }]);
    expect(JSON.stringify(s)).not.toContain(dir);
    // One line per state change, each with the submitting request's id; no URL query in any line.
    const lines = log.filter((l) => l.jobId === 'to-url');
    expect(lines.map((l) => l.state)).toEqual(['queued', 'active', 'completed']);
    expect(lines.every((l) => l.reqId === 'req-to-url' && l.op === 'transcode')).toBe(true);
    expect(JSON.stringify(log)).not.toContain('secret');
  });

  it('a ladder to a base URL appends each name before the query', async () => {
    const r = await submit({
      op: 'ladder',
      input: { url: `${files.url}/audio/illurock.opus` },
      presets: ['aac-64', 'mp3-128'],
      output: { url: `${uploads.url}/put/?sig=1`, method: 'POST' },
    });
    const s = await settled(r.body.id as string);
    expect(s.state).toBe('completed');
    expect(uploads.received.get('/put/illurock.aac-64.m4a?sig=1')?.type).toBe('audio/mp4');
    expect(uploads.received.get('/put/illurock.mp3-128.mp3')).toBeUndefined();
    expect(uploads.received.get('/put/illurock.mp3-128.mp3?sig=1')?.method).toBe('POST');
  });

  it('a folder output is committed whole, never over a folder that is not the job’s', async () => {
    const r = await submit({
      id: 'thumbs',
      op: 'thumbnails',
      input: { url: `${files.url}/video/realshort-h264-aac.mp4` },
      every: 1,
      output: { dir: 'shows/thumbs' },
    });
    expect((await settled(r.body.id as string)).state).toBe('completed');
    const names = (await readdir(join(root, 'shows', 'thumbs'))).sort();
    expect(names).toContain('.sandcodec-job.json');
    expect(names.some((n) => n.endsWith('.jpg'))).toBe(true);

    await mkdir(join(root, 'taken'));
    await writeFile(join(root, 'taken', 'mine.txt'), 'user data');
    const clash = await submit({ op: 'transcode', input: { url: `${files.url}/audio/loop_amen.flac` }, preset: 'flac', output: { dir: 'taken' } });
    const s = await settled(clash.body.id as string);
    expect(s.state).toBe('failed');
    expect((s.error as { code: string; message: string }).message).toMatch(/^output\.dir: taken already exists/);
    expect(await readdir(join(root, 'taken'))).toEqual(['mine.txt']);
    expect((await readdir(join(dir, 'work'))).length).toBe(0);
  });

  it('URL errors are typed: a 404 input is E_INPUT_INVALID, an input over maxInputBytes E_LIMIT (stopped while it streams)', async () => {
    const missing = await settled((await submit({ op: 'loudness', input: { url: `${files.url}/audio/none.flac` } })).body.id as string);
    expect(missing.state).toBe('failed');
    expect((missing.error as { code: string }).code).toBe('E_INPUT_INVALID');
    await writeFile(join(dir, 'big.wav'), new Uint8Array(2_500_000));
    const scratch = await fileServer(dir);
    try {
      const big = await settled((await submit({ op: 'loudness', input: { url: `${scratch.url}/big.wav` } })).body.id as string);
      expect(big.state).toBe('failed');
      expect(big.error).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxInputBytes', max: 2_000_000 } });
    } finally {
      await scratch.close();
    }
  });

  it('cancel: a running job stops and writes nothing', async () => {
    const r = await submit({
      id: 'cancel-me',
      op: 'transcode',
      input: { url: `${files.url}/audio/codec2-ve9qrp.wav` },
      preset: 'mp3-128',
      output: { dir: 'cancelled' },
    });
    expect(r.status).toBe(202);
    for (let i = 0; i < 100; i++) {
      if ((await json(await fetch(`${base}/v1/jobs/cancel-me`))).state === 'active') break;
      await sleep(10);
    }
    const del = await fetch(`${base}/v1/jobs/cancel-me`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const s = await settled('cancel-me');
    expect(s.state).toBe('cancelled');
    expect(await readdir(root)).not.toContain('cancelled');
  });

  it('/metrics: jobs by op and outcome, durations, queue depth, busy ratio, bytes, process memory', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^sandcodec_jobs_total\{op="transcode",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^sandcodec_jobs_total\{op="loudness",outcome="E_INPUT_INVALID"\} 1$/m);
    expect(text).toMatch(/^sandcodec_jobs_total\{op="transcode",outcome="E_ABORTED"\} 1$/m);
    expect(text).toMatch(/^sandcodec_job_duration_seconds_count\{op="ladder"\} 1$/m);
    expect(text).toMatch(/^sandcodec_queue_depth\{state="waiting"\} 0$/m);
    expect(text).toMatch(/^sandcodec_worker_busy_ratio [0-9.]+$/m);
    expect(text).toMatch(/^sandcodec_bytes_total\{direction="in"\} [1-9]/m);
    expect(text).toMatch(/^sandcodec_bytes_total\{direction="out"\} [1-9]/m);
    expect(text).toMatch(/^sandcodec_http_requests_total\{route="probe",status="413"\} [1-9]/m);
    expect(text).toMatch(/^sandcodec_process_resident_memory_bytes [1-9]/m);
  });
});

describe('drain', () => {
  it('readiness goes false, new work is refused 503, the running job finishes', async () => {
    const other = await startServer({ port: 0, workers: 1, allowHosts: '127.0.0.1', workDir: join(dir, 'work2'), logger: serviceLogger({ level: 'silent' }) });
    const url = `http://127.0.0.1:${other.port}`;
    const post = (body: object) => fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // Two minutes of speech to MP3: the job runs for a few seconds.
    const r = await post({
      id: 'long',
      op: 'transcode',
      input: { url: `${files.url}/audio/codec2-ve9qrp.wav` },
      preset: 'mp3-128',
      output: { url: `${uploads.url}/drain/{name}` },
    });
    expect(r.status).toBe(202);
    for (let i = 0; i < 100 && (await json(await fetch(`${url}/v1/jobs/long`))).state !== 'active'; i++) await sleep(10);
    const stopping = other.stop(30_000);
    await sleep(20);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    const refused = await post({ op: 'loudness', input: { url: `${files.url}/audio/loop_amen.flac` } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(code(await json(refused))).toBe('E_CLOSED');
    // The running job is still readable, and finishes.
    expect((await json(await fetch(`${url}/v1/jobs/long`))).state).toBe('active');
    // The service stops once the job has finished: its output was uploaded before the close.
    await stopping;
    expect(uploads.received.get('/drain/codec2-ve9qrp.mp3')?.body.byteLength).toBeGreaterThan(100_000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('the commands', () => {
  it('sandcodec serve prints its port with --json and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'serve', '--port', '0', '--json', '--workers', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let port: number | undefined;
    for (let i = 0; i < 200 && port === undefined; i++) {
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) port = Number(m[1]);
      else await sleep(50);
    }
    expect(port).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('sandcodec worker without --redis is a usage error naming the flag', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'worker'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
    expect(err).toMatch(/--redis/);
  });
});
