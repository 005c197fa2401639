/**
 * Thumbnails and storyboards as players use them: a poster at the source size, one image every N
 * seconds, and sprite sheets whose WebVTT cues cover the whole duration and point at cells that
 * exist in the sheets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type ThumbnailResult } from '../dist/index.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';

let engine: Engine;
let dir: string;
let webm: ThumbnailResult;
let mjpeg: ThumbnailResult;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  [webm, mjpeg] = await Promise.all([
    // 640x360, a thumbnail every 2 s on 3x2 sheets.
    engine.thumbnails(
      { path: media('video', 'oa4-launch-vp8-vorbis.webm') },
      { outputDir: join(dir, 'webm'), every: 2, sprite: { columns: 3, rows: 2, width: 160 } },
    ),
    // 3 s at 256x256, a thumbnail every 0.5 s on 2x2 sheets: six cells over two sheets.
    engine.thumbnails(
      { path: media('video', 'gem-anim-1-mjpeg.mov') },
      { outputDir: join(dir, 'mjpeg'), every: 0.5, width: 128, sprite: { columns: 2, rows: 2, width: 64 } },
    ),
  ]);
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

interface Cue {
  start: number;
  end: number;
  file: string;
  xywh: number[];
}

function parseVtt(text: string): Cue[] {
  expect(text.startsWith('WEBVTT')).toBe(true);
  const seconds = (t: string) => t.split(':').reduce((n, part) => n * 60 + Number(part), 0);
  const cues: Cue[] = [];
  for (const block of text.split(/\n\n+/).slice(1)) {
    const [timing, target] = block.trim().split('\n');
    if (!timing || !target) continue;
    const [a, b] = timing.split(' --> ');
    const [file, frag] = target.split('#xywh=');
    cues.push({ start: seconds(a!), end: seconds(b!), file: file!, xywh: frag!.split(',').map(Number) });
  }
  return cues;
}

async function size(path: string): Promise<[number, number, string]> {
  const probe = await engine.probe({ path });
  const s = probe.streams[0]!;
  return [s.width!, s.height!, s.codec];
}

describe('thumbnails', () => {
  it('writes a poster frame at the source size', async () => {
    expect(await size(webm.poster!.path)).toEqual([640, 360, 'mjpeg']);
    expect(webm.poster!.time).toBeCloseTo(webm.source.duration! * 0.1, 2);
  });

  it('writes one image every N seconds, scaled with the aspect ratio kept', async () => {
    // One image per interval the video reaches: its last frames (8.003 and 8.045 s of 8.087 s)
    // start a fifth interval.
    expect(webm.images.map((i) => i.time)).toEqual([0, 2, 4, 6, 8]);
    for (const image of webm.images) expect(await size(image.path)).toEqual([320, 180, 'mjpeg']);
    // 91 frames at 30 fps: the last, at 3.0 s, starts a seventh interval of 0.5 s.
    expect(mjpeg.images.length).toBe(7);
    expect(await size(mjpeg.images[0]!.path)).toEqual([128, 128, 'mjpeg']);
  });

  it('tiles the thumbnails into sprite sheets of columns x rows cells', async () => {
    expect(webm.sprite!.sheets.length).toBe(1);
    expect(await size(webm.sprite!.sheets[0]!)).toEqual([3 * 160, 2 * 90, 'mjpeg']);
    expect(mjpeg.sprite!.sheets.length).toBe(2);
    for (const sheet of mjpeg.sprite!.sheets) expect(await size(sheet)).toEqual([128, 128, 'mjpeg']);
  });

  it('writes WebVTT cues with #xywh= fragments covering the whole duration', async () => {
    for (const result of [webm, mjpeg]) {
      const cues = parseVtt(readFileSync(result.sprite!.vtt, 'utf8'));
      const duration = result.source.duration!;
      expect(cues.length).toBe(result.sprite!.count);
      expect(cues[0]!.start).toBe(0);
      expect(cues.at(-1)!.end).toBeCloseTo(duration, 2);
      for (let i = 1; i < cues.length; i++) expect(cues[i]!.start).toBe(cues[i - 1]!.end);
      for (const cue of cues) {
        const sheet = join(result.outputDir, cue.file);
        expect(existsSync(sheet)).toBe(true);
        const [w, h] = await size(sheet);
        const [x, y, cw, ch] = cue.xywh as [number, number, number, number];
        expect([cw, ch]).toEqual([result.sprite!.width, result.sprite!.height]);
        expect(x + cw).toBeLessThanOrEqual(w);
        expect(y + ch).toBeLessThanOrEqual(h);
      }
    }
  });

  it('refuses a source without video (E_UNSUPPORTED) and leaves no directory', async () => {
    const out = join(dir, 'none', 'thumbs');
    await expect(engine.thumbnails({ path: media('audio', 'loop_amen.flac') }, { outputDir: out })).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });
});
