/**
 * Cover art and tags, read back as a player reads them: the picture an MP3, M4A, FLAC, Ogg Vorbis
 * or Opus file carries (FFmpeg shows an Ogg METADATA_BLOCK_PICTURE comment as a picture stream
 * too), its size after the resize, and the tags set, kept or stripped.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type ProbeResult, SandcodecError } from '../dist/index.js';
import { pngFile } from './helpers/image-writers.js';
import { media } from './helpers/media.js';

let engine: Engine;
let flac: Uint8Array;
/** An MP3 with a cover (1280×720 JPEG, fitted into 1000 px) and a title, made by the engine. */
let tagged: Uint8Array;

const picture = (p: ProbeResult) => p.streams.find((s) => s.attachedPicture);

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  flac = new Uint8Array(await readFile(media('audio', 'ambi_lunar_land.flac')));
  const made = await engine.transcode(flac, {
    preset: 'mp3-128',
    cover: { path: media('image', 'renpy-washington.jpg') },
    tags: { title: 'Lunar Land', artist: 'Ambient Test' },
  });
  expect(made.cover).toBe('given');
  tagged = made.bytes!;
});

afterAll(async () => {
  await engine?.close();
});

describe('a given cover', () => {
  it('is resized to fit 1000 px and carried as the front cover', async () => {
    const back = await engine.probe(tagged);
    expect(picture(back)).toMatchObject({ codec: 'mjpeg', width: 1000, height: 563 });
    expect(back.tags).toMatchObject({ title: 'Lunar Land', artist: 'Ambient Test' });
    expect(back.streams[0]).toMatchObject({ type: 'audio', codec: 'mp3' });
  });

  it("is held to the image calls' maxPixels: a 100-megapixel PNG of a few hundred KB is refused from its header", async () => {
    const error = await engine.transcode(flac, { preset: 'flac', cover: pngFile({ width: 10000, height: 10000 }) }).then(
      () => undefined,
      (e: unknown) => e as SandcodecError,
    );
    expect(error).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', max: 24_000_000, actual: 100_000_000 } });
  });

  it('is refused with the option named when it is not an image', async () => {
    const error = await engine.transcode(flac, { preset: 'flac', cover: flac }).then(
      () => undefined,
      (e: unknown) => e as SandcodecError,
    );
    expect(error).toBeInstanceOf(SandcodecError);
    expect(['E_INPUT_INVALID', 'E_UNSUPPORTED']).toContain(error!.code);
  });
});

describe("the source's cover", () => {
  it('is kept in every container that holds one, and only there', async () => {
    const ladder = await engine.ladder(tagged, ['aac-128', 'flac', 'opus-96', 'vorbis-160', 'mp3-320', 'wav']);
    expect(ladder.renditions.map((r) => [r.preset, r.cover])).toEqual([
      ['aac-128', 'source'],
      ['flac', 'source'],
      ['opus-96', 'source'],
      ['vorbis-160', 'source'],
      ['mp3-320', 'source'],
      ['wav', 'none'],
    ]);
    for (const r of ladder.renditions) {
      const back = await engine.probe(r.bytes!, { decode: true });
      if (r.cover === 'none') {
        expect(picture(back), r.preset).toBeUndefined();
        continue;
      }
      expect(picture(back), r.preset).toMatchObject({ width: 1000, height: 563 });
      // Ogg keeps its comments on the stream, the other containers on the file.
      const tags = { ...back.tags, ...back.streams[0]!.tags };
      expect(tags.title ?? tags.TITLE, r.preset).toBe('Lunar Land');
      // The audio decodes whole: the picture did not take the place of any of it.
      expect(back.decodedDuration, r.preset).toBeGreaterThan(7.3);
    }
  });

  it("is dropped with cover: 'drop'; tags are stripped and set", async () => {
    const out = await engine.transcode(tagged, { preset: 'aac-128', cover: 'drop', stripTags: true, tags: { album: 'Previews' } });
    expect(out.cover).toBe('none');
    const back = await engine.probe(out.bytes!);
    expect(picture(back)).toBeUndefined();
    expect(back.tags.title).toBeUndefined();
    expect(back.tags.album).toBe('Previews');
  });

  it('is kept by normalize beside its gain tags (not in M4A, whose gain tags take its place)', async () => {
    for (const preset of ['opus-96', 'mp3-320', 'flac', 'aac-128']) {
      const out = await engine.normalize(tagged, { preset, target: -16 });
      const back = await engine.probe(out.bytes!);
      const tags = { ...back.tags, ...back.streams[0]!.tags };
      expect(
        Object.keys(tags).some((k) => /^(R128_TRACK_GAIN|REPLAYGAIN_TRACK_GAIN)$/i.test(k)),
        preset,
      ).toBe(true);
      if (preset === 'aac-128') expect(picture(back), preset).toBeUndefined();
      else expect(picture(back), preset).toMatchObject({ width: 1000, height: 563 });
    }
  });

  it('is not put into video outputs', async () => {
    const video = (await engine.generateVideo({ seconds: 1, width: 160, height: 90 })).bytes!;
    const out = await engine.transcode(video, { preset: 'mp4-h264-aac', tags: { title: 'Clip' } });
    expect(out.cover).toBe('none');
    const back = await engine.probe(out.bytes!);
    expect(back.tags.title).toBe('Clip');
    expect(back.streams.filter((s) => s.type === 'video')).toHaveLength(1);
  });
});

describe('tag options', () => {
  it.each([
    [{ 'ti=tle': 'x' }, 'tags'],
    [{ title: 'a\0b' }, 'tags.title'],
  ])('%j is refused', async (tags, option) => {
    const error = await engine.transcode(flac, { preset: 'flac', tags }).then(
      () => undefined,
      (e: unknown) => e as SandcodecError,
    );
    expect(error?.code).toBe('E_OPTIONS');
    expect(error?.details.option).toBe(option);
  });
});
