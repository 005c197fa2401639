/**
 * Packaging a generated source (testsrc2 with a tone): an H.264 ladder and AAC renditions as CMAF
 * segments under HLS and DASH, checked box by box, manifest by manifest, and decoded back; and an
 * audio-only package of real music (AAC at two rates, Opus and FLAC in fMP4).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type PackageResult, type ProbeResult, VIDEO_LADDER } from '../dist/index.js';
import { parseMpd, parsePlaylist } from './helpers/manifests.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';
import { readInitSegment } from './helpers/mp4.js';
import { type CheckedPackage, checkPackage } from './helpers/package-check.js';
import { readWav } from './helpers/wav.js';

// The length the packaging issue names for a generated source: 15 segments per rendition.
const SECONDS = 30;
const SEGMENT = 2;
const FPS = 30;

let engine: Engine;
let dir: string;
let source: ProbeResult;
let pkg: PackageResult;
let checked: CheckedPackage;
let music: ProbeResult;
let audioPkg: PackageResult;
let audioChecked: CheckedPackage;
let late: PackageResult;
let lateChecked: CheckedPackage;
const LATE_AUDIO = 0.5;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  const generated = await engine.generateVideo({ seconds: SECONDS, width: 640, height: 360, frameRate: FPS, output: join(dir, 'source.mp4') });
  const musicPath = media('audio', 'illurock.opus');
  const audioJob = engine.package(
    { path: musicPath },
    { audioOnly: true, audio: ['aac-128', 'aac-64', 'opus-96', 'flac'], segmentDuration: 4, outputDir: join(dir, 'music') },
  );
  // The tone starts half a second after the picture, as some cameras write their files.
  const lateJob = engine
    .generateVideo({ seconds: 6, width: 320, height: 180, frameRate: FPS, audioDelay: LATE_AUDIO, output: join(dir, 'late.mp4') })
    .then((g) => engine.package({ path: g.path! }, { video: ['240p'], audio: ['aac-128'], segmentDuration: SEGMENT, outputDir: join(dir, 'late') }));
  [source, pkg, music, audioPkg, late] = await Promise.all([
    engine.probe({ path: generated.path! }, { decode: true }),
    engine.package(
      { path: generated.path! },
      { video: ['720p', '360p', '240p'], audio: ['aac-128', 'aac-64'], segmentDuration: SEGMENT, outputDir: join(dir, 'out') },
    ),
    engine.probe({ path: musicPath }, { decode: true }),
    audioJob,
    lateJob,
  ]);
  checked = checkPackage(pkg, 1 / FPS);
  audioChecked = checkPackage(audioPkg, undefined);
  lateChecked = checkPackage(late, 1 / FPS);
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

describe('video ladder', () => {
  it('never upscales, keeps the aspect ratio with even sizes, and skips what is larger than the source', () => {
    expect(pkg.video.map((v) => [v.id, v.width, v.height])).toEqual([
      ['360p', 640, 360],
      ['240p', 426, 240],
    ]);
    expect(pkg.skipped).toEqual([{ rung: '720p', reason: 'larger than the source (640x360)' }]);
    expect(pkg.frameRate).toBe(FPS);
  });

  it("encodes H.264 with each rung's profile (codec string read from the SPS)", () => {
    for (const v of pkg.video) {
      const profile = VIDEO_LADDER[v.id]!.profile;
      expect(v.codecs.slice(0, 7)).toBe(profile === 'high' ? 'avc1.64' : 'avc1.4d');
    }
    expect(pkg.audio.map((a) => a.codecs)).toEqual(['mp4a.40.2', 'mp4a.40.2']);
  });

  it('cuts every rendition at the same instants, one GOP per segment', () => {
    const video = checked.tracks.filter((t) => t.track.kind === 'video');
    expect(video[0]!.starts.length).toBe(SECONDS / SEGMENT);
    expect(video[1]!.starts).toEqual(video[0]!.starts);
    for (const t of video) for (const s of t.track.segments) expect(s.duration / t.track.timescale).toBeCloseTo(SEGMENT, 9);
    // Audio segments end within one AAC frame of each video boundary.
    for (const a of checked.tracks.filter((t) => t.track.kind === 'audio')) {
      // Programme times: media time less the programme offset; the first segment opens with the
      // priming, presented before 0.
      a.starts.forEach((start, i) => {
        const at = (start + (i ? 0 : a.track.priming) - a.track.presentationTimeOffset) / a.track.timescale;
        expect(Math.abs(at - i * SEGMENT)).toBeLessThan(1024 / a.track.timescale);
      });
    }
  });

  it('holds each rendition to its bitrate cap (VBV maxrate and buffer)', () => {
    for (const v of pkg.video) {
      const rung = VIDEO_LADDER[v.id]!;
      expect(v.averageBandwidth).toBeLessThan(rung.maxrate * 1.1);
      expect(v.averageBandwidth).toBeGreaterThan(rung.bitrate * 0.3);
      // A segment can exceed maxrate by at most what the buffer held at its start.
      expect(v.bandwidth).toBeLessThan((rung.maxrate + rung.bufsize / SEGMENT) * 1.05);
    }
  });

  it('decodes back to the source duration, rendition by rendition', async () => {
    const decoded = await Promise.all(checked.tracks.map((t) => engine.probe({ data: t.joined, name: `${t.track.id}.mp4` }, { decode: true })));
    decoded.forEach((probe, i) => {
      const t = checked.tracks[i]!.track;
      const stream = probe.streams[0]!;
      if (t.kind === 'video') {
        expect(stream.codec).toBe('h264');
        expect([stream.width, stream.height]).toEqual([t.width, t.height]);
        expect(Math.abs(probe.decodedDuration! - source.decodedDuration!)).toBeLessThanOrEqual(1 / FPS + 1e-6);
      } else {
        expect(stream.codec).toBe('aac');
        // AAC adds its priming frame and pads the last one: within two frames.
        expect(Math.abs(probe.decodedDuration! - SECONDS)).toBeLessThan((2 * 1024) / 48000 + 0.001);
      }
    });
  });
});

describe('audio and video in sync', () => {
  // The first picture presents at 0 (checkPackage checks every segment's IDR against its tfdt);
  // the tone must present where the source has it, through the programme offset and the start offset.
  const onsetSeconds = async (t: CheckedPackage['tracks'][number]) => {
    const decoded = readWav((await engine.transcode({ data: t.joined, name: `${t.track.id}.mp4` }, { preset: 'wav' })).bytes!);
    let peak = 0;
    for (const x of decoded.samples) peak = Math.max(peak, Math.abs(x));
    const at = Math.floor(decoded.samples.findIndex((x) => Math.abs(x) > peak / 2) / decoded.channels);
    // The decoder hands out every sample, priming included; the priming presents before the
    // track's start, the next sample at it.
    return t.track.start + (at - t.track.priming) / decoded.sampleRate;
  };

  it('presents the AAC priming before the programme starts, so the tone starts with the picture', async () => {
    const reference = readWav((await engine.transcode({ path: join(dir, 'source.mp4') }, { preset: 'wav' })).bytes!);
    const sourceOnset = reference.samples.findIndex((x) => Math.abs(x) > 0.05) / reference.channels / reference.sampleRate;
    expect(sourceOnset).toBeLessThan(0.001);
    for (const a of checked.tracks.filter((t) => t.track.kind === 'audio')) {
      expect(a.track.priming).toBe(1024);
      // The programme offset is the priming: the track's media time starts at 0, with the priming.
      expect(a.track.presentationTimeOffset).toBe(1024);
      expect(a.starts[0]).toBe(0);
      expect(a.track.start).toBeCloseTo(0, 9);
      expect(Math.abs((await onsetSeconds(a)) - sourceOnset)).toBeLessThan(0.001);
    }
    for (const v of pkg.video) {
      expect(v.start).toBe(0);
      expect(v.presentationTimeOffset / v.timescale).toBeCloseTo(1024 / 48000, 4);
    }
  });

  it('keeps a late start: tone half a second after the first picture, in tfdt', async () => {
    const [video] = late.video;
    const [audio] = lateChecked.tracks.filter((t) => t.track.kind === 'audio');
    expect(video!.start).toBe(0);
    expect(lateChecked.tracks[0]!.starts[0]).toBe(video!.presentationTimeOffset);
    // The track starts early enough to hold its priming before the tone.
    expect(audio!.track.start).toBeGreaterThan(LATE_AUDIO - 0.05);
    expect(audio!.track.start).toBeLessThan(LATE_AUDIO);
    expect(Math.abs((await onsetSeconds(audio!)) - LATE_AUDIO)).toBeLessThan(0.001);
    // Both tracks cut at the same instants: audio segments end within a frame of the video's.
    const videoEnds = video!.segments.map((s) => (s.start + s.duration - video!.presentationTimeOffset) / video!.timescale);
    const audioEnds = audio!.track.segments.map((s) => (s.start + s.duration - audio!.track.presentationTimeOffset) / audio!.track.timescale);
    audioEnds.slice(0, -1).forEach((end, i) => {
      expect(Math.abs(end - videoEnds[i]!)).toBeLessThan(1024 / 48000);
    });
  });
});

describe('manifests', () => {
  it('lists every video rendition once per audio group, with peak and average bandwidth', () => {
    const master = checked.master!;
    expect(master.media.map((m) => [m['GROUP-ID'], m.NAME, m.DEFAULT])).toEqual([
      ['audio-aac-128', 'aac-128', 'YES'],
      ['audio-aac-64', 'aac-64', 'NO'],
    ]);
    expect(master.variants.length).toBe(pkg.video.length * pkg.audio.length);
    for (const variant of master.variants) {
      const v = pkg.video.find((t) => t.playlist === variant.uri)!;
      const a = pkg.audio.find((t) => `audio-${t.id}` === variant.attrs.AUDIO)!;
      expect(variant.attrs.RESOLUTION).toBe(`${v.width}x${v.height}`);
      expect(variant.attrs['FRAME-RATE']).toBe('30.000');
      expect(variant.attrs.CODECS).toBe(`${v.codecs},${a.codecs}`);
      expect(Number(variant.attrs.BANDWIDTH)).toBe(v.bandwidth + a.bandwidth);
      expect(Number(variant.attrs['AVERAGE-BANDWIDTH'])).toBe(v.averageBandwidth + a.averageBandwidth);
    }
  });

  it("states the segments' measured durations (TARGETDURATION, EXTINF, SegmentTimeline)", () => {
    const pl = parsePlaylist(readFileSync(join(pkg.outputDir, '360p', 'playlist.m3u8'), 'utf8'));
    expect(pl.tags.get('#EXT-X-TARGETDURATION')).toEqual([String(SEGMENT)]);
    expect(pl.segments.map((s) => s.duration)).toEqual(Array(SECONDS / SEGMENT).fill(SEGMENT));
    const mpd = parseMpd(readFileSync(pkg.dash!, 'utf8'));
    const rep = mpd.representations.find((r) => r.id === '360p')!;
    expect(rep.attrs.width).toBe('640');
    expect(rep.timeline.map((s) => s.d / rep.timescale)).toEqual(Array(SECONDS / SEGMENT).fill(SEGMENT));
  });

  it('points HLS and DASH at the same segment files, and leaves nothing else behind', () => {
    const mpd = parseMpd(readFileSync(pkg.dash!, 'utf8'));
    for (const rep of mpd.representations) {
      const pl = parsePlaylist(readFileSync(join(pkg.outputDir, rep.id, 'playlist.m3u8'), 'utf8'));
      expect(rep.timeline.map((_, i) => rep.media.replace('$Number$', String(i + 1)))).toEqual(pl.segments.map((s) => `${rep.id}/${s.uri}`));
    }
    // The marker records what the package wrote: a later call replaces only that, and only when asked.
    expect(readdirSync(pkg.outputDir).sort()).toEqual(['.sandcodec-package.json', '240p', '360p', 'aac-128', 'aac-64', 'manifest.mpd', 'master.m3u8']);
    expect(readdirSync(dir).sort()).toEqual(['late', 'late.mp4', 'music', 'out', 'source.mp4']);
  });
});

describe('audio-only packaging', () => {
  it('makes AAC, Opus and FLAC renditions with codec strings from their configuration', () => {
    expect(audioPkg.video).toEqual([]);
    expect(audioPkg.audio.map((a) => [a.id, a.codecs, a.channels, a.sampleRate])).toEqual([
      ['aac-128', 'mp4a.40.2', 1, 48000],
      ['aac-64', 'mp4a.40.2', 1, 48000],
      ['opus-96', 'opus', 1, 48000],
      ['flac', 'flac', 1, 48000],
    ]);
    // Encoder delay, presented before the programme starts: AAC's priming frame, Opus's pre-skip
    // (as its dOps states it); FLAC has none. Every track is offset by the longest.
    const preSkip = readInitSegment(readFileSync(join(audioPkg.outputDir, audioPkg.audio[2]!.init))).opusPreSkip;
    expect(preSkip).toBe(312);
    expect(audioPkg.audio.map((a) => a.priming)).toEqual([1024, 1024, preSkip, 0]);
    expect(audioPkg.audio.map((a) => a.presentationTimeOffset)).toEqual([1024, 1024, 1024, 1024]);
  });

  it('lists the audio renditions as the variants, and one AdaptationSet per codec', () => {
    const master = audioChecked.master!;
    expect(master.media).toEqual([]);
    expect(master.variants.map((v) => [v.uri, v.attrs.CODECS])).toEqual(audioPkg.audio.map((a) => [a.playlist, a.codecs]));
    for (const v of master.variants) expect(v.attrs.RESOLUTION).toBeUndefined();
    const mpd = audioChecked.mpd!;
    expect(new Set(mpd.representations.map((r) => r.contentType))).toEqual(new Set(['audio']));
    const sets = readFileSync(audioPkg.dash!, 'utf8').match(/<AdaptationSet /g)!.length;
    expect(sets).toBe(3);
  });

  it("holds the nominal bitrates and decodes back to the music's length", async () => {
    for (const a of audioPkg.audio.filter((t) => t.nominalBitrate)) {
      expect(a.averageBandwidth / a.nominalBitrate!).toBeGreaterThan(0.85);
      expect(a.averageBandwidth / a.nominalBitrate!).toBeLessThan(1.15);
    }
    const decoded = await Promise.all(audioChecked.tracks.map((t) => engine.probe({ data: t.joined, name: `${t.track.id}.mp4` }, { decode: true })));
    decoded.forEach((probe, i) => {
      expect(probe.streams[0]!.codec).toBe(audioPkg.audio[i]!.codecs.startsWith('mp4a') ? 'aac' : audioPkg.audio[i]!.codecs);
      expect(Math.abs(probe.decodedDuration! - music.decodedDuration!)).toBeLessThan(0.1);
    });
  });
});
