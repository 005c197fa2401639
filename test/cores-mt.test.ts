/**
 * The multithreaded core (`gpl-mt`) as the engine uses it: `videoThreads` runs the package's video
 * jobs on it with that many threads while probing and audio stay on the single-thread core; x264
 * really encodes with the threads asked for; a thread that dies fails its run with a typed error
 * instead of hanging it, and the engine keeps serving. (test/cores.test.ts runs the conformance
 * suite on this core as on every committed one.)
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, OptionsError, type PackageResult } from '../dist/index.js';
import { compileCore } from '../dist/pool/core-module.js';
import { builtCoresDir, resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';
import { checkPackage } from './helpers/package-check.js';

const MT = join(builtCoresDir(), 'gpl-mt');
const shipped = existsSync(join(MT, 'ffmpeg-core.worker.cjs'));

describe.runIf(shipped)('the multithreaded core', () => {
  let dir: string;
  let source: string;
  let threaded: Engine;
  let single: Engine;

  beforeAll(async () => {
    dir = await makeTempDir('sandcodec-mt-');
    threaded = await createEngine({ workers: 1, videoThreads: 2 });
    single = await createEngine({ workers: 1 });
    source = (await single.generateVideo({ seconds: 4, width: 640, height: 360, frameRate: 30, output: join(dir, 'source.mp4') })).path!;
  });

  afterAll(async () => {
    await threaded?.close();
    await single?.close();
    await removeTempDir(dir);
  });

  /** x264's options as it writes them into the stream (its SEI): what the encoder really ran with. */
  const x264Options = (bytes: Uint8Array) => /options: ([^\0]*?)\0/.exec(Buffer.from(bytes).toString('latin1'))?.[1] ?? '';

  it('x264 encodes with the threads a run is given, and both encodes decode through', async () => {
    const files = resolveCore('gpl-mt');
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 512 * 1024 ** 2,
      core: files,
    });
    const encode = async (threads: number) => {
      core.setHeapBudget(512 * 1024 ** 2);
      core.setThreads(threads);
      const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=2'];
      args.push('-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-threads', String(threads), '-f', 'mp4', '/out.mp4');
      const exit = await core.exec(args);
      expect(exit.code, `${threads} thread(s)`).toBe(0);
      return core.FS.readFile('/out.mp4') as Uint8Array;
    };
    const one = await encode(1);
    const two = await encode(2);
    expect(x264Options(one)).toMatch(/ threads=1 /);
    expect(x264Options(two)).toMatch(/ threads=2 /);
    // Frame threads change the bitstream, not what it shows: both decode to 60 frames.
    for (const stream of [one, two]) {
      const probe = await single.probe({ data: stream, name: 'out.mp4' }, { decode: true });
      expect(probe.streams[0]?.codec).toBe('h264');
      expect(probe.decodedDuration).toBeCloseTo(2, 1);
    }
  });

  it('videoThreads packages the ladder on it: the same renditions, segments and durations as one thread', async () => {
    const options = { video: ['360p', '240p'], audio: ['aac-64'], segmentDuration: 2 };
    const plan = await threaded.planPackage({ path: source }, options);
    expect(plan.videoThreads).toBe(2);
    const run = async (engine: Engine, name: string): Promise<PackageResult> => engine.package({ path: source }, { ...options, outputDir: join(dir, name) });
    const [two, one] = [await run(threaded, 'two'), await run(single, 'one')];
    const [a, b] = [checkPackage(two, 1 / 30), checkPackage(one, 1 / 30)];
    expect(a.tracks.map((t) => [t.track.id, t.starts.length, t.seconds.toFixed(3)])).toEqual(
      b.tracks.map((t) => [t.track.id, t.starts.length, t.seconds.toFixed(3)]),
    );
    for (const t of a.tracks.filter((x) => x.track.kind === 'video')) {
      expect(x264Options(t.joined), t.track.id).toMatch(/ threads=2 /);
      const decoded = await single.probe({ data: t.joined, name: 'rendition.mp4' }, { decode: true });
      expect(decoded.decodedDuration!, t.track.id).toBeCloseTo(4, 1);
    }
  });

  it('a plan made with threads runs only on an engine with the same videoThreads', async () => {
    const plan = await threaded.planPackage({ path: source }, { video: ['240p'], audio: [], segmentDuration: 2 });
    const video = plan.jobs.find((j) => j.kind === 'video')!;
    const err = await single.runChunk({ path: source }, plan, video.id, { outputDir: join(dir, 'chunk') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_UNSUPPORTED', message: expect.stringMatching(/videoThreads/) });
  });

  it('refuses videoThreads where no multithreaded core goes with the core, naming the option', async () => {
    await expect(createEngine({ core: 'stock', videoThreads: 2 })).rejects.toThrow(OptionsError);
    await expect(createEngine({ core: 'stock', videoThreads: 2 })).rejects.toThrow(/^videoThreads: /);
    await expect(createEngine({ videoThreads: 0 })).rejects.toThrow(/^videoThreads: /);
    await expect(createEngine({ videoThreads: 17 })).rejects.toThrow(/^videoThreads: /);
  });

  it('a thread that dies fails its run with a typed error, never a hang, and the engine keeps serving', async () => {
    // The core as shipped, but each thread's script dies as it starts, as a trap inside a thread would.
    const broken = join(dir, 'broken-mt');
    mkdirSync(broken);
    for (const f of ['ffmpeg-core.cjs', 'ffmpeg-core.wasm', 'BUILD_ENV.txt']) copyFileSync(join(MT, f), join(broken, f));
    writeFileSync(join(broken, 'ffmpeg-core.worker.cjs'), "throw new WebAssembly.RuntimeError('unreachable (a trap in a thread)');\n");
    const engine = await createEngine({ workers: 1, core: broken });
    try {
      for (let i = 0; i < 2; i++) {
        const err = await engine.probe({ path: media('audio', 'loop_amen.flac') }).catch((e: unknown) => e);
        expect(err, `call ${i + 1}`).toMatchObject({ code: 'E_FFMPEG', message: expect.stringMatching(/crashed inside its sandbox: .*a trap in a thread/) });
      }
    } finally {
      await engine.close();
    }
    expect((await threaded.probe({ path: media('audio', 'loop_amen.flac') })).format).toBe('flac');
  });

  it('stops a running threaded encode when the call is aborted', async () => {
    const controller = new AbortController();
    const err = await threaded
      .package(
        { path: source },
        {
          video: ['360p'],
          audio: [],
          segmentDuration: 2,
          outputDir: join(dir, 'aborted'),
          signal: controller.signal,
          // Aborted once the encode is under way on its threads.
          onProgress: (p) => {
            if (p.seconds > 0) controller.abort();
          },
        },
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_ABORTED' });
    expect(existsSync(join(dir, 'aborted'))).toBe(false);
    expect((await threaded.probe({ path: source })).streams[0]?.codec).toBe('h264');
  });
});

describe.skipIf(shipped)('the multithreaded core (not in this checkout)', () => {
  it.skip('is built by npm run build:core -- --profile gpl --variant mt', () => {});
});
