/**
 * Subtitles and languages of a package, on a real clip whose audio is tagged English (`eng`):
 * WebVTT sidecars become HLS subtitle groups of segmented WebVTT on the package's segment grid and
 * DASH text AdaptationSets of the whole file, with language and name; the audio renditions carry
 * the source's language (or the options') and a human name. A bad subtitle file or option fails
 * before any work, and leaves nothing behind. Players showing these cues: test/players.test.ts.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkResult, createEngine, type Engine, InputError, OptionsError, type PackagePlan, type PackageResult } from '../dist/index.js';
import { parseWebVtt } from '../dist/packaging/webvtt.js';
import { parsePlaylist } from './helpers/manifests.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';
import { encodeParts } from './helpers/package-parts.js';

const EN =
  'WEBVTT\n\n1\n00:00.500 --> 00:01.800\nLaunch sequence\n\n00:01.900 --> 00:03.100 align:start\nAcross the first boundary\n\n00:06.000 --> 00:07.900\nNear the end\n';
const FR = 'WEBVTT\r\n\r\n00:00:00.500 --> 00:00:02.500\r\nSéquence de lancement\r\n';

let engine: Engine;
let dir: string;
const source = media('video', 'oa4-launch-vp8-vorbis.webm');
let plan: PackagePlan;
let results: ChunkResult[];
let pkg: PackageResult;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  await writeFile(join(dir, 'en.vtt'), EN);
  await writeFile(join(dir, 'fr.vtt'), FR);
  ({ plan, results } = await encodeParts(engine, source, { video: ['240p'], audio: ['aac-64'], segmentDuration: 2 }, dir));
  pkg = await engine.stitch(plan, results, {
    outputDir: join(dir, 'pkg'),
    subtitles: [
      { path: join(dir, 'en.vtt'), language: 'en', default: true },
      { path: join(dir, 'fr.vtt'), language: 'fra', name: 'Français' },
    ],
  });
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

describe('subtitles', () => {
  it('writes each track whole and in segments on the package’s grid', async () => {
    expect(pkg.subtitles.map((t) => [t.id, t.language, t.label, t.default, t.cues])).toEqual([
      ['subtitles-en', 'en', 'English', true, 3],
      ['subtitles-fr', 'fr', 'Français', false, 1],
    ]);
    const video = pkg.video[0]!;
    for (const t of pkg.subtitles) {
      const whole = parseWebVtt(await readFile(join(pkg.outputDir, t.file), 'utf8'), 100);
      expect(whole.cues).toHaveLength(t.cues);
      // One segment per video segment, at the same instants, ending at the programme's end.
      expect(t.segments.map((s) => s.start)).toEqual(
        video.segments.map((s) => Math.round(((s.start - video.presentationTimeOffset) / video.timescale) * 1000)),
      );
      const last = t.segments.at(-1)!;
      expect((last.start + last.duration) / 1000).toBeCloseTo(pkg.duration, 2);
      const playlist = parsePlaylist(await readFile(join(pkg.outputDir, t.playlist), 'utf8'));
      expect(playlist.segments.map((s) => s.uri)).toEqual(t.segments.map((s) => s.file));
      expect(playlist.segments.reduce((n, s) => n + s.duration, 0)).toBeCloseTo(pkg.duration, 3);
    }
    // Every cue is in each segment it overlaps, and only there.
    const en = pkg.subtitles[0]!;
    const starts = await Promise.all(
      en.segments.map(async (s) => parseWebVtt(await readFile(join(pkg.outputDir, en.id, s.file), 'utf8'), 100).cues.map((c) => c.start)),
    );
    expect(starts).toEqual([[500, 1900], [1900], [], [6000]]);
    const first = await readFile(join(pkg.outputDir, en.id, en.segments[0]!.file), 'utf8');
    // Cue time 0 is the programme's start: the media time every track is at then (the audio's
    // priming), in 90 kHz ticks.
    const audio = pkg.audio[0]!;
    expect(audio.presentationTimeOffset).toBe(audio.priming);
    expect(audio.priming).toBeGreaterThan(0);
    const mpegts = Math.round((audio.presentationTimeOffset / audio.timescale) * 90_000);
    expect(first.split('\n')[1]).toBe(`X-TIMESTAMP-MAP=MPEGTS:${mpegts},LOCAL:00:00:00.000`);
  });

  it('HLS: a subtitle group with language and name, referenced by every variant', async () => {
    const master = await readFile(pkg.hls!, 'utf8');
    expect(master).toContain(
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subtitles",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI="subtitles-en/playlist.m3u8"',
    );
    expect(master).toContain(
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subtitles",NAME="Français",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="subtitles-fr/playlist.m3u8"',
    );
    const variants = parsePlaylist(master).variants;
    expect(variants.length).toBeGreaterThan(0);
    for (const v of variants) expect(v.attrs.SUBTITLES).toBe('subtitles');
    // The audio rendition carries the source's language (eng → en) and its name.
    expect(master).toMatch(/#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-aac-64",NAME="English",LANGUAGE="en",/);
  });

  it('DASH: a text AdaptationSet per track, and the audio set’s language', async () => {
    const xml = await readFile(pkg.dash!, 'utf8');
    expect(xml).toContain('<AdaptationSet id="2" contentType="text" mimeType="text/vtt" lang="en">');
    expect(xml).toContain('<Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>');
    expect(xml).toContain('<AdaptationSet id="3" contentType="text" mimeType="text/vtt" lang="fr">');
    expect(xml).toContain('<Label>Français</Label>');
    for (const t of pkg.subtitles) {
      expect(xml).toContain(`<BaseURL>${t.file}</BaseURL>`);
      expect(existsSync(join(pkg.outputDir, t.file))).toBe(true);
    }
    expect(xml).toMatch(/<AdaptationSet id="1" contentType="audio" mimeType="audio\/mp4" lang="en"[^>]*>\s*<Label>English<\/Label>/);
  });

  it('takes the audio language and name from the options over the source’s tag', async () => {
    const other = await engine.stitch(plan, results, { outputDir: join(dir, 'lang'), audioLanguage: 'fra', audioName: 'Commentary' });
    expect([other.audio[0]!.language, other.audio[0]!.label]).toEqual(['fr', 'Commentary']);
    expect(other.subtitles).toEqual([]);
    expect(await readFile(other.hls!, 'utf8')).toMatch(/NAME="Commentary",LANGUAGE="fr"/);
    expect(await readFile(other.dash!, 'utf8')).toContain('lang="fr"');
  });

  it('refuses a bad subtitle file or option before any work, and writes nothing', async () => {
    await writeFile(join(dir, 'bad.vtt'), 'WEBVTT\n\n00:00.000 --> 00:01.000\nfine\n\n00:05.000 --> 00:04.000\nbackwards\n');
    await writeFile(join(dir, 'latin1.vtt'), Buffer.from('WEBVTT\n\n00:00.000 --> 00:01.000\nS\xe9quence\n', 'latin1'));
    const failure = async (subtitles: unknown, extra: Record<string, unknown> = {}) => {
      const out = join(dir, `refused-${Math.random().toString(36).slice(2)}`);
      const err = await engine.package({ path: source }, { outputDir: out, video: ['240p'], audio: ['aac-64'], subtitles: subtitles as never, ...extra }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(existsSync(out)).toBe(false);
      return err as InputError | OptionsError;
    };
    const bad = await failure([{ path: join(dir, 'bad.vtt'), language: 'en' }]);
    expect(bad).toBeInstanceOf(InputError);
    expect(bad.code).toBe('E_INPUT_INVALID');
    expect(bad.message).toContain('bad.vtt is not valid WebVTT: line 6: the cue ends (00:04.000) before it starts (00:05.000)');
    expect((await failure([{ path: join(dir, 'latin1.vtt'), language: 'en' }])).message).toContain('is not UTF-8 text');
    expect((await failure([{ path: join(dir, 'missing.vtt'), language: 'en' }])).message).toContain('no such file');
    const option = async (subtitles: unknown, extra: Record<string, unknown> = {}) => {
      const err = await failure(subtitles, extra);
      expect(err).toBeInstanceOf(OptionsError);
      return (err as OptionsError).details.option;
    };
    expect(await option([{ path: join(dir, 'en.vtt'), language: 'english please' }])).toBe('subtitles[0].language');
    expect(await option([{ path: join(dir, 'en.vtt') }])).toBe('subtitles[0].language');
    expect(await option([{ path: join(dir, 'en.vtt'), language: 'en', lang: 'en' }])).toBe('subtitles[0].lang');
    expect(await option('en.vtt')).toBe('subtitles');
    expect(
      await option([
        { path: join(dir, 'en.vtt'), language: 'en', default: true },
        { path: join(dir, 'fr.vtt'), language: 'fr', default: true },
      ]),
    ).toBe('subtitles');
    expect(await option(undefined, { audioLanguage: 'x' })).toBe('audioLanguage');
    expect(await option(undefined, { audioName: 'say "hi"' })).toBe('audioName');
  });
});
