/**
 * Whose fault a failed FFmpeg run was, told by who failed rather than by what the text looked
 * like: damaged real files are E_INPUT_INVALID (or succeed, concealed), a codec this build cannot
 * decode is E_UNSUPPORTED, our own bad arguments are E_FFMPEG. Nothing comes out untyped, and the
 * same input gets the same answer on a fresh core and on one that ran other jobs before.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type MediaInput, SandcodecError } from '../dist/index.js';
import type { FFmpegPlan, JobLimits, JobResult } from '../dist/model/plan.js';
import { compileCore } from '../dist/pool/core-module.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { runPlan } from '../dist/worker/ffmpeg/run-plan.js';
import { media, mediaDir, repoRoot } from './helpers/media.js';
import { flipBits, sharedSource } from './helpers/mutate.js';

const LIMITS: JobLimits = { maxOutputBytes: 2 ** 31, maxReturnedBytes: 2 ** 28, maxHeapBytes: 2 ** 30, maxDurationSeconds: 36_000 };

let engine: Engine;
let coreModule: Awaited<ReturnType<typeof compileCore>>;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  coreModule = await compileCore();
});

afterAll(async () => {
  await engine?.close();
});

async function freshCore(): Promise<FFmpegCore> {
  return FFmpegCore.create(coreModule, { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: Number.MAX_SAFE_INTEGER });
}

type Outcome = { ok: true; result: JobResult } | { ok: false; error: unknown };

async function run(core: FFmpegCore, plan: FFmpegPlan): Promise<Outcome> {
  try {
    return { ok: true, result: await runPlan(plan, { core, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), emit: () => {} }) };
  } catch (error) {
    return { ok: false, error };
  }
}

async function settle(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(SandcodecError);
    return (err as SandcodecError).code;
  }
}

function failure(o: Outcome): SandcodecError {
  expect(o.ok, 'the run should fail').toBe(false);
  const err = (o as { error: unknown }).error;
  expect(err).toBeInstanceOf(SandcodecError);
  return err as SandcodecError;
}

/** Decodes `name` to a FLAC kept in memory, as a ladder of one does (with the ops' own `-xerror`). */
function flacPlan(name: string, bytes: Uint8Array, extra: string[] = []): FFmpegPlan {
  return {
    op: 'ffmpeg',
    phase: 'transcode',
    inputs: [{ name, source: sharedSource(bytes) }],
    outputs: [{ name: 'out0.flac', sink: { type: 'bytes' } }],
    args: ['-xerror', '-i', `/job/${name}`, '-map', '0:a:0', ...extra, '-c:a', 'flac', '-f', 'flac', '/job/out0.flac'],
    limits: LIMITS,
  };
}

/** The image pipeline's decode of a JPEG to RGBA (CRCs checked, bitstream errors fatal). */
function jpegDecodePlan(bytes: Uint8Array): FFmpegPlan {
  return {
    op: 'ffmpeg',
    phase: 'decode',
    inputs: [{ name: 'in.jpeg', source: sharedSource(bytes) }],
    outputs: [{ name: 'decoded.rgba', sink: { type: 'bytes' } }],
    args: [
      '-noautorotate',
      '-err_detect',
      'crccheck+explode',
      '-i',
      '/job/in.jpeg',
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgba',
      '/job/decoded.rgba',
    ],
    limits: LIMITS,
  };
}

describe('the probe', () => {
  it('a corrupt Vorbis setup header makes ffprobe exit(): that comes out of the core as an exit, and out of probe as E_INPUT_INVALID', async () => {
    const webm = new Uint8Array(await readFile(media('video', 'oa4-launch-vp8-vorbis.webm')));
    // Four bit flips in the first 8 KiB land in the Vorbis codebooks (the WebM's CodecPrivate).
    const damaged = webm.slice();
    damaged.set(flipBits(webm.subarray(0, 8192), 4, 1), 0);

    // The core itself: Emscripten's ExitStatus (a plain object, not an Error) is an exit status.
    const core = await freshCore();
    core.FS.writeFile('/in.webm', damaged);
    expect(await core.ffprobe(['-hide_banner', '-loglevel', 'error', '-show_streams', '-o', '/out.json', '/in.webm'])).toEqual({ code: 1, exited: true });
    expect(core.broken).toBeUndefined();

    const err = await engine.probe({ data: damaged, name: 'launch.webm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandcodecError);
    expect((err as SandcodecError).code).toBe('E_INPUT_INVALID');
    expect((err as SandcodecError).message).toMatch(/decoder could not be opened: vorbis: /);
    expect((err as SandcodecError).message).not.toMatch(/object Object/);
    // The pool serves on: the intact file probes.
    expect((await engine.probe({ data: webm, name: 'launch.webm' })).streams.map((s) => s.codec)).toEqual(['vp8', 'vorbis']);
  });

  it('seeded bit flips of the corpus videos probe as media or fail typed, never as E_INTERNAL', async () => {
    const tally: Record<string, number> = {};
    for (const name of ['oa4-launch-vp8-vorbis.webm', 'realshort-h264-aac.mp4', 'gem-anim-1-mjpeg.mov']) {
      const original = new Uint8Array(await readFile(media('video', name)));
      for (let seed = 1; seed <= 24; seed++) {
        const code = await settle(engine.probe({ data: flipBits(original, 1 + (seed % 8) * 3, seed * 7919), name }));
        tally[code] = (tally[code] ?? 0) + 1;
      }
    }
    console.log('probe of 72 damaged videos:', tally);
    expect(Object.keys(tally).every((code) => ['ok', 'E_INPUT_INVALID', 'E_UNSUPPORTED'].includes(code))).toBe(true);
  });
});

describe('who failed', () => {
  it('damaged real audio is E_INPUT_INVALID or a concealed success, never E_FFMPEG or E_INTERNAL', async () => {
    const files = [
      'audio/alsa-Front_Center.wav',
      'audio/ambi_lunar_land.flac',
      'audio/freedesktop-complete.oga',
      'audio/illurock.opus',
      'audio/loop_amen.flac',
    ];
    const more = ['audio/puredata-bell.aiff', 'audio/renpyallstars.ogg', 'video/oa4-launch-vp8-vorbis.webm', 'video/realshort-h264-aac.mp4'];
    const tally: Record<string, number> = {};
    for (const file of [...files, ...more]) {
      const original = new Uint8Array(await readFile(`${mediaDir}/${file}`));
      for (let seed = 1; seed <= 8; seed++) {
        const input: MediaInput = { data: flipBits(original, [2, 8, 32, 128][seed % 4]!, seed * 7919 + file.length), name: file };
        const code = await settle(engine.transcode(input, { preset: 'flac' }));
        tally[code] = (tally[code] ?? 0) + 1;
      }
    }
    console.log('flac of 72 damaged files:', tally);
    expect(Object.keys(tally).sort()).toEqual(['E_INPUT_INVALID', 'ok']);
  });

  it('our own bad arguments are E_FFMPEG with the log, not the input’s fault', async () => {
    const core = await freshCore();
    const flac = new Uint8Array(await readFile(media('audio', 'loop_amen.flac')));
    const badFilter = failure(await run(core, flacPlan('in0.flac', flac, ['-af', 'volume=loud'])));
    expect(badFilter.code).toBe('E_FFMPEG');
    expect(badFilter.details.log!.join('\n')).toMatch(/\[Parsed_volume_0 @ 0x[0-9a-f]+\]/);
    const badOption = failure(await run(core, flacPlan('in0.flac', flac, ['-no_such_option', '1'])));
    expect(badOption.code).toBe('E_FFMPEG');
    expect(badOption.message).toMatch(/Unrecognized option 'no_such_option'/);
    const badEncoder = failure(
      await run(core, { ...flacPlan('in0.flac', flac), args: ['-i', '/job/in0.flac', '-c:a', 'nosuchcodec', '-f', 'flac', '/job/out0.flac'] }),
    );
    expect(badEncoder.code).toBe('E_FFMPEG');
    // The same core then runs the same input with good arguments.
    expect((await run(core, flacPlan('in0.flac', flac))).ok).toBe(true);
  });

  it('a codec this build cannot decode (AV1 on the stock core) is E_UNSUPPORTED naming the codec', async () => {
    // test/fixtures/README.md: 1 s of 64×64 AV1 in MP4. The stock build's av1 decoder needs
    // hardware (the built cores have dav1d: cores.test.ts decodes the same file).
    const path = `${repoRoot}/test/fixtures/made/av1-64x64-1s.mp4`;
    const stock = await createEngine({ workers: 1, core: 'stock' });
    const probe = await stock.probe({ path });
    expect(probe.streams.map((s) => s.codec)).toEqual(['av1']);
    const err = await stock
      .probe({ path }, { decode: true })
      .catch((e: unknown) => e)
      .finally(() => stock.close());
    expect(err).toBeInstanceOf(SandcodecError);
    expect((err as SandcodecError).code).toBe('E_UNSUPPORTED');
    expect((err as SandcodecError).message).toMatch(/av1, a codec this build of FFmpeg cannot decode/);
    expect((err as SandcodecError).details.codec).toBe('av1');
  });
});

describe('damage policy: conceal a glitch, refuse a cut or broken stream', () => {
  let flac: Uint8Array;
  beforeAll(async () => {
    flac = new Uint8Array(await readFile(media('audio', 'ambi_lunar_land.flac')));
  });

  it('one damaged frame in the middle of a FLAC is concealed; the output keeps the full length', async () => {
    // Four bytes garbled in the middle: one frame fails to decode (FLAC CRCs are not checked by default).
    const damaged = flac.slice();
    for (let i = 0; i < 4; i++) damaged[(damaged.length >> 1) + i]! ^= 0xa5;
    const core = await freshCore();
    const o = await run(core, flacPlan('in0.flac', damaged));
    expect(o.ok).toBe(true);
    const result = (o as { result: JobResult }).result;
    expect(result.log.at(-1)).toMatch(/^1 decode errors concealed, \d+ frames decoded$/);
    expect(result.mediaSeconds).toBeCloseTo(7.39, 1);
    // The next job on the same core counts only its own decode errors: none.
    const clean = await run(core, flacPlan('in0.flac', flac));
    expect((clean as { result: JobResult }).result.log.some((l) => /concealed/.test(l))).toBe(false);
  });

  it('damage in more than a tenth of the frames is refused, with the counts', async () => {
    // 64 bit flips over a 1.75 s drum loop of 19 frames.
    const amen = new Uint8Array(await readFile(media('audio', 'loop_amen.flac')));
    const err = failure(await run(await freshCore(), flacPlan('in0.flac', flipBits(amen, 64, 1))));
    expect(err.code).toBe('E_INPUT_INVALID');
    expect(err.message).toMatch(/the input is damaged: \d+ of \d+ frames could not be decoded/);
    const { errors, decoded } = err.details as { errors: number; decoded: number };
    expect(errors / (errors + decoded)).toBeGreaterThan(0.1);
  });

  it('a FLAC cut inside a frame is refused as truncated', async () => {
    const err = failure(await run(await freshCore(), flacPlan('in0.flac', flac.slice(0, Math.floor(flac.length * 0.6)))));
    expect(err.code).toBe('E_INPUT_INVALID');
    expect(err.message).toMatch(/truncated or damaged at its end/);
  });
});

describe('no job state survives into the next job', () => {
  it('a corrupt JPEG gets the same answer on a fresh core and after jobs that asked for -xerror', async () => {
    const jpg = new Uint8Array(await readFile(media('image', 'renpy-washington.jpg')));
    const bad = jpg.slice();
    for (let i = Math.floor(bad.length / 3); i < (bad.length * 2) / 3; i += 5) bad[i] = 0xff;
    const fresh = failure(await run(await freshCore(), jpegDecodePlan(bad)));
    expect(fresh.code).toBe('E_INPUT_INVALID');

    const used = await freshCore();
    const flac = new Uint8Array(await readFile(media('audio', 'loop_amen.flac')));
    expect((await run(used, flacPlan('in0.flac', flac, ['-af', 'volume=0.5']))).ok).toBe(true);
    const again = failure(await run(used, jpegDecodePlan(bad)));
    expect({ code: again.code, message: again.message }).toEqual({ code: fresh.code, message: fresh.message });
    // After a job that itself failed, too.
    failure(await run(used, flacPlan('in0.flac', flac, ['-af', 'volume=loud'])));
    const third = failure(await run(used, jpegDecodePlan(bad)));
    expect({ code: third.code, message: third.message }).toEqual({ code: fresh.code, message: fresh.message });
  });

  it('through the engine with one worker: resize, transcode, resize again', async () => {
    const jpg = new Uint8Array(await readFile(media('image', 'renpy-washington.jpg')));
    const bad = jpg.slice();
    for (let i = Math.floor(bad.length / 3); i < (bad.length * 2) / 3; i += 5) bad[i] = 0xff;
    const first = await settle(engine.resize(bad, { width: 64 }));
    expect(first).toBe('E_INPUT_INVALID');
    expect(await settle(engine.transcode({ path: media('audio', 'loop_amen.flac') }, { preset: 'mp3-320' }))).toBe('ok');
    expect(await settle(engine.resize(bad, { width: 64 }))).toBe(first);
  });
});
