/**
 * The package planner: chunks of whole segments that start on the IDR frames a single encode
 * forces, the tail kept with the last chunk, rungs split between jobs when chunks are fewer than
 * workers or do not share out evenly, and the cut of each chunk (seek, preroll, frames kept).
 */
import { describe, expect, it } from 'vitest';
import { VIDEO_LADDER } from '../../src/model/presets.js';
import { chunkCut, defaultChunkSeconds, frameCost, type PackageJob, planJobs, segmentFrame, type VideoTarget } from '../../src/ops/package-plan.js';

const target = (id: string, width: number, height: number): VideoTarget => ({
  id,
  rung: VIDEO_LADDER['360p']!,
  width,
  height,
  bitrate: 1,
  maxrate: 1,
  bufsize: 1,
});
const LADDER = [target('1080p', 1920, 1080), target('720p', 1280, 720), target('480p', 854, 480), target('360p', 640, 360)];
const NTSC = { num: 30000, den: 1001 };
const video = (jobs: PackageJob[]) => jobs.filter((j): j is Extract<PackageJob, { kind: 'video' }> => j.kind === 'video');

describe('segmentFrame', () => {
  it('is the first frame at or after each boundary, as the encoder forces it', () => {
    expect([0, 1, 2, 3].map((m) => segmentFrame(m, 4, { num: 30, den: 1 }))).toEqual([0, 120, 240, 360]);
    // 4 s at 29.97 fps is 119.88 frames: boundaries drift into the next frame, never earlier.
    expect([1, 8, 9, 10].map((m) => segmentFrame(m, 4, NTSC))).toEqual([120, 960, 1079, 1199]);
    for (let m = 0; m < 1000; m++) {
      const f = segmentFrame(m, 4, NTSC);
      expect((f * 1001) / 30000).toBeGreaterThanOrEqual(m * 4 - 1e-9);
      expect(((f - 1) * 1001) / 30000).toBeLessThan(m * 4);
    }
  });
});

describe('planJobs', () => {
  it('cuts a long source into chunks of whole segments, the last one open-ended, plus one audio job', () => {
    const jobs = planJobs({ duration: 60, segmentDuration: 4, chunkSeconds: 16, rate: { num: 30, den: 1 }, targets: LADDER, audio: [], workers: 1 });
    const v = video(jobs);
    expect(v.map((j) => [j.id, j.firstSegment, j.firstFrame, j.frames])).toEqual([
      ['v0', 0, 0, 480],
      ['v1', 4, 480, 480],
      ['v2', 8, 960, 480],
      ['v3', 12, 1440, null],
    ]);
    expect(v.every((j) => j.renditions.length === 4)).toBe(true);
    // Frames follow each other without gap or overlap.
    for (let i = 1; i < v.length; i++) expect(v[i]!.firstFrame).toBe(v[i - 1]!.firstFrame + v[i - 1]!.frames!);
  });

  it('keeps a tail shorter than a segment with the last chunk', () => {
    // 8.087 s in 2 s segments, chunks of 4 s: 8–8.087 is no chunk of its own.
    const v = video(
      planJobs({ duration: 8.087, segmentDuration: 2, chunkSeconds: 4, rate: { num: 24, den: 1 }, targets: LADDER.slice(3), audio: [], workers: 1 }),
    );
    expect(v.map((j) => [j.firstSegment, j.frames])).toEqual([
      [0, 96],
      [2, null],
    ]);
  });

  it('splits the rungs when chunks are fewer than workers, about evenly by pixels', () => {
    const jobs = video(planJobs({ duration: 10, segmentDuration: 4, chunkSeconds: 16, rate: { num: 30, den: 1 }, targets: LADDER, audio: [], workers: 2 }));
    expect(jobs.map((j) => [j.id, j.renditions])).toEqual([
      ['v0-0', ['1080p']],
      ['v0-1', ['720p', '480p', '360p']],
    ]);
    const four = video(planJobs({ duration: 10, segmentDuration: 4, chunkSeconds: 16, rate: { num: 30, den: 1 }, targets: LADDER, audio: [], workers: 8 }));
    expect(four.map((j) => j.renditions.length)).toEqual([1, 1, 1, 1]);
  });

  it('splits the rungs of the shortest chunks where whole segments cannot share out evenly', () => {
    // 15 segments in chunks of 4, 4, 4 and 3 on 2 workers: whole chunks end 8 against 7.
    const plan = { duration: 60, segmentDuration: 4, chunkSeconds: 16, rate: { num: 30, den: 1 }, targets: LADDER, audio: [] };
    const jobs = video(planJobs({ ...plan, workers: 2 }));
    expect(jobs.map((j) => [j.id, j.renditions.join('+')])).toEqual([
      ['v0', '1080p+720p+480p+360p'],
      ['v1', '1080p+720p+480p+360p'],
      ['v2-0', '1080p'],
      ['v2-1', '720p+480p+360p'],
      ['v3-0', '1080p'],
      ['v3-1', '720p+480p+360p'],
    ]);
    // Longest first onto the first free worker, as the pool runs them: within 3% of an even share.
    const costs = jobs.map((j) => (j.frames ?? 1800 - j.firstFrame) * frameCost(LADDER, j.renditions));
    const free = [0, 0];
    for (const c of costs.sort((a, b) => b - a)) free[free[0]! <= free[1]! ? 0 : 1]! += c;
    expect(Math.max(...free) / ((free[0]! + free[1]!) / 2)).toBeLessThan(1.03);
    // Chunks that share out evenly stay whole: every split decodes the chunk once more.
    const hour = video(planJobs({ ...plan, duration: 3600, chunkSeconds: 900, workers: 2 }));
    expect(hour.map((j) => j.id)).toEqual(['v0', 'v1', 'v2', 'v3']);
    // Every chunk still encodes every rung exactly once.
    for (const workers of [2, 3, 4, 8, 64]) {
      const all = video(planJobs({ ...plan, chunkSeconds: 8, workers }));
      const byChunk = new Map<number, string[]>();
      for (const j of all) byChunk.set(j.chunk, [...(byChunk.get(j.chunk) ?? []), ...j.renditions]);
      for (const rungs of byChunk.values()) expect([...rungs].sort()).toEqual(LADDER.map((t) => t.id).sort());
    }
  });

  it('costs a frame as its decode, the scaling into each smaller rung and the pixels encoded', () => {
    const all = frameCost(LADDER, ['1080p', '720p', '480p', '360p']);
    const top = frameCost(LADDER, ['1080p']);
    const rest = frameCost(LADDER, ['720p', '480p', '360p']);
    // Two jobs decode twice: the split costs more than the whole, by one decode.
    expect(top + rest).toBeGreaterThan(all);
    // The three small rungs weigh about as much as 1080p alone once their scaling is counted.
    expect(rest / top).toBeGreaterThan(0.9);
    expect(rest / top).toBeLessThan(1.15);
  });

  it('defaults to about two jobs per worker, never under 8 s', () => {
    expect(defaultChunkSeconds(3600, 4, 2)).toBe(900);
    expect(defaultChunkSeconds(60, 4, 2)).toBe(16);
    expect(defaultChunkSeconds(20, 4, 2)).toBe(8);
    expect(defaultChunkSeconds(20, 6, 2)).toBe(6);
  });
});

describe('chunkCut', () => {
  it('seeks a whole second of frames before the chunk and keeps exactly its frames', () => {
    const job = { kind: 'video' as const, id: 'v1', chunk: 1, firstSegment: 4, firstFrame: 480, frames: 480, renditions: ['360p'] };
    expect(chunkCut(job, { num: 30, den: 1 })).toEqual({ seek: 15, preroll: 30, read: 18 });
    expect(chunkCut({ ...job, firstFrame: 0, frames: null }, { num: 30, den: 1 })).toEqual({ seek: 0, preroll: 0, read: undefined });
    const ntsc = chunkCut({ ...job, firstFrame: 1079 }, NTSC);
    expect(ntsc.preroll).toBe(30);
    expect(ntsc.seek).toBeCloseTo((1049 * 1001) / 30000, 12);
  });
});
