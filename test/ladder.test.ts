/**
 * Ladders and transcodes, checked the way a music service checks its renditions: each one is
 * probed and decoded again, and must have the right codec, rate, channels, length and bitrate.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIO_PRESET_NAMES,
  AUDIO_PRESETS,
  createEngine,
  type Engine,
  type LadderResult,
  type ProbeResult,
  type Progress,
  type Rendition,
} from '../dist/index.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';

/** What FFmpeg calls each preset family's codec when it reads a rendition back. */
const PROBED_CODEC: Record<string, string> = { vorbis: 'vorbis', opus: 'opus', aac: 'aac', mp3: 'mp3', flac: 'flac', pcm: 'pcm_s16le' };
const FORMAT: Record<string, string> = { ogg: 'ogg', opus: 'ogg', ipod: 'mov,mp4,m4a,3gp,3g2,mj2', mp3: 'mp3', flac: 'flac', wav: 'wav' };
const HELD_BITRATE = new Set(['cbr', 'abr', 'cvbr']);
const SECONDS = 12;
const VORBIS_MONO_MAX = 240_000;

let engine: Engine;
let dir: string;
let master: Uint8Array;
let masterProbe: ProbeResult;
const generateEvents: Progress[] = [];

const REAL_JOBS = [
  // Vorbis 44.1 kHz stereo music.
  { file: 'renpyallstars.ogg', presets: ['opus-96', 'aac-128', 'mp3-320'] },
  // 8 kHz mono speech: lossy renditions go up to 44.1 kHz, where the encoders can spend their rate
  // and AAC's padded last frame is short; lossless ones keep 8 kHz.
  { file: 'codec2-ve9qrp.wav', presets: ['aac-128', 'mp3-320', 'flac'] },
  // 48 kHz mono Opus. Mono Vorbis tops out at 240 kbit/s: vorbis-320 is held there.
  { file: 'illurock.opus', presets: ['opus-160', 'vorbis-320'] },
];
type RealLadder = { job: (typeof REAL_JOBS)[number]; source: ProbeResult; result: LadderResult };
let realLadders: Promise<RealLadder[]>;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  const generated = await engine.generate({ kind: 'music', seconds: SECONDS, preset: 'flac', onProgress: (p) => generateEvents.push(p) });
  master = generated.bytes!;
  masterProbe = await engine.probe(master, { decode: true });
  // Started now, checked later: they keep the second worker busy while the big ladder runs.
  realLadders = Promise.all(
    REAL_JOBS.map(async (job) => {
      const path = media('audio', job.file);
      const [source, result] = await Promise.all([engine.probe({ path }, { decode: true }), engine.ladder({ path }, job.presets)]);
      return { job, source, result };
    }),
  );
  realLadders.catch(() => {});
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

interface Source {
  sampleRate: number;
  channels: number;
  decodedDuration: number;
}

/** Probes a rendition back, decoding it, and checks what every rendition must satisfy. */
async function checkRendition(r: Rendition, source: Source): Promise<ProbeResult> {
  const preset = AUDIO_PRESETS[r.preset]!;
  const bytes = r.path ? new Uint8Array(await readFile(r.path)) : r.bytes!;
  expect(bytes.byteLength, r.preset).toBe(r.size);
  const p = await engine.probe(bytes, { decode: true });
  expect(p.format, r.preset).toBe(FORMAT[preset.format]);
  expect(p.streams, r.preset).toHaveLength(1);
  const s = p.streams[0]!;
  expect(s.type).toBe('audio');
  expect(s.codec, r.preset).toBe(PROBED_CODEC[preset.codec]);
  expect(r.codec).toBe(preset.codec);
  expect(s.sampleRate, r.preset).toBe(expectedRate(r.preset, source.sampleRate));
  expect(s.channels, r.preset).toBe(Math.min(source.channels, preset.maxChannels ?? source.channels));
  // Decoders trim encoder delay and padding: the rendition plays exactly as long as its source.
  expect(Math.abs(p.decodedDuration! - source.decodedDuration), `${r.preset} decoded ${p.decodedDuration} s`).toBeLessThanOrEqual(0.05);
  if (preset.bitrate && HELD_BITRATE.has(preset.rateControl)) {
    const bitrate = (r.size * 8) / p.decodedDuration!;
    // libvorbis has no mono setup above 240 kbit/s.
    const nominal = preset.codec === 'vorbis' && s.channels === 1 ? Math.min(preset.bitrate, VORBIS_MONO_MAX) : preset.bitrate;
    expect(Math.abs(bitrate / nominal - 1), `${r.preset}: ${Math.round(bitrate)} bit/s`).toBeLessThanOrEqual(0.15);
    // The rendition's own figure is over the source's header duration: close to the measured one.
    expect(Math.abs(r.bitrate! - bitrate) / bitrate).toBeLessThan(0.1);
  }
  return p;
}

/**
 * Lossless renditions keep the source's rate; lossy ones are delivered at 44.1 or 48 kHz (Opus
 * always 48 kHz, MP3 at one of the two MPEG-1 rates), from the same family as the source.
 */
function expectedRate(presetName: string, sourceRate: number): number {
  const preset = AUDIO_PRESETS[presetName]!;
  if (preset.rateControl === 'lossless') return sourceRate;
  if (preset.sampleRate) return preset.sampleRate;
  if (sourceRate < 44100) return 44100;
  if (sourceRate > 48000) return sourceRate % 44100 === 0 ? 44100 : 48000;
  return sourceRate;
}

/** The PCM payload of a WAV file (its `data` chunk), whatever other chunks precede it. */
function wavData(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('RIFF');
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const id = new TextDecoder().decode(bytes.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    if (id === 'data') return bytes.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

function checkProgress(events: Progress[], phase: string, { midway = false } = {}): void {
  // At least one report per phase; how many more depends on how fast the machine is (50 ms apart).
  expect(events.length).toBeGreaterThanOrEqual(2);
  expect(events[0]!.phase).toBe('probe');
  expect(new Set(events.map((e) => e.phase))).toEqual(new Set(['probe', phase]));
  for (const [i, e] of events.entries()) {
    expect(e.ratio).toBeGreaterThanOrEqual(0);
    expect(e.ratio).toBeLessThanOrEqual(1);
    if (i > 0) expect(e.ratio).toBeGreaterThanOrEqual(events[i - 1]!.ratio);
  }
  expect(events.at(-1)!.phase).toBe(phase);
  expect(events.at(-1)!.ratio).toBe(1);
  // A long job reports on its way, not only at its end (a short one may finish between reports).
  if (midway) expect(events.some((e) => e.ratio > 0.2 && e.ratio < 0.9)).toBe(true);
}

it('generate makes the source it was asked for, reporting progress up to 1', () => {
  expect(masterProbe.streams[0]).toMatchObject({ codec: 'flac', sampleRate: 44100, channels: 2, bitsPerSample: 16 });
  expect(masterProbe.decodedDuration).toBeCloseTo(SECONDS, 2);
  expect(new Set(generateEvents.map((e) => e.phase))).toEqual(new Set(['generate']));
  for (const [i, e] of generateEvents.entries()) if (i > 0) expect(e.ratio).toBeGreaterThanOrEqual(generateEvents[i - 1]!.ratio);
  expect(generateEvents.at(-1)).toMatchObject({ ratio: 1, seconds: SECONDS });
});

describe('a ladder of every preset', () => {
  let result: LadderResult;
  const events: Progress[] = [];

  beforeAll(async () => {
    expect(masterProbe.decodedDuration).toBeCloseTo(SECONDS, 2);
    result = await engine.ladder({ data: master, name: 'music.flac' }, [...AUDIO_PRESET_NAMES], {
      outputDir: dir,
      onProgress: (p) => events.push(p),
    });
  });

  it('writes one file per preset into the output directory, nothing else', async () => {
    expect(result.renditions.map((r) => r.preset)).toEqual(AUDIO_PRESET_NAMES);
    const expected = AUDIO_PRESET_NAMES.map((n) => `music.${n}.${AUDIO_PRESETS[n]!.extension}`);
    expect((await readdir(dir)).sort()).toEqual([...expected].sort());
    for (const [i, r] of result.renditions.entries()) {
      expect(r.path).toBe(join(dir, expected[i]!));
      expect(r.bytes).toBeUndefined();
      expect((await stat(r.path!)).size).toBe(r.size);
    }
    expect(result.source.streams[0]!.codec).toBe('flac');
  });

  for (const name of AUDIO_PRESET_NAMES) {
    it(`${name}: codec, rate, channels, decoded length and bitrate`, async () => {
      const s = masterProbe.streams[0]!;
      await checkRendition(result.renditions.find((r) => r.preset === name)!, {
        sampleRate: s.sampleRate!,
        channels: s.channels!,
        decodedDuration: masterProbe.decodedDuration!,
      });
    });
  }

  it('keeps flac and wav bit-exact', async () => {
    const [flac, wav] = ['flac', 'wav'].map((n) => result.renditions.find((r) => r.preset === n)!);
    const pcm = wavData(new Uint8Array(await readFile(wav!.path!)));
    expect(pcm.byteLength).toBe(SECONDS * 44100 * 2 * 2);
    const fromFlac = await engine.transcode({ path: flac!.path! }, { preset: 'wav' });
    const fromMaster = await engine.transcode(master, { preset: 'wav' });
    expect(Buffer.compare(wavData(fromFlac.bytes!), pcm)).toBe(0);
    expect(Buffer.compare(wavData(fromMaster.bytes!), pcm)).toBe(0);
  });

  it('reports monotonic progress from 0 to 1 in named phases', () => {
    checkProgress(events, 'ladder', { midway: true });
  });
});

describe('ladders of real files', () => {
  it('encodes real sources at the right rates and lengths', async () => {
    for (const { job, source, result } of await realLadders) {
      const s = source.streams[0]!;
      expect(result.renditions.map((r) => r.preset)).toEqual(job.presets);
      for (const r of result.renditions) {
        expect(r.path).toBeUndefined();
        const p = await checkRendition(r, { sampleRate: s.sampleRate!, channels: s.channels!, decodedDuration: source.decodedDuration! });
        if (job.file === 'illurock.opus') expect(p.streams[0]!.sampleRate).toBe(48000);
      }
    }
  });

  it('delivers lossy renditions at 44.1 or 48 kHz whatever the source rate', async () => {
    for (const sampleRate of [22050, 88200, 96000]) {
      const source = await engine.generate({ kind: 'music', seconds: 4, sampleRate, preset: 'flac' });
      const result = await engine.ladder(source.bytes!, ['vorbis-160', 'aac-128', 'mp3-320', 'flac']);
      for (const r of result.renditions) await checkRendition(r, { sampleRate, channels: 2, decodedDuration: 4 });
    }
  });

  it('transcode without an output returns the bytes', async () => {
    const events: Progress[] = [];
    const r = await engine.transcode(master, { preset: 'opus-96', onProgress: (p) => events.push(p) });
    expect(r.path).toBeUndefined();
    expect(r.bytes).toBeInstanceOf(Uint8Array);
    expect(r.preset).toBe('opus-96');
    expect(r.source.streams[0]!.codec).toBe('flac');
    const s = masterProbe.streams[0]!;
    await checkRendition(r, { sampleRate: s.sampleRate!, channels: s.channels!, decodedDuration: masterProbe.decodedDuration! });
    checkProgress(events, 'transcode');
  });
});
