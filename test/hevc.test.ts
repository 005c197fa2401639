/**
 * Video decodes bit-exact inside the core: HEVC with B-frames (made with libx265, see
 * test/fixtures/made/README.md) and the corpus' H.264 and VP8 clips give, frame by frame, the
 * pictures native FFmpeg 5.1 gives (the `.framemd5` files beside the clips). The core once ran
 * on a call stack 8 bytes off the 16-byte alignment its code relies on: these decoders then gave
 * wrong pictures without a word, and HEVC with B-frames trapped with "memory access out of
 * bounds". Through the engine, every HEVC clip decodes and the pool keeps serving other jobs.
 * The bit-exact run is the stock core's, reused clip after clip as a worker reuses it; the built
 * cores decode the same clips in cores.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { CORPUS, frames, HEVC, made } from './helpers/framemd5.js';

describe('video decodes bit-exact in the core', () => {
  let core: FFmpegCore;

  beforeAll(async () => {
    const stock = resolveCore('stock');
    core = await FFmpegCore.create(await compileCore(stock), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 512 * 1024 * 1024,
      core: stock,
    });
  });

  // One core for every clip, in turn, as a worker reuses its core from job to job.
  const clips = [...HEVC.map(made), ...CORPUS].map((path) => ({ name: basename(path), path }));
  it.each(clips)('$name', async ({ name, path }) => {
    const expected = frames(await readFile(made(`${name}.framemd5`), 'utf8'));
    expect(expected.length).toBeGreaterThan(20);
    const input = `/${name}`;
    core.FS.writeFile(input, await readFile(path));
    try {
      await core.exec(['-hide_banner', '-loglevel', 'error', '-threads', '1', '-i', input, '-map', '0:v:0', '-f', 'framemd5', '/frames.txt']);
      const exists = core.FS.analyzePath('/frames.txt').exists;
      expect(exists, 'the decode wrote its frame checksums').toBe(true);
      const decoded = frames(core.FS.readFile('/frames.txt', { encoding: 'utf8' }) as string);
      core.FS.unlink('/frames.txt');
      const firstWrong = decoded.findIndex((f, i) => f !== expected[i]);
      expect(firstWrong, `first frame that differs from native FFmpeg's (of ${expected.length})`).toBe(-1);
      expect(decoded.length).toBe(expected.length);
    } finally {
      core.FS.unlink(input);
    }
  });
});

describe('HEVC through the engine', () => {
  let engine: Engine;

  beforeAll(async () => {
    engine = await createEngine({ workers: 1 });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('decodes every HEVC clip, then serves an H.264 and an audio job on the same worker', async () => {
    for (const name of HEVC.slice(0, 5)) {
      const probe = await engine.probe({ path: made(name) }, { decode: true });
      expect(probe.streams[0], name).toMatchObject({ type: 'video', codec: 'hevc', width: 320, height: 240 });
      // 25 frames at 25 fps.
      expect(probe.decodedDuration, name).toBeCloseTo(1, 1);
    }
    const h264 = await engine.probe({ path: CORPUS[0]! }, { decode: true });
    expect(h264.decodedDuration).toBeGreaterThan(1.1);
    const tone = await engine.generate({ kind: 'sine', seconds: 1, sampleRate: 48000, channels: 2, preset: 'wav' });
    const opus = await engine.transcode(tone.bytes!, { preset: 'opus-96' });
    expect(opus.codec).toBe('opus');
  });
});
