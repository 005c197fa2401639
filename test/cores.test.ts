/**
 * Conformance of every FFmpeg core committed under wasm-build/dist/: the engine runs its main jobs
 * on it as it does on the stock core — probe of every fixture, every audio preset, a resize, an
 * H.264 ladder rung packaged as HLS, a loudness scan — with the stock core's results as the oracle.
 * Also what each build adds (AV1 through dav1d, HEVC with B-frames bit-exact) and what it promises
 * the engine: no network imports, no process listeners per instance, a heap that stops at the
 * job's budget, and cancellation inside a run.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIO_PRESET_NAMES, createEngine, type Engine, type ProbeResult, type SandcodecError } from '../dist/index.js';
import { compileCore } from '../dist/pool/core-module.js';
import { builtCoresDir, describeCore, resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { CORPUS, frames, HEVC, made } from './helpers/framemd5.js';
import { psnr, sharpRgba } from './helpers/image.js';
import { makeTempDir, media, mediaDir, removeTempDir } from './helpers/media.js';
import { syncSamples } from './helpers/mp4.js';
import { checkPackage } from './helpers/package-check.js';

const cores = readdirSync(builtCoresDir()).filter((name) => statSync(join(builtCoresDir(), name)).isDirectory());
const fixtures = (['audio', 'video', 'image'] as const).flatMap((kind) =>
  readdirSync(join(mediaDir, kind))
    .filter((f) => !f.startsWith('.'))
    .map((f) => ({ kind, file: f, path: media(kind, f) })),
);

let stock: Engine;
let dir: string;

beforeAll(async () => {
  stock = await createEngine({ workers: 1, core: 'stock' });
  dir = await makeTempDir('sandcodec-cores-');
});

afterAll(async () => {
  await stock?.close();
  await removeTempDir(dir);
});

/** What must agree between two probes of one file: container, duration, and each stream's essentials. */
function essentials(p: ProbeResult) {
  return {
    format: p.format,
    duration: p.duration === null ? null : Math.round(p.duration * 1000),
    streams: p.streams.map((s) => ({ type: s.type, codec: s.codec, sampleRate: s.sampleRate, channels: s.channels, width: s.width, height: s.height })),
  };
}

describe.each(cores)('core %s', (name) => {
  let engine: Engine;

  beforeAll(async () => {
    engine = await createEngine({ workers: 2, core: name });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it('probes every fixture as the stock core does', async () => {
    for (const { file, path } of fixtures) {
      const [ours, theirs] = await Promise.all([engine.probe({ path }), stock.probe({ path })]);
      expect(essentials(ours), file).toEqual(essentials(theirs));
    }
  });

  it('encodes every audio preset as the stock core does: codec, rate, duration, loudness and peaks', async () => {
    const source = { path: media('audio', 'ambi_lunar_land.flac') };
    for (const preset of AUDIO_PRESET_NAMES) {
      const [ours, theirs] = await Promise.all([engine.transcode(source, { preset }), stock.transcode(source, { preset })]);
      const [a, b] = await Promise.all([stock.probe(ours.bytes!, { decode: true }), stock.probe(theirs.bytes!, { decode: true })]);
      expect(essentials(a), preset).toEqual(essentials(b));
      expect(a.decodedDuration!, preset).toBeCloseTo(b.decodedDuration!, 2);
      // Same encoder versions, same settings: what a listener hears must not move. (A libvorbis
      // built with -ffast-math came out 0.4 LU louder with peaks 0.5 dB higher.)
      const [la, lb] = await Promise.all([stock.loudness(ours.bytes!), stock.loudness(theirs.bytes!)]);
      expect(Math.abs(la.integrated! - lb.integrated!), `${preset} integrated loudness`).toBeLessThan(0.05);
      expect(Math.abs(la.truePeak - lb.truePeak), `${preset} true peak`).toBeLessThan(0.2);
    }
  });

  it('resizes a photo to PNG, JPEG and WebP with the stock core’s pixels', async () => {
    const photo = { path: media('image', 'renpy-washington.jpg') };
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const [ours, theirs] = await Promise.all([engine.resize(photo, { width: 300, format }), stock.resize(photo, { width: 300, format })]);
      expect([ours.width, ours.height], format).toEqual([theirs.width, theirs.height]);
      const similarity = psnr(await sharpRgba(ours.bytes!), await sharpRgba(theirs.bytes!));
      expect(similarity, format).toBeGreaterThan(format === 'png' ? 60 : 40);
    }
  });

  it('packages an H.264 rung and AAC as HLS and DASH that play through', async () => {
    const generated = await engine.generateVideo({ seconds: 4, width: 640, height: 360, frameRate: 30, output: join(dir, `${name}-source.mp4`) });
    const pkg = await engine.package(
      { path: generated.path! },
      { video: ['240p'], audio: ['aac-128'], segmentDuration: 2, outputDir: join(dir, `${name}-pkg`) },
    );
    expect(pkg.video.map((v) => [v.id, v.codecs])).toEqual([['240p', expect.stringMatching(/^avc1\./)]]);
    expect(pkg.audio.map((a) => [a.id, a.codecs])).toEqual([['aac-128', 'mp4a.40.2']]);
    // Box by box, segment by segment, both manifests (helpers/package-check.ts).
    const checked = checkPackage(pkg, 1 / 30);
    expect(checked.tracks.length).toBe(2);
    expect(checked.master).toBeDefined();
    expect(pkg.duration).toBeCloseTo(4, 1);
    // The rendition as a player reads it (init segment, then the media segments) decodes through.
    for (const { track, joined } of checked.tracks) {
      const decoded = await stock.probe(joined, { decode: true });
      expect(decoded.decodedDuration!, track.id).toBeCloseTo(track.duration, 1);
    }
  });

  it('measures loudness as the stock core does', async () => {
    const input = { path: media('audio', 'ambi_lunar_land.flac') };
    const [ours, theirs] = await Promise.all([engine.loudness(input), stock.loudness(input)]);
    expect(ours.integrated).toBeCloseTo(theirs.integrated!, 2);
    expect(ours.truePeak).toBeCloseTo(theirs.truePeak, 2);
  });

  it('decodes HEVC with B-frames, H.264 and VP8 bit-exact: native FFmpeg’s frames, one run per instance', async () => {
    const files = resolveCore(name);
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 512 * 1024 ** 2,
      core: files,
    });
    for (const path of [...HEVC.map(made), ...CORPUS]) {
      const clip = basename(path);
      const expected = frames(await readFile(made(`${clip}.framemd5`), 'utf8'));
      // Each run starts with setHeapBudget: a fresh instance, then the clip goes into its FS.
      core.setHeapBudget(512 * 1024 ** 2);
      core.FS.writeFile(`/${clip}`, await readFile(path));
      // The build has no framemd5 muxer: the raw frames, hashed here as framemd5 hashes them.
      const exit = await core.exec([
        '-hide_banner',
        '-loglevel',
        'error',
        '-threads',
        '1',
        '-i',
        `/${clip}`,
        '-map',
        '0:v:0',
        '-c:v',
        'rawvideo',
        '-f',
        'rawvideo',
        '/frames.raw',
      ]);
      expect(exit.code, clip).toBe(0);
      const raw = core.FS.readFile('/frames.raw') as Uint8Array;
      const size = Number(expected[0]!.split(' ')[0]);
      const decoded: string[] = [];
      for (let at = 0; at + size <= raw.length; at += size)
        decoded.push(
          `${size} ${createHash('md5')
            .update(raw.subarray(at, at + size))
            .digest('hex')}`,
        );
      expect(
        decoded.findIndex((f, i) => f !== expected[i]),
        `${clip}: first frame that differs from native FFmpeg's`,
      ).toBe(-1);
      expect(decoded.length, clip).toBe(expected.length);
    }
  });

  it('is built as its licence says: an LGPL build has no GPL component, by FFmpeg’s own configuration line', async () => {
    const files = resolveCore(name);
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 256 * 1024 ** 2,
      core: files,
    });
    const lines: string[] = [];
    core.setRecordSink((r) => lines.push(r.text));
    // The banner (stderr) carries the configure line the library was built with.
    expect((await core.exec(['-loglevel', 'info', '-f', 'lavfi', '-i', 'anullsrc', '-t', '0.01', '-f', 'null', '-'])).code).toBe(0);
    const configuration = lines.find((l) => l.includes('configuration:'));
    expect(configuration, lines.slice(0, 5).join('')).toBeDefined();
    const stated = describeCore(files);
    if (name.startsWith('lgpl')) {
      expect(configuration).not.toContain('--enable-gpl');
      expect(configuration).not.toContain('libx264');
      expect(configuration).toContain('--enable-libopenh264');
      expect(stated.licence).toBe('LGPL version 2.1 or later');
      expect(stated.components!.encoders).toContain('libopenh264');
      expect(stated.components!.encoders).not.toContain('libx264');
      expect(files.h264Encoder).toBe('libopenh264');
    } else {
      expect(configuration).toContain('--enable-gpl');
      expect(configuration).toContain('--enable-libx264');
      expect(stated.licence).toBe('GPL version 2 or later');
      expect(files.h264Encoder).toBe('libx264');
    }
  });

  it.runIf(resolveCore(name).h264Encoder === 'libopenh264')(
    'encodes H.264 with OpenH264: an IDR at every forced key frame and nowhere else, at the rate asked',
    async () => {
      const source = await readFile(
        (await stock.generateVideo({ seconds: 4, width: 640, height: 360, frameRate: 30, output: join(dir, `${name}-openh264-source.mp4`) })).path!,
      );
      const files = resolveCore(name);
      const core = await FFmpegCore.create(await compileCore(files), {
        cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
        heapBudget: 512 * 1024 ** 2,
        core: files,
      });
      core.FS.writeFile('/in.mp4', source);
      // The package's own arguments for a rung (a forced IDR every 45 frames), at 1 Mbit/s.
      const args = ['-hide_banner', '-loglevel', 'error', '-i', '/in.mp4', '-an', '-c:v', 'libopenh264', '-profile:v', 'high', '-rc_mode', 'bitrate'];
      args.push(
        '-b:v',
        '1000000',
        '-maxrate',
        '1100000',
        '-allow_skip_frames',
        '0',
        '-g',
        '0',
        '-force_key_frames',
        'expr:gte(n,n_forced*45)',
        '-f',
        'mp4',
        '/out.mp4',
      );
      // Before OpenH264's ForceIntraFrame took the C interface's one argument, this trapped in wasm.
      expect((await core.exec(args)).code).toBe(0);
      const encoded = core.FS.readFile('/out.mp4') as Uint8Array;
      const probe = await stock.probe(encoded, { decode: true });
      expect(probe.streams.map((s) => [s.codec, s.width, s.height])).toEqual([['h264', 640, 360]]);
      expect(probe.decodedDuration).toBeCloseTo(4, 1);
      expect(syncSamples(encoded)).toEqual([1, 46, 91]);
      const kbps = (encoded.length * 8) / 4 / 1000;
      expect(kbps).toBeGreaterThan(700);
      expect(kbps).toBeLessThan(1300);
    },
  );

  it.runIf(resolveCore(name).h264Encoder === 'libx264')('encodes H.264 with x264 as the stock core does: size and PSNR at the same settings', async () => {
    const source = await readFile(
      (await stock.generateVideo({ seconds: 2, width: 640, height: 360, frameRate: 30, output: join(dir, `${name}-x264-source.mp4`) })).path!,
    );
    const encode = async (files: ReturnType<typeof resolveCore>) => {
      const core = await FFmpegCore.create(await compileCore(files), {
        cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
        heapBudget: 512 * 1024 ** 2,
        core: files,
      });
      core.FS.writeFile('/in.mp4', source);
      const args = [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        '/in.mp4',
        '-an',
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-crf',
        '26',
        '-f',
        'mp4',
        '/out.mp4',
      ];
      expect((await core.exec(args)).code, files.name).toBe(0);
      return core.FS.readFile('/out.mp4') as Uint8Array;
    };
    const [ours, theirs] = [await encode(resolveCore(name)), await encode(resolveCore('stock'))];
    // PSNR against the source, measured by the stock core's psnr filter for both.
    const psnrOf = async (encoded: Uint8Array) => {
      const files = resolveCore('stock');
      const core = await FFmpegCore.create(await compileCore(files), {
        cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
        heapBudget: 512 * 1024 ** 2,
        core: files,
      });
      core.FS.writeFile('/src.mp4', source);
      core.FS.writeFile('/enc.mp4', encoded);
      const lines: string[] = [];
      core.setRecordSink((r) => lines.push(r.text));
      await core.exec(['-hide_banner', '-loglevel', 'info', '-i', '/enc.mp4', '-i', '/src.mp4', '-lavfi', 'psnr', '-f', 'null', '-']);
      const m = /PSNR .*average:([\d.]+)/.exec(lines.join('\n'));
      expect(m, lines.slice(-5).join('\n')).not.toBeNull();
      return Number(m![1]);
    };
    const [ourPsnr, theirPsnr] = [await psnrOf(ours), await psnrOf(theirs)];
    expect(ourPsnr).toBeGreaterThan(35);
    expect(Math.abs(ourPsnr - theirPsnr)).toBeLessThan(0.3);
    expect(Math.abs(ours.length / theirs.length - 1)).toBeLessThan(0.05);
  });

  it('runs its SIMD128 kernels bit-exact with their C versions: scaling noise and an x264 encode, either way the same bytes', async () => {
    const files = resolveCore(name);
    const module = await compileCore(files);
    // Ten frames of noise: every filter tap sees extremes, which is where an overflow or a
    // clip that differs from C would show.
    const width = 320;
    const height = 240;
    const yuv = new Uint8Array(((width * height * 3) / 2) * 10);
    let seed = 12345;
    for (let i = 0; i < yuv.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      yuv[i] = seed >>> 24;
    }
    const run = async (args: string[]) => {
      const core = await FFmpegCore.create(module, { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: 512 * 1024 ** 2, core: files });
      core.FS.writeFile('/in.yuv', yuv);
      const lines: string[] = [];
      core.setRecordSink((r) => lines.push(r.text));
      const input = ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-r', '10', '-i', '/in.yuv'];
      const exit = await core.exec([
        '-hide_banner',
        '-loglevel',
        'info',
        ...args.slice(0, args.indexOf('--')),
        ...input,
        ...args.slice(args.indexOf('--') + 1),
      ]);
      expect(exit.code, lines.slice(-5).join('')).toBe(0);
      return { bytes: core.FS.readFile('/out') as Uint8Array, log: lines.join('') };
    };
    const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
    // swscale: SIMD128 by default, C with -cpuflags 0.
    for (const vf of ['scale=640:360:flags=bicubic', 'scale=160:90:flags=bicubic', 'scale=427:241:flags=lanczos', 'scale=200:150:flags=bilinear']) {
      const out = ['--', '-vf', vf, '-f', 'rawvideo', '/out'];
      const [simd, c] = [await run(out), await run(['-cpuflags', '0', ...out])];
      expect(simd.bytes.length, vf).toBeGreaterThan(0);
      expect(md5(simd.bytes), vf).toBe(md5(c.bytes));
    }
    if (files.h264Encoder !== 'libx264') return;
    // x264: its SIMD128 functions, or its C ones with asm=0.
    const enc = (params: string) => ['--', '-c:v', 'libx264', '-preset', 'veryfast', '-threads', '1', '-x264-params', params, '-f', 'rawvideo', '/out'];
    const [simd, c] = [await run(enc('keyint=5')), await run(enc('keyint=5:asm=0'))];
    expect(simd.log).toMatch(/using cpu capabilities: SIMD128/);
    expect(c.log).toMatch(/using cpu capabilities: none!/);
    expect(simd.bytes.length).toBeGreaterThan(10_000);
    expect(md5(simd.bytes)).toBe(md5(c.bytes));
  });

  it('decodes AV1 with dav1d, and an AVIF still (HEIF items) to native FFmpeg’s pixels', async () => {
    const probe = await engine.probe({ path: made('av1-64x64-1s.mp4') }, { decode: true });
    expect(probe.streams.map((s) => [s.codec, s.width, s.height])).toEqual([['av1', 64, 64]]);
    expect(probe.decodedDuration).toBeCloseTo(1, 1);
    // FFmpeg 5.1's mov demuxer reads an AVIF's primary item; dav1d decodes it bit-exact.
    const still = made('avif-coffee-320.avif');
    const avif = await engine.probe({ path: still }, { decode: true });
    expect([avif.format, ...avif.streams.map((s) => [s.codec, s.width, s.height])]).toEqual([expect.stringContaining('mov'), ['av1', 320, 214]]);
    const files = resolveCore(name);
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 256 * 1024 ** 2,
      core: files,
    });
    core.FS.writeFile('/still.avif', await readFile(still));
    const exit = await core.exec([
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      '/still.avif',
      '-map',
      '0:v:0',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '/still.yuv',
    ]);
    expect(exit.code).toBe(0);
    const raw = core.FS.readFile('/still.yuv') as Uint8Array;
    const [expected] = frames(await readFile(made('avif-coffee-320.avif.framemd5'), 'utf8'));
    expect(`${raw.length} ${createHash('md5').update(raw).digest('hex')}`).toBe(expected);
  });

  it('has no network imports, and its instances add no process listeners', async () => {
    const files = resolveCore(name);
    const module = await compileCore(files);
    const imports = WebAssembly.Module.imports(module).map((i) => i.name);
    expect(imports.filter((n) => /socket|connect|getaddrinfo|gethostby|bind|listen|accept|sendto|recvfrom/.test(n))).toEqual([]);
    const events = ['uncaughtException', 'unhandledRejection', 'exit'] as const;
    const before = events.map((e) => process.listenerCount(e));
    for (let i = 0; i < 5; i++) {
      const core = await FFmpegCore.create(module, { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: 128 * 1024 ** 2, core: files });
      expect((await core.exec(['-hide_banner', '-f', 'lavfi', '-i', 'sine=duration=0.1', '-f', 'null', '-'])).code).toBe(0);
    }
    expect(events.map((e) => process.listenerCount(e))).toEqual(before);
  });

  it('refuses heap growth past the job’s budget with a typed limit error, and keeps serving', async () => {
    const err = await engine
      .transcode({ path: media('video', 'realshort-h264-aac.mp4') }, { preset: 'wav', limits: { maxHeapBytes: 64 * 1024 ** 2 } })
      .then(() => undefined)
      .catch((e: unknown) => e);
    // 64 MiB holds this small job; a job that needs more is refused (limits.test.ts runs the big ones).
    if (err) expect(err).toMatchObject({ code: 'E_LIMIT', limit: 'maxHeapBytes' });
    const files = resolveCore(name);
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 64 * 1024 ** 2,
      core: files,
    });
    // 4096×4096 RGBA frames: 64 MiB each, more than the whole budget.
    const exit = await core.exec(['-hide_banner', '-f', 'lavfi', '-i', 'testsrc2=size=4096x4096:duration=0.1', '-pix_fmt', 'rgba', '-f', 'null', '-']);
    expect(exit.code).not.toBe(0);
    expect(core.heapRefused).toBe(true);
    expect(core.heapBytes).toBeLessThanOrEqual(64 * 1024 ** 2);
    expect((await engine.probe({ path: media('audio', 'illurock.opus') })).format).toBe('ogg');
  });

  it('stops a running job when its cancel flag is raised', async () => {
    const files = resolveCore(name);
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const core = await FFmpegCore.create(await compileCore(files), { cancelFlag: flag, heapBudget: 256 * 1024 ** 2, core: files });
    // The flag is up before the run: the transcode loop stops at its first turn instead of encoding an hour.
    Atomics.store(flag, 0, 1);
    const exit = await core.exec(['-hide_banner', '-f', 'lavfi', '-i', 'sine=duration=3600', '-c:a', 'flac', '-f', 'null', '-']);
    // 255 is fftools' status for a run ended by a signal: the flag acted as SIGTERM.
    expect(exit.code).toBe(255);
  });
});

describe.runIf(cores.includes('lgpl-st'))('an engine on the lgpl core', () => {
  let lgpl: Engine;
  let source: string;

  beforeAll(async () => {
    lgpl = await createEngine({ workers: 2, core: 'lgpl' });
    source = join(dir, 'lgpl-engine-source.mp4');
    await lgpl.generateVideo({ seconds: 4, width: 640, height: 360, frameRate: 25, output: source });
  });

  afterAll(async () => {
    await lgpl?.close();
  });

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as SandcodecError,
    );

  it('makes its own sources with OpenH264, 4:2:0 only', async () => {
    const probe = await stock.probe({ path: source }, { decode: true });
    expect(probe.streams.map((s) => [s.type, s.codec])).toEqual([
      ['video', 'h264'],
      ['audio', 'aac'],
    ]);
    expect(probe.decodedDuration).toBeCloseTo(4, 1);
    const refused = await failure(lgpl.generateVideo({ seconds: 1, pixelFormat: 'yuv444p' }));
    expect([refused?.code, refused?.details.option]).toEqual(['E_OPTIONS', 'pixelFormat']);
  });

  it('refuses x264 settings, and runs a plan’s video jobs only for a core with the plan’s encoder', async () => {
    const preset = await failure(lgpl.package({ path: source }, { x264Preset: 'fast', outputDir: join(dir, 'lgpl-x264') }));
    expect([preset?.code, preset?.details.option]).toEqual(['E_OPTIONS', 'x264Preset']);
    const options = { video: ['240p'], audio: ['aac-64'], segmentDuration: 2, chunkSeconds: 2 };
    const plan = await lgpl.planPackage({ path: source }, options);
    expect([plan.videoEncoder, plan.x264Preset]).toEqual(['libopenh264', null]);
    const video = plan.jobs.find((j) => j.kind === 'video')!;
    const elsewhere = await failure(stock.runChunk({ path: source }, plan, video.id, { outputDir: join(dir, 'lgpl-elsewhere') }));
    expect(elsewhere?.code).toBe('E_UNSUPPORTED');
    // Jobs on the lgpl engine, the stitch on the stock one: stitching encodes nothing.
    const results = [];
    for (const job of plan.jobs) results.push(await lgpl.runChunk({ path: source }, plan, job.id, { outputDir: join(dir, 'lgpl-parts') }));
    const pkg = await stock.stitch(plan, results, { outputDir: join(dir, 'lgpl-stitched') });
    checkPackage(pkg, 1 / 25);
    expect(pkg.video.map((v) => v.id)).toEqual(['240p']);
    expect(pkg.duration).toBeCloseTo(4, 1);
  });
});
