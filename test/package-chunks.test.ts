/**
 * The chunked encode keeps the package contract: for 1, 2 and 3 chunks, and for sources whose
 * keyframes fall anywhere (a long GOP, an open GOP, a variable frame rate), every rendition has
 * exactly the frames of a single encode, in order — no frame repeated or lost where chunks meet
 * (the frame counter of testsrc2 makes a shifted frame plain) — and passes every structural check
 * of a package; a join segment stays within the rung's VBV like any other.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type PackageResult } from '../dist/index.js';
import type { FFmpegPlan, JobLimits } from '../dist/model/plan.js';
import { compileCore } from '../dist/pool/core-module.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { runPlan } from '../dist/worker/ffmpeg/run-plan.js';
import { makeTempDir, removeTempDir } from './helpers/media.js';
import { sharedSource } from './helpers/mutate.js';
import { checkPackage } from './helpers/package-check.js';

const LIMITS: JobLimits = { maxOutputBytes: 2 ** 31, maxReturnedBytes: 2 ** 28, maxHeapBytes: 2 ** 30, maxDurationSeconds: 3600 };
const W = 80;
const H = 60;

let engine: Engine;
let core: FFmpegCore;
let dir: string;
const sources = new Map<string, Uint8Array>();

function run(plan: FFmpegPlan) {
  return runPlan(plan, { core, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), emit: () => {} });
}

/** Every frame of a fragmented MP4 as an 80×60 grey picture. */
async function frames(mp4: Uint8Array): Promise<Uint8Array[]> {
  const result = await run({
    op: 'ffmpeg',
    phase: 'decode',
    inputs: [{ name: 'in.mp4', source: sharedSource(mp4) }],
    outputs: [{ name: 'out.raw', sink: { type: 'bytes' } }],
    args: ['-i', '/job/in.mp4', '-map', '0:v', '-fps_mode', 'passthrough', '-s', `${W}x${H}`, '-pix_fmt', 'gray', '-f', 'rawvideo', '/job/out.raw'],
    limits: LIMITS,
  });
  const raw = result.outputs[0]!.bytes!;
  const out: Uint8Array[] = [];
  for (let at = 0; at + W * H <= raw.byteLength; at += W * H) out.push(raw.subarray(at, at + W * H));
  return out;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  core = await FFmpegCore.create(await compileCore(), { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: 2 ** 30 });
  dir = await makeTempDir();
  // x264's default: a keyframe every 250 frames, so chunks start far from the nearest one.
  sources.set('long GOP', (await engine.generateVideo({ seconds: 12, width: 320, height: 240, frameRate: 30, audio: false })).bytes!);
  sources.set(
    'variable frame rate',
    (await engine.generateVideo({ seconds: 12, width: 320, height: 240, frameRate: 30, audio: false, variableFrameRate: true })).bytes!,
  );
  // Open GOPs with B-frames: the pictures before a recovery point refer across it.
  sources.set(
    'open GOP',
    (
      await run({
        op: 'ffmpeg',
        phase: 'source',
        inputs: [],
        outputs: [{ name: 'src.mp4', sink: { type: 'bytes' } }],
        args: [
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=25:duration=12',
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-crf',
          '14',
          '-x264-params',
          'open-gop=1:keyint=37:min-keyint=37:bframes=3:scenecut=0',
          '-f',
          'mp4',
          '/job/src.mp4',
        ],
        limits: LIMITS,
      })
    ).outputs[0]!.bytes!,
  );
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

const CHUNKINGS = [
  { chunks: 1, chunkSeconds: 12 },
  { chunks: 2, chunkSeconds: 6 },
  { chunks: 3, chunkSeconds: 4 },
];

describe('chunked packaging', () => {
  for (const name of ['long GOP', 'variable frame rate', 'open GOP']) {
    it(`${name}: 1, 2 and 3 chunks give the frames of one encode, and a valid package`, async () => {
      const src = sources.get(name)!;
      const results: Array<{ chunks: number; result: PackageResult; frames: Uint8Array[] }> = [];
      for (const { chunks, chunkSeconds } of CHUNKINGS) {
        const plan = await engine.planPackage(src, { video: ['240p'], audio: [], segmentDuration: 2, chunkSeconds });
        expect(plan.jobs.filter((j) => j.kind === 'video').length).toBe(chunks);
        const outputDir = join(dir, `${name.replace(/ /g, '-')}-${chunks}`);
        const result = await engine.package(src, { video: ['240p'], audio: [], segmentDuration: 2, chunkSeconds, outputDir });
        const checked = checkPackage(result, 1 / result.frameRate!);
        const track = result.video[0]!;
        // A segment at a join is held to the rung's VBV like any other: its average cannot pass
        // maxrate by more than the buffer drains into one segment.
        const { maxrate, bufsize } = plan.video[0]!;
        for (const s of track.segments) expect((s.size * 8) / (s.duration / track.timescale)).toBeLessThanOrEqual(maxrate + bufsize / 2);
        results.push({ chunks, result, frames: await frames(checked.tracks[0]!.joined) });
      }
      const [one, ...more] = results;
      expect(one!.frames.length).toBeGreaterThan(200);
      for (const r of more) {
        expect(r.frames.length, `${r.chunks} chunks: frame count`).toBe(one!.frames.length);
        expect(r.result.video[0]!.segments.map((s) => s.duration)).toEqual(one!.result.video[0]!.segments.map((s) => s.duration));
        // The same picture at every position: a repeated or lost frame shifts the counter and the
        // patterns, which drops this far below what encoding noise does.
        const worst = Math.min(...r.frames.map((f, i) => psnr(f, one!.frames[i]!)));
        expect(worst, `${r.chunks} chunks: worst frame against one encode`).toBeGreaterThan(30);
        // …and each frame is nearer its own counterpart than a neighbour it can be told from (a
        // variable-rate source repeats frames to fill its gaps: those neighbours are the same).
        const ref = one!.frames;
        r.frames.forEach((f, i) => {
          const same = psnr(f, ref[i]!);
          for (const k of [i - 1, i + 1]) {
            if (k < 0 || k >= ref.length || psnr(ref[i]!, ref[k]!) > 35) continue;
            expect(same, `${r.chunks} chunks: frame ${i} against frame ${k} of one encode`).toBeGreaterThan(psnr(f, ref[k]!));
          }
        });
      }
    });
  }
});
