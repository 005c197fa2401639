/**
 * engine.loudness on real bytes: generated files at several rates, bit depths and channel counts,
 * EBU Tech 3341 cases 1–2 through the whole engine, every real file of the corpus against the
 * TypeScript reference meter fed the same decoded PCM, and a 2-hour file in bounded memory.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Loudness } from '../dist/index.js';
import { LoudnessReference } from '../dist/worker/kernels/loudness-reference.js';
import { withoutCall } from './helpers/call.js';
import { makeTempDir, mediaDir, removeTempDir } from './helpers/media.js';
import { dbfs, readWav, sineFill, type WavFormat, writeWav } from './helpers/wav.js';

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir('sandcodec-loudness-');
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

const KEYS = ['integrated', 'range', 'truePeak', 'samplePeak', 'momentaryMax', 'shortTermMax'];
const amp23 = dbfs(-23);

async function sineFile(name: string, format: WavFormat, sampleRate: number, amplitudes: number[], seconds: number): Promise<string> {
  const path = join(dir, name);
  writeWav(path, { format, sampleRate, channels: amplitudes.length, frames: Math.round(seconds * sampleRate) }, sineFill(sampleRate, 1000, amplitudes));
  return path;
}

describe('engine.loudness on generated files', () => {
  for (const sampleRate of [44100, 48000, 96000]) {
    it(`a stereo 1 kHz sine at -23 dBFS measures -23 LUFS at ${sampleRate} Hz (16-bit FLAC from generate)`, async () => {
      const path = join(dir, `sine-${sampleRate}.flac`);
      await engine.generate({ kind: 'sine', seconds: 6, sampleRate, channels: 2, frequency: 1000, amplitude: amp23, preset: 'flac', output: path });
      const m = await engine.loudness({ path });
      expect(Object.keys(withoutCall(m)).sort()).toEqual([...KEYS].sort());
      expect(m.call.op).toBe('loudness');
      expect(m.integrated).toBeCloseTo(-23, 1);
      expect(Math.abs(m.integrated! + 23)).toBeLessThan(0.1);
      expect(Math.abs(m.momentaryMax! + 23)).toBeLessThan(0.1);
      expect(Math.abs(m.shortTermMax! + 23)).toBeLessThan(0.1);
      expect(m.range).toBeLessThan(0.1);
      expect(Math.abs(m.samplePeak + 23)).toBeLessThan(0.05);
      expect(m.truePeak).toBeGreaterThanOrEqual(m.samplePeak);
      expect(m.truePeak + 23).toBeLessThan(0.1);
    });
  }

  it('8 kHz (a 1 kHz tone is well inside the band): -23 LUFS within 0.1', async () => {
    const path = join(dir, 'sine-8k.wav');
    await engine.generate({ kind: 'sine', seconds: 5, sampleRate: 8000, channels: 2, frequency: 1000, amplitude: amp23, preset: 'wav', output: path });
    const m = await engine.loudness({ path });
    expect(Math.abs(m.integrated! + 23)).toBeLessThan(0.1);
  });

  const DEPTHS = { u8: ['8-bit', 'pcm_u8'], s24: ['24-bit', 'pcm_s24le'], f32: ['float', 'pcm_f32le'] } as const;
  for (const format of ['u8', 's24', 'f32'] as const) {
    it(`${DEPTHS[format][0]} WAV input: -23 LUFS within 0.1, peaks exact to the format's step`, async () => {
      const path = await sineFile(`sine-${format}.wav`, format, 48000, [amp23, amp23], 5);
      const probe = await engine.probe({ path });
      expect(probe.streams[0]!.codec).toBe(DEPTHS[format][1]);
      const m = await engine.loudness({ path });
      expect(Math.abs(m.integrated! + 23)).toBeLessThan(0.1);
      // 8-bit rounds the -23 dBFS peak (9.06 steps of 1/128) to 9 steps: -23.06 dBFS.
      expect(Math.abs(m.samplePeak + 23)).toBeLessThan(format === 'u8' ? 0.1 : 0.01);
    });
  }

  it('float input keeps levels above full scale (+3 dBFS sine: true peak +3 dBTP, no clipping)', async () => {
    const path = await sineFile('sine-over.wav', 'f32', 48000, [dbfs(3), dbfs(3)], 3);
    const m = await engine.loudness({ path });
    expect(Math.abs(m.samplePeak - 3)).toBeLessThan(0.01);
    expect(Math.abs(m.integrated! - 3)).toBeLessThan(0.1);
  });

  it('mono counts as one channel: a mono -23 dBFS sine is -26 LUFS', async () => {
    const path = join(dir, 'mono.flac');
    await engine.generate({ kind: 'sine', seconds: 5, sampleRate: 48000, channels: 1, frequency: 1000, amplitude: amp23, output: path });
    const m = await engine.loudness({ path });
    expect(Math.abs(m.integrated! - (-23 - 10 * Math.log10(2)))).toBeLessThan(0.1);
  });

  it('digital silence: integrated and range null, peaks -Infinity', async () => {
    const path = join(dir, 'silence.flac');
    await engine.generate({ kind: 'silence', seconds: 3, sampleRate: 48000, channels: 2, output: path });
    const m = await engine.loudness({ path });
    expect(m.integrated).toBeNull();
    expect(m.range).toBeNull();
    expect(m.samplePeak).toBe(-Infinity);
    expect(m.truePeak).toBe(-Infinity);
    expect(m.momentaryMax).toBe(-Infinity);
  });

  it('a file shorter than 400 ms: no gated block (null), peaks still measured', async () => {
    const path = await sineFile('short.wav', 's16', 44100, [0.5, 0.5], 0.3);
    const m = await engine.loudness({ path });
    expect(m.integrated).toBeNull();
    expect(m.momentaryMax).toBeNull();
    expect(m.shortTermMax).toBeNull();
    expect(Math.abs(m.samplePeak - 20 * Math.log10(0.5))).toBeLessThan(0.01);
  });

  it('5.1: LFE excluded, surrounds weighted 1.41 (from the probed layout)', async () => {
    // L R C LFE Ls Rs at -23 dBFS each on L, LFE and Ls; the LFE must not count, Ls counts 1.41×.
    const a = amp23;
    const path = join(dir, 'five-one.wav');
    writeWav(path, { format: 'f32', sampleRate: 48000, channels: 6, frames: 48000 * 4 }, sineFill(48000, 1000, [a, 0, 0, a, a, 0]));
    const m = await engine.loudness({ path });
    // One front channel alone is -26.01 LUFS; adding a surround of equal level at weight 1.41 gives
    // 10·log10(1 + 1.41) above it.
    const expected = -23 - 10 * Math.log10(2) + 10 * Math.log10(1 + 1.41);
    expect(Math.abs(m.integrated! - expected)).toBeLessThan(0.1);
  });
});

describe('EBU Tech 3341 through the whole engine', () => {
  for (const [n, level] of [
    [1, -23],
    [2, -33],
  ] as const) {
    it(`case ${n}: stereo 1 kHz at ${level} dBFS, 20 s → M, S, I = ${level} ±0.1`, async () => {
      const path = await sineFile(`tech3341-${n}.wav`, 'f32', 48000, [dbfs(level), dbfs(level)], 20);
      const m = await engine.loudness({ path });
      for (const key of ['integrated', 'momentaryMax', 'shortTermMax'] as const) {
        expect(Math.abs(m[key]! - level), key).toBeLessThan(0.1);
      }
    });
  }
});

describe('the real files of test/fixtures/audio', () => {
  const files = readdirSync(join(mediaDir, 'audio')).filter((f) => statSync(join(mediaDir, 'audio', f)).isFile());

  it('the corpus is there', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  /** The reference meter fed the PCM the engine decodes (via a lossless WAV rendition). */
  async function reference(path: string): Promise<Omit<Loudness, never>> {
    const wav = await engine.transcode({ path }, { preset: 'wav' });
    const { sampleRate, channels, samples } = readWav(wav.bytes!);
    const ref = new LoudnessReference({ sampleRate, channels });
    ref.push(samples);
    const r = ref.finish();
    return {
      integrated: r.integrated,
      range: r.range,
      truePeak: r.truePeak,
      samplePeak: r.samplePeak,
      momentaryMax: r.momentaryMax,
      shortTermMax: r.shortTermMax,
    };
  }

  for (const file of readdirSync(join(mediaDir, 'audio'))) {
    it(`${file}: matches the reference meter on the same decoded audio`, async () => {
      const path = join(mediaDir, 'audio', file);
      const [m, ref] = await Promise.all([engine.loudness({ path }), reference(path)]);
      const close = (a: number | null, b: number | null, tol: number, key: string) => {
        if (a === null || b === null) expect(a, key).toBe(b);
        else expect(Math.abs(a - b), `${key}: ${a} vs ${b}`).toBeLessThan(tol);
      };
      close(m.integrated, ref.integrated, 0.02, 'integrated');
      close(m.momentaryMax, ref.momentaryMax, 0.02, 'momentaryMax');
      close(m.shortTermMax, ref.shortTermMax, 0.02, 'shortTermMax');
      close(m.range, ref.range, 0.1, 'range');
      if (ref.samplePeak >= -0.001 && m.samplePeak > 0.01) {
        // A lossy decode can overshoot full scale; the WAV rendition clips there, the engine's
        // float PCM does not, so only the engine sees the overshoot.
        expect(ref.samplePeak).toBeLessThanOrEqual(0);
      } else {
        close(m.samplePeak, ref.samplePeak, 0.02, 'samplePeak');
        close(m.truePeak, ref.truePeak, 0.05, 'truePeak');
      }
    });
  }

  it('known values: the phone ring is about -7 LUFS, ambi_lunar_land has about 15 LU of range', async () => {
    const phone = await engine.loudness({ path: join(mediaDir, 'audio', 'freedesktop-phone-incoming-call.oga') });
    expect(Math.abs(phone.integrated! + 7)).toBeLessThan(0.5);
    const ambi = await engine.loudness({ path: join(mediaDir, 'audio', 'ambi_lunar_land.flac') });
    expect(Math.abs(ambi.range! - 15)).toBeLessThan(1);
  });

  it('inputs as bytes and as a stream measure the same as a path', async () => {
    const path = join(mediaDir, 'audio', 'illurock.opus');
    const { readFile } = await import('node:fs/promises');
    const { createReadStream } = await import('node:fs');
    const [a, b, c] = await Promise.all([
      engine.loudness({ path }),
      engine.loudness(await readFile(path)),
      engine.loudness({ stream: createReadStream(path), name: 'x.opus' }),
    ]);
    expect(withoutCall(b)).toEqual(withoutCall(a));
    expect(withoutCall(c)).toEqual(withoutCall(a));
  });
});

describe('call options', () => {
  it('progress is monotonic and ends at 1 (loudness, and normalize over its several jobs)', async () => {
    const path = join(mediaDir, 'audio', 'renpyallstars.ogg');
    const events: Array<{ phase: string; ratio: number }> = [];
    await engine.loudness({ path }, { onProgress: (p) => events.push(p) });
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)!.ratio).toBe(1);
    expect(events.every((e, i) => i === 0 || e.ratio >= events[i - 1]!.ratio)).toBe(true);
    const normalizeEvents: Array<{ phase: string; ratio: number }> = [];
    await engine.normalize({ path }, { preset: 'flac', onProgress: (p) => normalizeEvents.push(p) });
    expect(normalizeEvents.at(-1)!.ratio).toBe(1);
    expect(new Set(normalizeEvents.map((e) => e.phase))).toEqual(new Set(['analyze', 'normalize', 'verify']));
    expect(normalizeEvents.find((e) => e.phase === 'normalize')!.ratio).toBeGreaterThanOrEqual(0.2);
  });

  it('an abort stops the measurement with E_ABORTED', async () => {
    const controller = new AbortController();
    const path = join(mediaDir, 'audio', 'renpyallstars.ogg');
    const pending = engine.loudness({ path }, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(pending).rejects.toMatchObject({ code: 'E_ABORTED' });
  });

  it('maxDurationSeconds refuses a longer input with E_LIMIT', async () => {
    const path = join(mediaDir, 'audio', 'renpyallstars.ogg');
    await expect(engine.loudness({ path }, { limits: { maxDurationSeconds: 10 } })).rejects.toMatchObject({
      code: 'E_LIMIT',
      details: { limit: 'maxDurationSeconds' },
    });
  });

  it('a video file: the first audio stream is measured', async () => {
    const path = join(mediaDir, 'video', 'realshort-h264-aac.mp4');
    const m = await engine.loudness({ path });
    expect(m.integrated).toBeGreaterThan(-70);
    expect(m.integrated).toBeLessThan(0);
  });
});

describe('bounded memory', () => {
  it('a 2-hour file measures in constant memory: wasm heap capped at 64 MiB, RSS does not grow with duration', async () => {
    const rate = 8000;
    const long = join(dir, 'two-hours.wav');
    const short = join(dir, 'ten-minutes.wav');
    const amp = dbfs(-20);
    writeWav(long, { format: 's16', sampleRate: rate, channels: 1, frames: rate * 7200 }, sineFill(rate, 1000, [amp]));
    writeWav(short, { format: 's16', sampleRate: rate, channels: 1, frames: rate * 600 }, sineFill(rate, 1000, [amp]));
    const limits = { maxHeapBytes: 64 * 1024 * 1024 };

    async function peakRss(path: string): Promise<{ m: Loudness; peak: number; ms: number }> {
      let peak = process.memoryUsage().rss;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const started = performance.now();
      try {
        const m = await engine.loudness({ path }, { limits });
        return { m, peak: Math.max(peak, process.memoryUsage().rss), ms: performance.now() - started };
      } finally {
        clearInterval(timer);
      }
    }
    const tenMinutes = await peakRss(short);
    const twoHours = await peakRss(long);
    const mib = (n: number) => (n / 1024 ** 2).toFixed(1);
    console.log(
      `loudness of 2 h mono 8 kHz WAV: ${(twoHours.ms / 1000).toFixed(1)} s; peak RSS ${mib(twoHours.peak)} MiB (10 min file: ${mib(tenMinutes.peak)} MiB)`,
    );
    expect(Math.abs(twoHours.m.integrated! - (-20 - 10 * Math.log10(2)))).toBeLessThan(0.1);
    expect(twoHours.m.integrated).toBeCloseTo(tenMinutes.m.integrated!, 3);
    // 2 h of f32 PCM would be 230 MB; growth with duration stays a small fraction of that.
    expect(twoHours.peak - tenMinutes.peak).toBeLessThan(48 * 1024 ** 2);
  });
});
