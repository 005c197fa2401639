/**
 * No sliver segments: a track whose last stretch is shorter than half a segment (one AAC frame
 * past the video's end, the last frame of a clip one frame longer than whole segments) ends with
 * that stretch folded into its previous segment, so players that stop before a tiny last
 * segment play to the end. Every rendition still ends within one audio frame of the programme.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type PackageResult } from '../dist/index.js';
import { isoSeconds, parseMpd, parsePlaylist } from './helpers/manifests.js';
import { makeTempDir, removeTempDir } from './helpers/media.js';

let engine: Engine;
let dir: string;
let pkg: PackageResult;
/** 76 frames at 25 fps: three 1 s segments and one frame; the AAC tone runs to the end of its last frame. */
const SECONDS = 3.04;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  const source = join(dir, 'source.mp4');
  await engine.generateVideo({ seconds: SECONDS, width: 320, height: 240, frameRate: 25, output: source });
  pkg = await engine.package({ path: source }, { outputDir: join(dir, 'pkg'), video: ['240p'], audio: ['aac-64'], segmentDuration: 1 });
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

describe('the end of a package', () => {
  it('folds a tail under half a segment into the segment before it, in every rendition', () => {
    for (const t of [...pkg.video, ...pkg.audio]) {
      const seconds = t.segments.map((s) => s.duration / t.timescale);
      expect(seconds.length, t.id).toBe(3);
      expect(Math.min(...seconds), t.id).toBeGreaterThanOrEqual(0.5);
      // The last segment carries the tail: a whole segment and the rest.
      expect(seconds.at(-1)!, t.id).toBeGreaterThan(1);
      expect(seconds.at(-1)!, t.id).toBeLessThan(1.5);
    }
  });

  it('ends every rendition within one audio frame of the programme’s end', () => {
    const ends = [...pkg.video, ...pkg.audio].map((t) => t.start + t.duration);
    const frame = 1024 / pkg.audio[0]!.sampleRate!;
    expect(pkg.video[0]!.start + pkg.video[0]!.duration).toBeCloseTo(SECONDS, 3);
    for (const end of ends) expect(Math.abs(end - Math.max(...ends))).toBeLessThanOrEqual(frame + 1e-6);
  });

  it('states the same durations in the HLS playlists and the DASH MPD', async () => {
    const mpd = parseMpd(await readFile(pkg.dash!, 'utf8'));
    expect(isoSeconds(mpd.attrs.mediaPresentationDuration!)).toBeCloseTo(pkg.duration, 3);
    for (const t of [...pkg.video, ...pkg.audio]) {
      const playlist = parsePlaylist(await readFile(join(pkg.outputDir, t.playlist), 'utf8'));
      const listed = playlist.segments.reduce((n, s) => n + s.duration, 0);
      const rep = mpd.representations.find((r) => r.id === t.id)!;
      const timeline = rep.timeline.reduce((n, s) => n + s.d, 0) / rep.timescale;
      expect(playlist.segments.length).toBe(t.segments.length);
      expect(listed).toBeCloseTo(t.segments.reduce((n, s) => n + s.duration, 0) / t.timescale, 5);
      expect(timeline).toBeCloseTo(listed, 5);
    }
  });
});
