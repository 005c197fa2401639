/**
 * The call lifecycle's limits: the queue is checked before an input stream is read, `timeoutMs`
 * covers spooling, streams spool into `spoolDir` and a spool that cannot be written is `E_IO`;
 * durations are checked right after the probe for every operation, thumbnails included, and a
 * header's duration cannot make a call name more outputs than `maxImages`.
 */

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';
import { withMovieDuration } from './helpers/mp4.js';

const run = promisify(execFile);

let engine: Engine;
let dir: string;
let clip: Uint8Array;
let song: Uint8Array;

beforeAll(async () => {
  dir = await makeTempDir();
  engine = await createEngine({ workers: 2, spoolDir: dir });
  clip = (await engine.generateVideo({ seconds: 2, width: 320, height: 180, frameRate: 15 })).bytes!;
  song = (await engine.generate({ kind: 'music', seconds: 2, preset: 'flac' })).bytes!;
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

/** A stream that sends `head` and then nothing, ever (a stalled upload); `reads` counts pulls. */
function stalled(head: Uint8Array): Readable & { reads: number } {
  let sent = false;
  const stream = new Readable({
    read() {
      stream.reads++;
      if (!sent) {
        sent = true;
        this.push(head);
      }
    },
  }) as Readable & { reads: number };
  stream.reads = 0;
  return stream;
}

describe('spooling inside the limits', () => {
  it('a stalled upload times out (timeoutMs covers spooling) and leaves no spool file', async () => {
    const err = await failure(engine.probe(stalled(song.subarray(0, 1000)), { limits: { timeoutMs: 300 } }));
    expect(err.code).toBe('E_TIMEOUT');
    expect(await readdir(dir)).toEqual([]);
  });

  it('spools into spoolDir, and removes the spool when the call ends', async () => {
    const seen = new Set<string>();
    const probe = await engine.probe(Readable.from([song]), {
      decode: true,
      onProgress: () => {
        for (const name of readdirSync(dir)) seen.add(name);
      },
    });
    expect(probe.format).toBe('flac');
    expect([...seen].some((name) => /^\.spool\.sandcodec-[0-9a-f]{6}-\d+-[0-9a-f]{8}\.part$/.test(name))).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('the queue is checked before a stream is read', async () => {
    const small = await createEngine({ workers: 1, maxQueue: 0, spoolDir: dir });
    try {
      // One long call holds the only place.
      const busy = failure(small.generate({ kind: 'noise', seconds: 600, preset: 'flac' }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const upload = stalled(song);
      const err = await failure(small.probe(upload));
      expect(err.code).toBe('E_QUEUE_FULL');
      expect(upload.reads).toBe(0);
      // Closing stops the long call at once rather than waiting for it.
      await small.close();
      expect((await busy).code).toBe('E_CLOSED');
    } finally {
      await small.close();
    }
  });

  it('a spool folder that cannot be written is E_IO naming spoolDir', async () => {
    const broken = await createEngine({ workers: 1, spoolDir: join(dir, 'missing', 'folder') });
    try {
      const err = await failure(broken.probe(Readable.from([song])));
      expect(err.code).toBe('E_IO');
      expect(err.message).toMatch(/spoolDir/);
    } finally {
      await broken.close();
    }
  });
});

describe('the permission model', () => {
  it('a denied spool write and a denied output are E_IO, never a raw Node error', async () => {
    // A process allowed to read everything and write nothing: the spool and the output are refused.
    const script = `
      import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
      import { createEngine, SandcodecError } from ${JSON.stringify(join(repoRoot, 'dist', 'index.js'))};
      const engine = await createEngine({ workers: 1 });
      const results = [];
      for (const call of [
        () => engine.probe(Readable.from([new Uint8Array(4096)])),
        () => engine.generate({ kind: 'sine', seconds: 1, preset: 'wav', output: ${JSON.stringify(join(dir, 'denied', 'x.wav'))} }),
      ]) {
        const err = await call().then(() => null, (e) => e);
        results.push(err instanceof SandcodecError ? err.code : String(err));
      }
      await engine.close();
      console.log(JSON.stringify(results));
    `;
    const { stdout } = await run(process.execPath, ['--experimental-permission', '--allow-fs-read=*', '--allow-worker', '--input-type=module', '-e', script]);
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual(['E_IO', 'E_IO']);
  });
});

describe('durations from the header, bounded before anything is named', () => {
  it('an MP4 claiming 136 years is E_LIMIT for thumbnails, before any output exists', async () => {
    const lie = withMovieDuration(clip, 1, 0xffffffff);
    expect((await engine.probe(lie)).duration).toBeGreaterThan(4e9);
    const out = join(dir, 'years');
    const err = await failure(engine.thumbnails(lie, { outputDir: out }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.details.limit).toBe('maxDurationSeconds');
    expect(existsSync(out)).toBe(false);
  });

  it('one claiming 49 days, with the duration limit raised, is held to maxImages', async () => {
    const lie = withMovieDuration(clip, 1000, 0xffffffff);
    const out = join(dir, 'days');
    const err = await failure(engine.thumbnails(lie, { outputDir: out, limits: { maxDurationSeconds: 60 * 24 * 3600 } }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.details.limit).toBe('maxImages');
    expect(existsSync(out)).toBe(false);
  });

  it('every operation that decodes checks the duration right after the probe', async () => {
    const lie = withMovieDuration(clip, 1, 0xffffffff);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['probe --decode', () => engine.probe(lie, { decode: true })],
      ['transcode', () => engine.transcode(lie, { preset: 'wav' })],
      ['loudness', () => engine.loudness(lie)],
      ['peaks', () => engine.peaks(lie)],
      ['package', () => engine.package(lie, { outputDir: join(dir, 'pkg'), video: ['240p'] })],
    ];
    for (const [name, call] of calls) {
      const err = await failure(call());
      expect(`${name}: ${err.code} ${err.details.limit}`).toBe(`${name}: E_LIMIT maxDurationSeconds`);
    }
    // Reading the headers is free: a plain probe reports what they claim.
    expect((await engine.probe(lie)).duration).toBe(0xffffffff);
  });

  it('peaks at the finest resolution over a long duration are E_LIMIT up front, not a RangeError after gigabytes', async () => {
    // Five hours (under the six-hour default) at 10000 columns a second: 180 million columns.
    const lie = withMovieDuration(clip, 1, 5 * 3600);
    const err = await failure(engine.peaks(lie, { pixelsPerSecond: 10000 }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.details.limit).toBe('maxReturnedBytes');
    // The same bound, lowered, holds a real decode to it.
    const small = await failure(engine.peaks(song, { pixelsPerSecond: 10000, limits: { maxReturnedBytes: 64 * 1024 } }));
    expect(small.details.limit).toBe('maxReturnedBytes');
    expect((await engine.peaks(song, { pixelsPerSecond: 10000 })).length).toBeGreaterThan(19_000);
  });

  it('a video shorter than `every` still gets its first frame', async () => {
    const result = await engine.thumbnails(clip, { outputDir: join(dir, 'short'), every: 10, sprite: false });
    expect(result.images.map((i) => i.time)).toEqual([0]);
    expect(existsSync(result.images[0]!.path)).toBe(true);
  });
});
