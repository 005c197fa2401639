/**
 * Packaging the real videos of the corpus (VP8 + Vorbis WebM, Motion JPEG without audio, a short
 * camera H.264 + AAC MP4), and the ways a packaging job must fail: typed errors, and no partial
 * output directory left behind.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type PackageOptions, type PackageResult, type ProbeResult } from '../dist/index.js';
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';
import { type CheckedPackage, checkPackage } from './helpers/package-check.js';
import { readWav } from './helpers/wav.js';

let engine: Engine;
let dir: string;

interface Job {
  file: string;
  fps: number;
  source: ProbeResult;
  result: PackageResult;
  checked: CheckedPackage;
}
const jobs = new Map<string, Job>();

const REAL = [
  { file: 'oa4-launch-vp8-vorbis.webm', fps: 24, options: {} },
  { file: 'gem-anim-1-mjpeg.mov', fps: 30, options: {} },
  // A camera clock that reads 30.02 fps; only the HLS manifests asked.
  { file: 'realshort-h264-aac.mp4', fps: 30, options: { formats: ['hls' as const] } },
];

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  // An odd source made here: H.264 High 4:4:4 with every fifth frame missing (variable rate, 24.4 fps on average).
  const odd = await engine.generateVideo({
    seconds: 4,
    width: 320,
    height: 240,
    frameRate: 30,
    pixelFormat: 'yuv444p',
    variableFrameRate: true,
    output: join(dir, 'vfr-444.mp4'),
  });
  await Promise.all(
    [...REAL, { file: 'vfr-444.mp4', fps: 24, options: { path: odd.path!, video: ['240p'], audio: ['aac-64'] } }].map(async ({ file, fps, options }) => {
      const { path = media('video', file), ...packOptions } = options as Partial<PackageOptions> & { path?: string };
      const [source, result] = await Promise.all([
        engine.probe({ path }, { decode: true }),
        engine.package({ path }, { segmentDuration: 2, outputDir: join(dir, `${file}.pkg`), ...packOptions }),
      ]);
      jobs.set(file, { file, fps, source, result, checked: checkPackage(result, 1 / fps) });
    }),
  );
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

describe('real videos', () => {
  it('packages VP8 + Vorbis WebM as H.264 + AAC at the source size', () => {
    const { result } = jobs.get('oa4-launch-vp8-vorbis.webm')!;
    expect(result.video.map((v) => [v.id, v.width, v.height])).toEqual([['360p', 640, 360]]);
    expect(result.skipped.map((s) => s.rung)).toEqual(['1080p', '720p', '480p']);
    expect(result.frameRate).toBe(24);
    expect(result.audio.map((a) => [a.id, a.codecs, a.channels, a.sampleRate])).toEqual([
      ['aac-128', 'mp4a.40.2', 2, 48000],
      ['aac-64', 'mp4a.40.2', 2, 48000],
    ]);
  });

  it('ends the audio with the picture: the WebM’s Vorbis stops 70 ms early and is padded with silence', async () => {
    const { result, source } = jobs.get('oa4-launch-vp8-vorbis.webm')!;
    const picture = result.video[0]!.start + result.video[0]!.duration;
    // The source's audio stops before its last picture.
    expect(picture - source.decodedDuration!).toBeGreaterThan(0.05);
    for (const a of result.audio) {
      const end = a.start + a.duration;
      expect(end, a.id).toBeGreaterThanOrEqual(picture - 1e-6);
      expect(end - picture, a.id).toBeLessThan(1024 / a.sampleRate!);
    }
    // What was added is silence: the last 50 ms of the rendition decode to zeros (within AAC's noise).
    const track = jobs.get('oa4-launch-vp8-vorbis.webm')!.checked.tracks.find((c) => c.track.id === 'aac-128')!;
    const wav = readWav((await engine.transcode({ data: track.joined, name: 'a.mp4' }, { preset: 'wav' })).bytes!);
    const peak = (from: number, to: number) => wav.samples.subarray(from * wav.channels, to * wav.channels).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const frames = wav.samples.length / wav.channels;
    expect(peak(frames - 0.05 * wav.sampleRate, frames)).toBeLessThan(0.002);
    expect(peak(wav.sampleRate, 2 * wav.sampleRate)).toBeGreaterThan(0.03);
  });

  it('packages Motion JPEG without audio as video only: no audio group, no audio set', () => {
    const { result, checked } = jobs.get('gem-anim-1-mjpeg.mov')!;
    expect(result.audio).toEqual([]);
    // 256x256 is below every rung: one rendition at the source's size.
    expect(result.video.map((v) => [v.id, v.width, v.height])).toEqual([['256p', 256, 256]]);
    expect(checked.master!.media).toEqual([]);
    expect(checked.master!.variants.map((v) => [v.attrs.AUDIO, v.attrs.CODECS])).toEqual([[undefined, result.video[0]!.codecs]]);
    expect(checked.mpd!.representations.map((r) => r.contentType)).toEqual(['video']);
  });

  it('writes only the manifests asked for, at a nominal frame rate for a camera clock', () => {
    const { result } = jobs.get('realshort-h264-aac.mp4')!;
    expect(result.dash).toBeUndefined();
    expect(existsSync(join(result.outputDir, 'manifest.mpd'))).toBe(false);
    expect(existsSync(result.hls!)).toBe(true);
    expect(result.frameRate).toBe(30);
  });

  it('packages variable-frame-rate 4:4:4 H.264 as constant-rate 4:2:0 with aligned GOPs', async () => {
    const { source, result } = jobs.get('vfr-444.mp4')!;
    expect(source.streams[0]!.profile).toBe('High 4:4:4 Predictive');
    expect(source.streams[0]!.frameRate).not.toBe(30);
    expect(result.frameRate).toBe(24);
    // 4 s in 2 s segments of 48 frames (the source's dropped last frame may shorten the last one).
    const seconds = result.video[0]!.segments.map((s) => s.duration / result.video[0]!.timescale);
    expect(seconds[0]).toBe(2);
    expect(seconds.length).toBe(2);
    expect(seconds[1]).toBeGreaterThanOrEqual(2 - 1 / 24 - 1e-9);
    const probe = await engine.probe({ data: jobs.get('vfr-444.mp4')!.checked.tracks[0]!.joined, name: 'v.mp4' });
    expect(probe.streams[0]!.pixelFormat).toBe('yuv420p');
    expect(probe.streams[0]!.profile).toBe('Main');
  });

  it('decodes every rendition back to the source duration', async () => {
    for (const job of jobs.values()) {
      const decoded = await Promise.all(job.checked.tracks.map((t) => engine.probe({ data: t.joined, name: 'r.mp4' }, { decode: true })));
      decoded.forEach((probe, i) => {
        const t = job.checked.tracks[i]!.track;
        const sourceStream = job.source.streams.find((s) => s.type === t.kind)!;
        expect(probe.streams[0]!.codec).toBe(t.kind === 'video' ? 'h264' : 'aac');
        // The source's own decoded length (audio first, else video): within a frame, plus AAC priming.
        // With a picture, audio ends with it: padded with silence or cut at the picture's end.
        const picture = job.checked.tracks.find((c) => c.track.kind === 'video')?.track;
        const reference = t.kind === 'audio' && picture ? picture.start + picture.duration : job.source.decodedDuration!;
        const slack = t.kind === 'video' ? 1 / job.fps : (2 * 1024) / (sourceStream.sampleRate ?? 48000);
        expect(Math.abs(probe.decodedDuration! - reference), `${job.file} ${t.id}`).toBeLessThanOrEqual(slack + 0.05);
      });
    }
  });
});

describe('failures', () => {
  const outputDir = () => join(dir, 'failed', 'pkg');

  it('refuses audio that starts after the picture ends (E_INPUT_INVALID), leaving no directory', async () => {
    // A 2 s clip whose audio track is shifted 3 s late (an edit list), remuxed by the core itself.
    const base = join(dir, 'base.mp4');
    await engine.generateVideo({ seconds: 2, width: 160, height: 120, frameRate: 10, output: base });
    const files = resolveCore('gpl');
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 256 * 1024 ** 2,
      core: files,
    });
    core.FS.writeFile('/base.mp4', readFileSync(base));
    const exit = await core.exec([
      '-hide_banner',
      '-loglevel',
      'error',
      '-itsoffset',
      '3',
      '-i',
      '/base.mp4',
      '-i',
      '/base.mp4',
      '-map',
      '1:v',
      '-map',
      '0:a',
      '-c',
      'copy',
      '/late.mp4',
    ]);
    expect(exit.code).toBe(0);
    const late = join(dir, 'audio-after-the-end.mp4');
    writeFileSync(late, core.FS.readFile('/late.mp4') as Uint8Array);
    const err = await engine.package({ path: late }, { outputDir: outputDir(), video: ['240p'], audio: ['aac-64'] }).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe('E_INPUT_INVALID');
    expect(err?.message).toContain('none of it plays before the picture ends');
    expect(existsSync(join(dir, 'failed'))).toBe(false);
  });

  it('refuses a source without video unless audioOnly (E_UNSUPPORTED), leaving no directory', async () => {
    await expect(engine.package({ path: media('audio', 'loop_amen.flac') }, { outputDir: outputDir() })).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    expect(existsSync(join(dir, 'failed'))).toBe(false);
  });

  it('refuses audioOnly on a source without audio (E_UNSUPPORTED)', async () => {
    await expect(engine.package({ path: media('video', 'gem-anim-1-mjpeg.mov') }, { audioOnly: true, outputDir: outputDir() })).rejects.toMatchObject({
      code: 'E_UNSUPPORTED',
    });
  });

  it('refuses bytes that are not media (E_INPUT_INVALID)', async () => {
    const junk = join(dir, 'junk.mp4');
    writeFileSync(
      junk,
      new Uint8Array(4096).map((_, i) => (i * 7919) % 251),
    );
    await expect(engine.package({ path: junk }, { outputDir: outputDir() })).rejects.toMatchObject({ code: 'E_INPUT_INVALID' });
    expect(existsSync(join(dir, 'failed'))).toBe(false);
  });

  it('enforces the input resolution and duration limits (E_LIMIT naming the limit)', async () => {
    const path = media('video', 'oa4-launch-vp8-vorbis.webm');
    await expect(engine.package({ path }, { maxPixels: 320 * 240, outputDir: outputDir() })).rejects.toMatchObject({
      code: 'E_LIMIT',
      details: { limit: 'maxPixels' },
    });
    await expect(engine.package({ path }, { outputDir: outputDir(), limits: { maxDurationSeconds: 5 } })).rejects.toMatchObject({
      code: 'E_LIMIT',
      details: { limit: 'maxDurationSeconds' },
    });
  });

  it('rejects bad options by name (E_OPTIONS)', async () => {
    const path = media('video', 'realshort-h264-aac.mp4');
    await expect(engine.package({ path }, { video: ['999p'], outputDir: outputDir() })).rejects.toMatchObject({
      code: 'E_OPTIONS',
      details: { option: 'video' },
    });
    await expect(engine.package({ path }, { segmentDuration: 0, outputDir: outputDir() })).rejects.toMatchObject({
      code: 'E_OPTIONS',
      details: { option: 'segmentDuration' },
    });
    await expect(engine.package({ path }, { formats: ['smooth' as 'hls'], outputDir: outputDir() })).rejects.toMatchObject({ code: 'E_OPTIONS' });
  });

  it('removes the partial package of an aborted job', async () => {
    const controller = new AbortController();
    const job = engine.package(
      { path: media('video', 'oa4-launch-vp8-vorbis.webm') },
      { outputDir: outputDir(), signal: controller.signal, onProgress: (p) => p.phase === 'package' && p.ratio > 0.1 && controller.abort() },
    );
    await expect(job).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect(existsSync(join(dir, 'failed'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.endsWith('.part'))).toEqual([]);
  });
});
