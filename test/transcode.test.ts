/**
 * `transcode` beyond one audio preset: trims that are exact to the sample (audio) and to the
 * frame (video), fades checked sample by sample against the gain curve, presets with settings
 * changed, and the video file presets read back the way a player would: codecs, sizes, length,
 * the MP4 index at the front, keyframes every two seconds.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type ProbeResult } from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { decodeGray } from './helpers/frames.js';
import { media } from './helpers/media.js';
import { syncSamples, walk } from './helpers/mp4.js';
import { readWav } from './helpers/wav.js';

let engine: Engine;
let flac: Uint8Array;
let flacProbe: ProbeResult;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  flac = new Uint8Array(await readFile(media('audio', 'ambi_lunar_land.flac')));
  flacProbe = await engine.probe(flac);
});

afterAll(async () => {
  await engine?.close();
});

describe('trimming audio', () => {
  it('keeps exactly the samples from start for duration', async () => {
    const rate = flacProbe.streams[0]!.sampleRate!;
    const whole = readWav((await engine.transcode(flac, { preset: 'wav' })).bytes!);
    const cut = await engine.transcode(flac, { preset: 'wav', start: 1.5, duration: 2 });
    expect(cut.start).toBe(1.5);
    expect(cut.duration).toBe(2);
    const kept = readWav(cut.bytes!);
    const channels = kept.channels;
    expect(kept.samples.length / channels).toBe(2 * rate);
    const from = Math.round(1.5 * rate) * channels;
    expect(Buffer.from(kept.samples.buffer).equals(Buffer.from(whole.samples.subarray(from, from + kept.samples.length).slice().buffer))).toBe(true);
  });

  it('ends where the source ends when duration runs past it', async () => {
    const cut = await engine.transcode(flac, { preset: 'flac', start: 6 });
    const back = await engine.probe(cut.bytes!, { decode: true });
    expect(cut.duration).toBeCloseTo(flacProbe.duration! - 6, 6);
    expect(back.decodedDuration).toBeCloseTo(flacProbe.duration! - 6, 3);
  });

  // The encoders' priming and padding are undone by the players (edit lists, pre-skip, the LAME
  // tag, granule positions): a decoded preview is the length asked for.
  it.each(['aac-128', 'opus-96', 'mp3-320', 'vorbis-160'])('a 3 s %s preview decodes to 3 s', async (preset) => {
    const cut = await engine.transcode(flac, { preset, start: 1, duration: 3 });
    const back = await engine.probe(cut.bytes!, { decode: true });
    expect(back.decodedDuration).toBeGreaterThan(2.99);
    expect(back.decodedDuration).toBeLessThan(3.03);
    expect(cut.bitrate).toBe(Math.round((cut.size * 8) / 3));
  });
});

describe('fades', () => {
  it('scale the samples by a linear ramp in and out', async () => {
    const start = 2;
    const length = 3;
    const fade = 0.5;
    const source = readWav((await engine.transcode(flac, { preset: 'wav', start, duration: length })).bytes!);
    const faded = readWav((await engine.transcode(flac, { preset: 'wav', start, duration: length, fadeIn: fade, fadeOut: fade })).bytes!);
    const { channels, sampleRate } = source;
    const frames = source.samples.length / channels;
    expect(faded.samples.length).toBe(source.samples.length);
    const ramp = fade * sampleRate;
    let worst = 0;
    let touched = 0;
    for (let f = 0; f < frames; f++) {
      const gain = f < ramp ? f / ramp : f >= frames - ramp ? (frames - f) / ramp : 1;
      for (let c = 0; c < channels; c++) {
        const i = f * channels + c;
        // s16 → s16 through the fade's own rounding: one step of 16 bits at most.
        worst = Math.max(worst, Math.abs(faded.samples[i]! - source.samples[i]! * gain));
        if (gain === 1 && faded.samples[i] !== source.samples[i]) touched++;
      }
    }
    expect(worst).toBeLessThanOrEqual(1.5 / 32768);
    expect(touched, 'samples outside the fades changed').toBe(0);
    // The ramps are there at all: the first and last samples are near silence.
    expect(Math.abs(faded.samples[0]!)).toBeLessThan(1e-3);
    expect(Math.abs(faded.samples[faded.samples.length - 1]!)).toBeLessThan(1e-3);
  });

  it('are checked against what the output holds', async () => {
    const long = await failure(engine.transcode(flac, { preset: 'flac', duration: 1, fadeIn: 0.6, fadeOut: 0.6 }));
    expect(long.code).toBe('E_OPTIONS');
    expect(long.details.option).toBe('fadeIn');
    const late = await failure(engine.transcode(flac, { preset: 'flac', start: 7, fadeOut: 1 }));
    expect(late.details.option).toBe('fadeIn');
    const past = await failure(engine.transcode(flac, { preset: 'flac', start: 60 }));
    expect(past.code).toBe('E_OPTIONS');
    expect(past.details.option).toBe('start');
    expect(past.message).toMatch(/past the end/);
  });
});

describe('custom presets', () => {
  it('change the bitrate, channels and rate of a named preset', async () => {
    const out = await engine.transcode(flac, { preset: { base: 'mp3-320', bitrate: 192000, channels: 1, sampleRate: 48000 } });
    expect(out.preset).toBe('mp3-320');
    expect(out.custom).toEqual({ bitrate: 192000, channels: 1, sampleRate: 48000 });
    const back = await engine.probe(out.bytes!);
    expect(back.streams[0]).toMatchObject({ codec: 'mp3', channels: 1, sampleRate: 48000 });
    expect(Math.abs(out.bitrate! - 192000) / 192000).toBeLessThan(0.03);
  });

  it('change the codec, and the container with it', async () => {
    const out = await engine.transcode(flac, { preset: { base: 'aac-256', codec: 'opus', bitrate: 64000 } });
    const back = await engine.probe(out.bytes!);
    expect(out.codec).toBe('opus');
    expect(back.format).toBe('ogg');
    expect(back.streams[0]).toMatchObject({ codec: 'opus', sampleRate: 48000 });
    expect(Math.abs(out.bitrate! - 64000) / 64000).toBeLessThan(0.15);
  });

  it.each([
    [{ base: 'flac', bitrate: 128000 }, 'preset.bitrate', /lossless/],
    [{ base: 'mp3-320', bitrate: 200000 }, 'preset.bitrate', /MP3 bitrate/],
    [{ base: 'opus-96', sampleRate: 44100 }, 'preset.sampleRate', /48000 Hz for opus/],
    [{ base: 'aac-128', channels: 6 }, 'preset.channels', /from 1 to 2/],
    [{ base: 'aac-128', size: 720 }, 'preset.size', /video setting/],
    [{ base: 'webm-vp9-opus', codec: 'aac' }, 'preset.codec', /webm files here carry opus, vorbis/],
    [{ base: 'aac-999' }, 'preset.base', /unknown preset/],
    [{ base: 'aac-128', loudness: -14 }, 'preset.loudness', /not a preset setting/],
  ])('%j is refused, naming %s', async (preset, option, message) => {
    const error = await failure(engine.transcode(flac, { preset: preset as never }));
    expect(error.code).toBe('E_OPTIONS');
    expect(error.details.option).toBe(option);
    expect(error.message).toMatch(message);
  });
});

describe('video presets', () => {
  let video: Uint8Array;

  beforeAll(async () => {
    // testsrc2's picture moves and counts every frame: each one differs from its neighbours.
    video = (await engine.generateVideo({ seconds: 4, width: 320, height: 180, frameRate: 25 })).bytes!;
  });

  it('mp4-h264-aac: H.264 and AAC, the index in front, a keyframe every 2 s', async () => {
    const out = await engine.transcode(video, { preset: 'mp4-h264-aac' });
    expect(out.video).toEqual({ codec: 'h264', width: 320, height: 180 });
    const back = await engine.probe(out.bytes!, { decode: true });
    expect(back.format).toMatch(/mp4/);
    const [v, a] = back.streams;
    expect(v).toMatchObject({ type: 'video', codec: 'h264', width: 320, height: 180, pixelFormat: 'yuv420p', profile: 'High' });
    expect(a).toMatchObject({ type: 'audio', codec: 'aac' });
    expect(back.duration).toBeCloseTo(4, 1);
    const top = walk(out.bytes!).map((b) => b.type);
    expect(top.indexOf('moov')).toBeLessThan(top.indexOf('mdat'));
    expect(syncSamples(out.bytes!)).toEqual([1, 51]);
  });

  it('cuts on the frame at start, and keeps duration of frames', async () => {
    const out = await engine.transcode(video, { preset: 'mp4-h264-aac', start: 1.2, duration: 1 });
    const source = await decodeGray(video, 80, 45);
    const cut = await decodeGray(out.bytes!, 80, 45);
    expect(cut.length).toBe(25);
    // Each kept frame is closest to the source frame 30 further on (1.2 s at 25 fps).
    for (const k of [0, 12, 24]) {
      const distances = source.map((frame) => meanAbsDiff(frame, cut[k]!));
      expect(distances.indexOf(Math.min(...distances))).toBe(30 + k);
    }
    const back = await engine.probe(out.bytes!, { decode: true });
    expect(back.decodedDuration).toBeGreaterThan(0.97);
    expect(back.decodedDuration).toBeLessThan(1.05);
  });

  it('webm-vp9-opus from a VP8 and Vorbis WebM, at a smaller size', async () => {
    const source = new Uint8Array(await readFile(media('video', 'oa4-launch-vp8-vorbis.webm')));
    const out = await engine.transcode(source, { preset: { base: 'webm-vp9-opus', size: 240 }, duration: 3 });
    expect(out.video).toEqual({ codec: 'vp9', width: 426, height: 240 });
    const back = await engine.probe(out.bytes!, { decode: true });
    expect(back.format).toMatch(/webm|matroska/);
    expect(back.streams.map((s) => [s.type, s.codec])).toEqual([
      ['video', 'vp9'],
      ['audio', 'opus'],
    ]);
    expect(back.streams[0]).toMatchObject({ width: 426, height: 240 });
    expect(back.decodedDuration).toBeGreaterThan(2.9);
    expect(back.decodedDuration).toBeLessThan(3.1);
  });

  it('fade the picture from and to black', async () => {
    const out = await engine.transcode(video, { preset: 'mp4-h264-aac', duration: 2, fadeIn: 0.5, fadeOut: 0.5 });
    const frames = await decodeGray(out.bytes!, 80, 45);
    const mean = (f: Uint8Array) => f.reduce((s, x) => s + x, 0) / f.length;
    // Limited-range black is 16.
    expect(mean(frames[0]!)).toBeLessThan(20);
    expect(mean(frames[frames.length - 1]!)).toBeLessThan(30);
    expect(mean(frames[25]!)).toBeGreaterThan(50);
  });

  it('on the lgpl core, H.264 comes from OpenH264 at the rung rate or the one asked for', async () => {
    const lgpl = await createEngine({ workers: 1, core: 'lgpl' });
    try {
      const named = await lgpl.transcode(video, { preset: 'mp4-h264-aac', start: 1, duration: 2 });
      const custom = await lgpl.transcode(video, { preset: { base: 'mp4-h264-aac', videoBitrate: 200_000 }, start: 1, duration: 2 });
      for (const out of [named, custom]) {
        const back = await lgpl.probe(out.bytes!, { decode: true });
        expect(back.streams.map((s) => s.codec)).toEqual(['h264', 'aac']);
        expect(back.decodedDuration).toBeGreaterThan(1.97);
        expect(back.decodedDuration).toBeLessThan(2.05);
      }
      expect(custom.size).toBeLessThan(named.size);
    } finally {
      await lgpl.close();
    }
  });

  it('need a picture: an audio file is refused', async () => {
    const error = await failure(engine.transcode(flac, { preset: 'mp4-h264-aac' }));
    expect(error.code).toBe('E_UNSUPPORTED');
    expect(error.message).toMatch(/needs a video stream/);
  });
});

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}
