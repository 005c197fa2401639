/**
 * `probe` on every file of the real media corpus: what its README says about each file (format,
 * duration, stream parameters) must be what probe reports, whether the file comes as a path or as
 * bytes.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Progress, type StreamInfo } from '../dist/index.js';
import { withoutCall } from './helpers/call.js';
import { mediaDir } from './helpers/media.js';

type Kind = 'audio' | 'video' | 'image';

interface ExpectedStream {
  type: StreamInfo['type'];
  codec: string;
  profile?: string;
  sampleRate?: number;
  channels?: number;
  /** `null`: the file declares no layout (a WAV without a channel mask, AIFF). */
  channelLayout?: string | null;
  width?: number;
  height?: number;
  frameRate?: number;
  pixelFormat?: string;
  tags?: Record<string, string>;
}

interface Expected {
  /** FFmpeg's demuxer name. */
  format: string;
  /** Seconds, as the corpus README gives them (rounded there, hence a tolerance). */
  seconds?: number;
  /** The container header agrees with the decoded length (false where it is known to lie). */
  headerExact?: boolean;
  tags?: Record<string, string>;
  streams: ExpectedStream[];
}

const pcm = (codec: string, sampleRate: number): ExpectedStream => ({ type: 'audio', codec, sampleRate, channels: 1, channelLayout: null });
const audio = (codec: string, sampleRate: number, channels: number, extra: Partial<ExpectedStream> = {}): ExpectedStream => ({
  type: 'audio',
  codec,
  sampleRate,
  channels,
  channelLayout: channels === 1 ? 'mono' : 'stereo',
  ...extra,
});
const picture = (codec: string, width: number, height: number, pixelFormat: string): ExpectedStream => ({ type: 'video', codec, width, height, pixelFormat });

// Facts from test/fixtures/README.md; tags are read from the files themselves.
const EXPECTED: Record<Kind, Record<string, Expected>> = {
  audio: {
    'alsa-Front_Center.wav': { format: 'wav', seconds: 1.4, headerExact: true, streams: [pcm('pcm_s16le', 48000)] },
    'ambi_lunar_land.flac': {
      format: 'flac',
      seconds: 7.4,
      headerExact: true,
      tags: { Comment: 'Processed by SoX' },
      streams: [audio('flac', 44100, 2)],
    },
    'codec2-ve9qrp.wav': { format: 'wav', seconds: 112, headerExact: true, streams: [pcm('pcm_s16le', 8000)] },
    'freedesktop-complete.oga': { format: 'ogg', seconds: 1.1, streams: [audio('vorbis', 44100, 2)] },
    'freedesktop-phone-incoming-call.oga': { format: 'ogg', seconds: 1.5, streams: [audio('vorbis', 44100, 2)] },
    'illurock.opus': { format: 'ogg', seconds: 28, streams: [audio('opus', 48000, 1, { tags: { encoder: 'Lavc57.24.102 libopus' } })] },
    'loop_amen.flac': { format: 'flac', seconds: 1.75, headerExact: true, streams: [audio('flac', 44100, 2)] },
    'puredata-bell.aiff': { format: 'aiff', seconds: 3.5, headerExact: true, streams: [pcm('pcm_s16be', 44100)] },
    'renpyallstars.ogg': { format: 'ogg', seconds: 45, streams: [audio('vorbis', 44100, 2)] },
  },
  video: {
    'realshort-h264-aac.mp4': {
      format: 'mov,mp4,m4a,3gp,3g2,mj2',
      seconds: 1.2,
      tags: { major_brand: 'isom', creation_time: '2014-11-05T13:51:33.000000Z' },
      streams: [
        {
          type: 'video',
          codec: 'h264',
          profile: 'High',
          width: 320,
          height: 240,
          pixelFormat: 'yuv420p',
          frameRate: 30,
          tags: { handler_name: 'VideoHandle' },
        },
        audio('aac', 48000, 1, { profile: 'LC', tags: { handler_name: 'SoundHandle' } }),
      ],
    },
    'oa4-launch-vp8-vorbis.webm': {
      format: 'matroska,webm',
      seconds: 8.1,
      tags: { encoder: 'Lavf57.25.100' },
      streams: [
        { type: 'video', codec: 'vp8', width: 640, height: 360, pixelFormat: 'yuv420p', frameRate: 24 },
        audio('vorbis', 48000, 2, { tags: { language: 'eng' } }),
      ],
    },
    'gem-anim-1-mjpeg.mov': {
      format: 'mov,mp4,m4a,3gp,3g2,mj2',
      seconds: 3,
      tags: { creation_time: '2001-01-26T15:11:30.000000Z' },
      streams: [
        { type: 'video', codec: 'mjpeg', width: 256, height: 256, pixelFormat: 'yuvj422p', frameRate: 30, tags: { handler_name: 'Apple Video Media Handler' } },
      ],
    },
  },
  image: {
    'astronaut.png': { format: 'png_pipe', streams: [picture('png', 512, 512, 'rgb24')] },
    'coffee.png': { format: 'png_pipe', streams: [picture('png', 600, 400, 'rgb24')] },
    'renpy-washington.jpg': { format: 'jpeg_pipe', streams: [picture('mjpeg', 1280, 720, 'yuvj422p')] },
    'renpy-sylvie-rgba.png': { format: 'png_pipe', streams: [picture('png', 456, 700, 'rgba')] },
    'newtonscradle-animated.gif': {
      format: 'gif',
      // 36 frames, 0.82 s by native ffprobe 5.1 (the corpus README gives no duration).
      seconds: 0.82,
      tags: { comment: 'File source: http://commons.wikimedia.org/wiki/File:Newtons_cradle_animation_book_2.gif' },
      streams: [picture('gif', 200, 150, 'bgra')],
    },
  },
};

const KINDS: Kind[] = ['audio', 'video', 'image'];

function checkStream(actual: StreamInfo, expected: ExpectedStream, index: number): void {
  expect(actual.index).toBe(index);
  expect(actual.type).toBe(expected.type);
  expect(actual.codec).toBe(expected.codec);
  if (expected.profile !== undefined) expect(actual.profile).toBe(expected.profile);
  if (expected.type === 'audio') {
    expect(actual.sampleRate).toBe(expected.sampleRate);
    expect(actual.channels).toBe(expected.channels);
    expect(actual.channelLayout).toBe(expected.channelLayout ?? undefined);
    expect(actual.width).toBeUndefined();
  } else {
    expect(actual.width).toBe(expected.width);
    expect(actual.height).toBe(expected.height);
    expect(actual.pixelFormat).toBe(expected.pixelFormat);
    expect(actual.sampleRate).toBeUndefined();
    // Stills get a nominal rate from the demuxer; only real video has a rate worth checking.
    if (expected.frameRate !== undefined) expect(Math.abs(actual.frameRate! - expected.frameRate)).toBeLessThan(0.05);
  }
  expect(actual.tags).toMatchObject(expected.tags ?? {});
}

let engine: Engine;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
});

afterAll(async () => {
  await engine?.close();
});

describe('probe on the real media corpus', () => {
  it('has an expectation for every file of the corpus', async () => {
    for (const kind of KINDS) {
      const files = (await readdir(join(mediaDir, kind))).sort();
      expect(files).toEqual(Object.keys(EXPECTED[kind]).sort());
    }
  });

  for (const kind of KINDS) {
    for (const [file, expected] of Object.entries(EXPECTED[kind])) {
      it(`${kind}/${file}: format, duration, streams, tags`, async () => {
        const path = join(mediaDir, kind, file);
        const bytes = await readFile(path);
        const result = await engine.probe({ path }, { decode: true });

        expect(result.format).toBe(expected.format);
        expect(result.size).toBe(bytes.byteLength);
        expect(result.tags).toMatchObject(expected.tags ?? {});
        expect(result.streams).toHaveLength(expected.streams.length);
        expected.streams.forEach((s, i) => {
          checkStream(result.streams[i]!, s, i);
        });

        if (expected.seconds !== undefined) {
          // The README rounds to one or two digits.
          const tolerance = Math.max(0.1, expected.seconds * 0.01);
          expect(Math.abs(result.decodedDuration! - expected.seconds)).toBeLessThanOrEqual(tolerance);
          expect(result.duration).not.toBeNull();
          if (expected.headerExact) expect(Math.abs(result.duration! - result.decodedDuration!)).toBeLessThan(0.02);
          expect(result.bitrate).toBeGreaterThan(0);
        } else {
          expect(result.duration).toBeNull();
        }
      });
    }
  }

  it('reports the same for bytes, named bytes and a path', async () => {
    for (const kind of KINDS) {
      for (const file of Object.keys(EXPECTED[kind])) {
        const path = join(mediaDir, kind, file);
        const bytes = new Uint8Array(await readFile(path));
        const fromPath = withoutCall(await engine.probe({ path }));
        expect(withoutCall(await engine.probe(bytes)), `${file} as bytes`).toEqual(fromPath);
        expect(withoutCall(await engine.probe({ data: bytes, name: file })), `${file} as named bytes`).toEqual(fromPath);
      }
    }
  });

  it('reports decode progress up to 1', async () => {
    const events: Progress[] = [];
    const result = await engine.probe({ path: join(mediaDir, 'audio', 'codec2-ve9qrp.wav') }, { decode: true, onProgress: (p) => events.push(p) });
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((e) => e.phase))).toEqual(new Set(['decode']));
    for (const [i, e] of events.entries()) if (i > 0) expect(e.ratio).toBeGreaterThanOrEqual(events[i - 1]!.ratio);
    expect(events.at(-1)).toMatchObject({ ratio: 1, seconds: result.decodedDuration });
  });

  it('decodes the same length from bytes as from a path', async () => {
    const path = join(mediaDir, 'audio', 'illurock.opus');
    const a = await engine.probe({ path }, { decode: true });
    const b = await engine.probe(await readFile(path), { decode: true });
    expect(b.decodedDuration).toBe(a.decodedDuration);
    expect(withoutCall(b)).toEqual(withoutCall(a));
  });
});
