/**
 * Real players in Chromium play what the packager writes: the ClearKey-protected cenc package in
 * shaka-player and dash.js (segment files, and single files through their sidx), the clear package
 * in hls.js (segment files, and byte ranges of single files). In each, every rendition is forced
 * once and must be fetched and played (the picture at its height), the packaged WebVTT subtitles
 * must be offered by language and name and show their cues at their times, playback from a seek near the
 * end must reach `ended`, and no player error may occur. The audio and video SourceBuffers'
 * buffered ranges measure the A/V offset each player ends up with, at the start and at the end
 * (within 3 ms: the package's programme offset and the AAC priming, with no edit list), also for a
 * source whose audio starts 0.5 s after its picture.
 * Skipped, saying so, when Chromium is not installed (`.ci/run` installs Debian's).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type EncryptionOptions, type Engine, type PackageResult } from '../dist/index.js';
import { chromiumPath, launchChromium, type StaticServer, serveDirectory } from './helpers/browser.js';
import { makeTempDir, media, removeTempDir, repoRoot } from './helpers/media.js';
import { encodeParts } from './helpers/package-parts.js';

const chromium = chromiumPath();
const SKIP = chromium
  ? null
  : 'Chromium is not installed (SANDCODEC_CHROMIUM, /usr/bin/chromium): the player tests are skipped; `apt-get install chromium` runs them';
if (SKIP) console.warn(`players: ${SKIP}`);

const KID = '0123456789abcdef0123456789abcdef';
const KEY = '00112233445566778899aabbccddeeff';
const base64url = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
const KEYS = { hex: { [KID]: KEY }, base64url: { [base64url(KID)]: base64url(KEY) } };

const LIBRARIES = {
  shaka: '/lib/shaka-player.js',
  dashjs: '/lib/dash.js',
  hlsjs: '/lib/hls.js',
} as const;
type PlayerName = keyof typeof LIBRARIES;
const modules = join(repoRoot, 'node_modules');
const ROUTES = {
  '/lib/shaka-player.js': join(
    modules,
    'shaka-player',
    'dist',
    process.env.SANDCODEC_PLAYER_LOG ? 'shaka-player.compiled.debug.js' : 'shaka-player.compiled.js',
  ),
  '/lib/dash.js': join(modules, 'dashjs', 'dist', 'modern', 'umd', 'dash.all.min.js'),
  '/lib/hls.js': join(modules, 'hls.js', 'dist', 'hls.min.js'),
};
const PAGE = '<!doctype html><meta charset="utf-8"><video id="video" muted playsinline></video>';
const WAIT = { timeout: 45_000, polling: 100 };
/** English subtitles; the second cue spans the first segment boundary (2 s). */
const SUBTITLES =
  'WEBVTT\n\n1\n00:00.500 --> 00:01.800\nLaunch sequence\n\n2\n00:01.900 --> 00:03.100 align:start\nAcross the first boundary\n\n3\n00:06.000 --> 00:07.900\nNear the end\n';

let engine: Engine;
let dir: string;
let server: StaticServer;
let browser: Browser;
const packages: Record<string, PackageResult> = {};
/** What each player measured: the A/V offset of its buffers at the start and at the end, seconds. */
const measured: Array<{ run: string; start: number; end: number }> = [];

describe.skipIf(SKIP !== null)(`players in Chromium${SKIP ? ` (skipped: ${SKIP})` : ''}`, () => {
  beforeAll(async () => {
    engine = await createEngine({ workers: 2 });
    dir = await makeTempDir();
    const source = media('video', 'oa4-launch-vp8-vorbis.webm');
    const { plan, results } = await encodeParts(engine, source, { video: ['360p', '240p'], audio: ['aac-128', 'aac-64'], segmentDuration: 2 }, dir);
    const cenc: EncryptionOptions = { scheme: 'cenc', keys: [{ kid: KID, key: KEY }], systems: ['clearkey'] };
    const www = join(dir, 'www');
    await writeFile(join(dir, 'en.vtt'), SUBTITLES);
    const subtitles = [{ path: join(dir, 'en.vtt'), language: 'en' }];
    packages.clear = await engine.stitch(plan, results, { outputDir: join(www, 'clear'), subtitles });
    packages['clear-single'] = await engine.stitch(plan, results, { outputDir: join(www, 'clear-single'), singleFile: true, subtitles });
    packages.cenc = await engine.stitch(plan, results, { outputDir: join(www, 'cenc'), encryption: cenc, subtitles });
    packages['cenc-single'] = await engine.stitch(plan, results, { outputDir: join(www, 'cenc-single'), singleFile: true, encryption: cenc, subtitles });
    // A source whose tone starts 0.5 s after its picture (as some cameras write): the audio
    // track starts late, in its tfdt and its first S@t, and must play late by exactly that.
    const late = join(dir, 'late.mp4');
    await engine.generateVideo({ seconds: 4, width: 320, height: 240, frameRate: 25, audioDelay: 0.5, output: late });
    packages.late = await engine.package({ path: late }, { outputDir: join(www, 'late'), video: ['240p'], audio: ['aac-64'], segmentDuration: 2, subtitles });
    server = await serveDirectory(www, ROUTES, { '/': PAGE });
    browser = await launchChromium(chromium!);
  });

  afterAll(async () => {
    if (measured.length) {
      console.log(
        [
          'A/V offset of the buffered media (audio start − video start, audio end − video end), ms:',
          ...measured.map((m) => `  ${m.run}: ${ms(m.start)} at the start, ${ms(m.end)} at the end`),
        ].join('\n'),
      );
    }
    await browser?.close();
    await server?.close();
    await engine?.close();
    await removeTempDir(dir);
  });

  it('shaka-player plays the ClearKey cenc package (DASH), every rendition once, to the end', async () => {
    await exercise('shaka', 'cenc', 'manifest.mpd', true);
  });

  it('dash.js plays the ClearKey cenc package (DASH), every rendition once, to the end', async () => {
    await exercise('dashjs', 'cenc', 'manifest.mpd', true);
  });

  it('hls.js plays the clear package (HLS), every rendition once, to the end', async () => {
    await exercise('hlsjs', 'clear', 'master.m3u8', false);
  });

  it('shaka-player plays the single-file cenc package through its sidx (SegmentBase)', async () => {
    await exercise('shaka', 'cenc-single', 'manifest.mpd', true);
  });

  it('dash.js plays the single-file cenc package through its sidx (SegmentBase)', async () => {
    await exercise('dashjs', 'cenc-single', 'manifest.mpd', true);
  });

  it('hls.js plays the single-file clear package by byte ranges', async () => {
    await exercise('hlsjs', 'clear-single', 'master.m3u8', false);
  });

  it('every player keeps an audio track that starts 0.5 s late in sync', async () => {
    expect(packages.late!.audio[0]!.start - packages.late!.video[0]!.start).toBeCloseTo(0.5, 1);
    await exercise('shaka', 'late', 'manifest.mpd', false);
    await exercise('dashjs', 'late', 'manifest.mpd', false);
    await exercise('hlsjs', 'late', 'master.m3u8', false);
  });
});

function ms(seconds: number): string {
  return `${seconds >= 0 ? '+' : ''}${(seconds * 1000).toFixed(1)}`;
}

interface Buffers {
  type: string;
  ranges: Array<[number, number]>;
}

/** Audio and video buffered spans (first start, last end) of the page's SourceBuffers. */
async function spans(page: Page): Promise<{ audio: [number, number]; video: [number, number] }> {
  const list = (await page.evaluate('window.sourceBuffers()')) as Buffers[];
  const span = (kind: string): [number, number] => {
    const b = list.find((x) => x.type.startsWith(kind) && x.ranges.length > 0);
    if (!b) throw new Error(`no ${kind} SourceBuffer with media (${JSON.stringify(list)})`);
    return [b.ranges[0]![0], b.ranges.at(-1)![1]];
  };
  return { audio: span('audio'), video: span('video') };
}

/** Waits for `condition` (page source); on a timeout, says what the player was doing. */
async function until(page: Page, condition: string, what: string): Promise<void> {
  try {
    await page.waitForFunction(condition, undefined, WAIT);
  } catch (err) {
    const state = await page
      .evaluate(
        "(() => { const v = document.getElementById('video'); return JSON.stringify({ time: v.currentTime, paused: v.paused, readyState: v.readyState, height: v.videoHeight, active: window.player.active(), errors: window.player.errors, buffers: window.sourceBuffers(), text: Array.from(v.textTracks, (t) => ({ language: t.language, mode: t.mode, cues: t.cues?.length })) }); })()",
      )
      .catch((e: unknown) => String(e));
    throw new Error(`${what}: not done in ${WAIT.timeout / 1000} s; ${state}`, { cause: err });
  }
}

async function exercise(player: PlayerName, name: string, manifest: string, protectedPackage: boolean): Promise<void> {
  const pkg = packages[name]!;
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // SANDCODEC_PLAYER_LOG=1 prints the page's console (the players' own warnings) while debugging.
  if (process.env.SANDCODEC_PLAYER_LOG) page.on('console', (m) => console.log(`[${player} ${name}] ${m.type()}: ${m.text()}`));
  try {
    await page.addInitScript({ path: join(repoRoot, 'test', 'players', 'harness.js') });
    await page.goto(`${server.url}/`);
    await page.addScriptTag({ url: LIBRARIES[player] });
    // Page code as source text: the tests compile without the DOM's types.
    const js = (value: unknown) => JSON.stringify(value);
    await page.evaluate(`window.openPlayer(${js(player)}, ${js(`/${name}/${manifest}`)}, ${js(protectedPackage ? KEYS : null)})`);
    const errors = () => page.evaluate('window.player.errors') as Promise<string[]>;

    // The renditions the player found are the package's.
    const found = (await page.evaluate('window.player.renditions()')) as { video: Array<{ id: string; height: number }>; audio: Array<{ id: string }> };
    expect(found.video.map((v) => v.id).sort()).toEqual(pkg.video.map((t) => t.id).sort());
    expect(found.audio.map((a) => a.id).sort()).toEqual(pkg.audio.map((t) => t.id).sort());

    // The subtitles are offered by language and name, and their cues show at their times.
    const offered = (await page.evaluate('window.player.subtitles()')) as Array<{ language: string; name: string }>;
    expect(offered.map((t) => t.language)).toEqual(['en']);
    expect(offered[0]!.name).toBe('English');
    await page.evaluate("window.player.showSubtitles('en')");

    // From the start: the first seconds play, and the buffers say where audio and video begin.
    await page.evaluate("document.getElementById('video').play()");
    await until(page, "document.getElementById('video').currentTime >= 1.5", `${player} playing from the start`);
    const first = await spans(page);
    // A seek into the second cue: dash.js copies its parsed cues into the element's track on a
    // seek, otherwise only on some time updates, and a loaded machine once played the whole 4 s
    // programme without a cue in the track.
    await page.evaluate("document.getElementById('video').currentTime = 2");
    await until(page, "window.showingCues().some((c) => c.text === 'Across the first boundary')", `${player} showing the subtitles`);
    const cues = (await page.evaluate('window.showingCues()')) as Array<{ start: number; end: number; text: string }>;
    for (const [text, start, end] of [
      ['Launch sequence', 0.5, 1.8],
      ['Across the first boundary', 1.9, 3.1],
    ] as const) {
      const shown = cues.filter((c) => c.text === text);
      expect(shown.length, `${player}: cue "${text}" once`).toBe(1);
      expect(shown[0]!.start).toBeCloseTo(start, 2);
      expect(shown[0]!.end).toBeCloseTo(end, 2);
    }

    // Every rendition, forced once: selected, fetched (after the switch) and played at its size.
    const renditions = [
      ...pkg.video.map((t) => ({ kind: 'video', id: t.id, height: t.height! })),
      ...pkg.audio.map((t) => ({ kind: 'audio', id: t.id, height: 0 })),
    ];
    for (const [i, r] of renditions.entries()) {
      const mark = server.requests.length;
      const already = ((await page.evaluate('window.player.active()')) as Record<string, string>)[r.kind] === r.id;
      const now = (await page.evaluate("document.getElementById('video').currentTime")) as number;
      await page.evaluate(`window.player.select(${js(r.kind)}, ${js(r.id)})`);
      // The switch settles while playing on (a seek at the very instant of a switch stalls
      // shaka-player 5.2's SegmentTemplate streams with an empty video buffer), then a seek: what
      // plays from there must come from the forced rendition.
      await until(
        page,
        `window.player.active()[${js(r.kind)}] === ${js(r.id)} && document.getElementById('video').currentTime >= ${now + 0.25}`,
        `${player} switching to ${r.id}`,
      );
      const at = 1 + ((i * 2) % Math.max(1, Math.floor(pkg.duration) - 3));
      await page.evaluate(`document.getElementById('video').currentTime = ${at}`);
      const size = r.kind === 'video' ? ` && v.videoHeight === ${r.height}` : '';
      await until(
        page,
        `(() => { const v = document.getElementById('video'); return window.player.active()[${js(r.kind)}] === ${js(r.id)}${size} && v.currentTime >= ${at + 0.5}; })()`,
        `${player} playing ${r.id} from ${at} s`,
      );
      // Fetched after forcing it, unless it was already the one playing (hls.js keeps its buffer then).
      const fetched = server.requests.slice(already ? 0 : mark).filter((u) => u.startsWith(`/${name}/${r.id}/`) && !u.includes('.m3u8'));
      expect(fetched.length, `${player}: media of ${r.id} fetched${already ? '' : ' after forcing it'}`).toBeGreaterThan(0);
    }

    // The end: from a seek 1.5 s before it, playback reaches `ended`.
    await page.evaluate(`document.getElementById('video').currentTime = ${pkg.duration - 1.5}`);
    await until(page, 'window.ended === true', `${player} reaching the end`);
    const last = await spans(page);
    const end = (await page.evaluate("document.getElementById('video').currentTime")) as number;
    expect(end).toBeGreaterThan(pkg.duration - 0.1);

    expect(await errors()).toEqual([]);
    expect(consoleErrors).toEqual([]);
    // Audio and video line up in the player's buffers as they do in the package, at the start and
    // at the end. The package has no edit list: the player places each track by its tfdt and the
    // MPD's presentationTimeOffset (HLS: by media time alone), and trims the priming before the
    // programme's start. A player that applied the priming twice, or not at all, would be 18 to
    // 23 ms off; 3 ms allows for the append window's rounding and nothing more.
    const tolerance = 0.003;
    const [audio, video] = [pkg.audio[0]!, pkg.video[0]!];
    const startOffset = first.audio[0] - first.video[0] - (audio.start - video.start);
    const endOffset = last.audio[1] - last.video[1] - (audio.start + audio.duration - (video.start + video.duration));
    measured.push({ run: `${player} ${name}`, start: startOffset, end: endOffset });
    expect(Math.abs(startOffset), `${player}: A/V offset at the start`).toBeLessThanOrEqual(tolerance);
    expect(Math.abs(endOffset), `${player}: A/V offset at the end`).toBeLessThanOrEqual(tolerance);
  } finally {
    await page.close();
  }
}
