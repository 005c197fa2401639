/**
 * engine.normalize and engine.normalizeAlbum: every output is measured again with the engine and
 * its tags are read back with probe, so what is checked is what a player would get.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { withoutCall } from './helpers/call.js';
import { makeTempDir, mediaDir, removeTempDir } from './helpers/media.js';
import { dbfs, sineFill, writeWav } from './helpers/wav.js';

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir('sandcodec-normalize-');
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

const RATE = 48000;

/**
 * A quiet master with high peaks: a soft chord (about -26 LUFS) with a slow swell, and a 0.5 ms
 * click near full scale every second — far too peaky for pure gain to reach -14 LUFS.
 */
function quietPeakyMaster(path: string, seconds = 12): void {
  writeWav(path, { format: 'f32', sampleRate: RATE, channels: 2, frames: seconds * RATE }, (chunk, first, frames) => {
    for (let f = 0; f < frames; f++) {
      const i = first + f;
      const t = i / RATE;
      const swell = 0.7 + 0.3 * Math.sin(2 * Math.PI * 0.25 * t);
      let v = 0.03 * swell * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 277 * t) + Math.sin(2 * Math.PI * 330 * t));
      const inBeat = i % RATE;
      if (inBeat < RATE * 0.0005) v += 0.95 * Math.sin(2 * Math.PI * 3000 * t);
      chunk[2 * f] = v;
      chunk[2 * f + 1] = v * 0.9;
    }
  });
}

function sineMaster(path: string, level: number, seconds = 8): void {
  writeWav(path, { format: 'f32', sampleRate: RATE, channels: 2, frames: seconds * RATE }, sineFill(RATE, 1000, [dbfs(level), dbfs(level)]));
}

describe('engine.normalize, policy gain', () => {
  it('a loud master comes down to the target exactly; ReplayGain tags say so', async () => {
    const src = join(dir, 'loud.flac');
    await engine.generate({ kind: 'music', seconds: 10, sampleRate: 44100, channels: 2, output: src });
    const before = await engine.loudness({ path: src });
    const out = join(dir, 'loud-normalized.flac');
    const r = await engine.normalize({ path: src }, { target: -20, preset: 'flac', output: out });
    expect(r.gain).toBeCloseTo(-20 - before.integrated!, 6);
    expect(r.passes).toBe(1);
    const after = withoutCall(await engine.loudness({ path: out }));
    expect(Math.abs(after.integrated! + 20)).toBeLessThan(0.1);
    expect(r.output).toEqual(after);
    const tags = (await engine.probe({ path: out })).tags;
    // ReplayGain 2.0: the gain to -18 LUFS of the output as measured, and its true peak.
    expect(tags.REPLAYGAIN_TRACK_GAIN).toBe(`${(-18 - after.integrated!).toFixed(2)} dB`);
    expect(tags.REPLAYGAIN_TRACK_GAIN).toMatch(/^(1\.99|2\.00|2\.01) dB$/);
    expect(tags.REPLAYGAIN_TRACK_PEAK).toBe((10 ** (after.truePeak / 20)).toFixed(6));
    expect(r.tags).toEqual({ REPLAYGAIN_TRACK_GAIN: tags.REPLAYGAIN_TRACK_GAIN, REPLAYGAIN_TRACK_PEAK: tags.REPLAYGAIN_TRACK_PEAK });
  });

  it('a quiet sine gets positive gain up to the target when the headroom allows (Opus: R128_TRACK_GAIN)', async () => {
    const src = join(dir, 'quiet-sine.wav');
    sineMaster(src, -30);
    const out = join(dir, 'quiet-sine.opus');
    const r = await engine.normalize({ path: src }, { preset: 'opus-160', output: out });
    expect(r.gain).toBeCloseTo(16, 1);
    const after = withoutCall(await engine.loudness({ path: out }));
    expect(Math.abs(after.integrated! + 14)).toBeLessThan(0.2);
    const probe = await engine.probe({ path: out });
    // RFC 7845: Q7.8 gain to -23 LUFS of the output; -23 - (-14) = -9 dB = -2304.
    expect(probe.streams[0]!.tags.R128_TRACK_GAIN).toBe(String(Math.round((-23 - after.integrated!) * 256)));
    expect(Math.abs(Number(probe.streams[0]!.tags.R128_TRACK_GAIN) + 2304)).toBeLessThan(0.2 * 256);
    expect(probe.streams[0]!.tags.REPLAYGAIN_TRACK_GAIN).toBeUndefined();
  });

  it('a quiet master with high peaks stops at the true-peak headroom', async () => {
    const src = join(dir, 'peaky.wav');
    quietPeakyMaster(src);
    const before = await engine.loudness({ path: src });
    expect(before.integrated!).toBeLessThan(-25);
    expect(before.truePeak).toBeGreaterThan(-1);
    const out = join(dir, 'peaky-gain.flac');
    const r = await engine.normalize({ path: src }, { policy: 'gain', preset: 'flac', output: out });
    // Already above the -1 dBTP ceiling: no positive gain at all.
    expect(r.gain).toBe(0);
    const after = withoutCall(await engine.loudness({ path: out }));
    expect(Math.abs(after.integrated! - before.integrated!)).toBeLessThan(0.05);
  });

  it('ambi_lunar_land.flac → aac-128: the encoded output is measured and corrected to the target or the headroom bound', async () => {
    const src = { path: join(mediaDir, 'audio', 'ambi_lunar_land.flac') };
    const before = await engine.loudness(src);
    const out = join(dir, 'lunar-gain.m4a');
    const r = await engine.normalize(src, { policy: 'gain', preset: 'aac-128', output: out });
    const after = withoutCall(await engine.loudness({ path: out }));
    expect(r.output).toEqual(after);
    // The source peaks over -1 dBTP: the source alone allows no gain, yet the AAC encode came out
    // quieter (and lower in peak) than the source, so a correction pass raised it.
    expect(before.truePeak).toBeGreaterThan(-1);
    expect(r.passes).toBeGreaterThan(1);
    expect(r.passes).toBeLessThanOrEqual(3);
    expect(r.gain).toBeGreaterThan(0);
    const headroom = -1 - after.truePeak;
    const atTarget = Math.abs(after.integrated! + 14) <= 0.5;
    // Reaching -14 LUFS needs more gain than the output's peaks leave room for: at the bound.
    expect(after.integrated! + headroom, JSON.stringify(r)).toBeLessThan(-14 - 0.5);
    expect(atTarget).toBe(false);
    expect(Math.abs(headroom), JSON.stringify(r)).toBeLessThanOrEqual(0.5);
    // Tags describe the output as re-measured, not as predicted.
    const probe = await engine.probe({ path: out });
    const tags = { ...probe.tags, ...probe.streams[0]!.tags };
    expect(tags.REPLAYGAIN_TRACK_GAIN).toBe(`${(-18 - after.integrated!).toFixed(2)} dB`);
    expect(tags.REPLAYGAIN_TRACK_PEAK).toBe((10 ** (after.truePeak / 20)).toFixed(6));
    expect(r.tags).toEqual({ REPLAYGAIN_TRACK_GAIN: tags.REPLAYGAIN_TRACK_GAIN, REPLAYGAIN_TRACK_PEAK: tags.REPLAYGAIN_TRACK_PEAK });
  });

  it('MP3 carries ReplayGain tags', async () => {
    const src = join(dir, 'sine-mp3.wav');
    sineMaster(src, -20, 5);
    const out = join(dir, 'sine.mp3');
    await engine.normalize({ path: src }, { target: -16, preset: 'mp3-320', output: out });
    const [probe, after] = await Promise.all([engine.probe({ path: out }), engine.loudness({ path: out })]);
    expect(probe.tags.REPLAYGAIN_TRACK_GAIN).toBe(`${(-18 - after.integrated!).toFixed(2)} dB`);
    expect(Math.abs(after.integrated! + 16)).toBeLessThan(0.2);
    expect(Number(probe.tags.REPLAYGAIN_TRACK_PEAK)).toBeGreaterThan(0);
  });
});

describe('engine.normalize, policy limit', () => {
  it('a quiet master with high peaks reaches -14 LUFS ±0.5 with its true peak at or under -1 dBTP (+0.1)', async () => {
    const src = join(dir, 'peaky2.wav');
    quietPeakyMaster(src);
    const out = join(dir, 'peaky-limit.flac');
    const r = await engine.normalize({ path: src }, { policy: 'limit', preset: 'flac', output: out });
    const after = withoutCall(await engine.loudness({ path: out }));
    expect(Math.abs(after.integrated! + 14), JSON.stringify(after)).toBeLessThan(0.5);
    expect(after.truePeak).toBeLessThanOrEqual(-1 + 0.1);
    expect(r.output).toEqual(after);
    expect(r.gain).toBeGreaterThan(10);
    const probe = await engine.probe({ path: out }, { decode: true });
    expect(Math.abs(probe.decodedDuration! - 12)).toBeLessThan(0.05);
  });

  it('through a lossy preset (Opus) too', async () => {
    const src = join(dir, 'peaky3.wav');
    quietPeakyMaster(src, 8);
    const out = join(dir, 'peaky-limit.opus');
    await engine.normalize({ path: src }, { policy: 'limit', target: -16, truePeak: -2, preset: 'opus-96', output: out });
    const after = withoutCall(await engine.loudness({ path: out }));
    expect(Math.abs(after.integrated! + 16)).toBeLessThan(0.5);
    expect(after.truePeak).toBeLessThanOrEqual(-2 + 0.1);
    // The tags follow the measured output even after the passes that redid it.
    const tags = (await engine.probe({ path: out })).streams[0]!.tags;
    expect(tags.R128_TRACK_GAIN).toBe(String(Math.round((-23 - after.integrated!) * 256)));
    const decoded = await engine.probe({ path: out }, { decode: true });
    expect(Math.abs(decoded.decodedDuration! - 8)).toBeLessThan(0.05);
  });
});

describe('engine.normalize, policy limit, real masters through lossy presets', () => {
  // Lossy encoders overshoot the limiter's ceiling (Vorbis by ~1.5 dB here): the passes must
  // still land within the tolerances, with tags describing what was written.
  for (const preset of ['vorbis-160', 'aac-256'] as const) {
    it(`ambi_lunar_land.flac → ${preset}: -14 LUFS ±0.5, true peak ≤ -0.9 dBTP`, async () => {
      const out = join(dir, `lunar-${preset}.${preset.startsWith('aac') ? 'm4a' : 'ogg'}`);
      const r = await engine.normalize({ path: join(mediaDir, 'audio', 'ambi_lunar_land.flac') }, { policy: 'limit', preset, output: out });
      const after = withoutCall(await engine.loudness({ path: out }));
      expect(Math.abs(after.integrated! + 14), JSON.stringify(r)).toBeLessThan(0.5);
      expect(after.truePeak).toBeLessThanOrEqual(-0.9);
      const probe = await engine.probe({ path: out });
      const tags = { ...probe.tags, ...probe.streams[0]!.tags };
      expect(tags.REPLAYGAIN_TRACK_GAIN).toBe(`${(-18 - after.integrated!).toFixed(2)} dB`);
    });
  }
});

describe('engine.normalizeAlbum', () => {
  it('one gain from the combined gated loudness; each track keeps its level relative to the others', async () => {
    const levels = [-18, -24, -30];
    const tracks = levels.map((level, i) => {
      const path = join(dir, `album-${i}.wav`);
      sineMaster(path, level, 6);
      return path;
    });
    // The album as one programme, for the expected album loudness.
    const joined = join(dir, 'album-joined.wav');
    const per = 6 * RATE;
    writeWav(joined, { format: 'f32', sampleRate: RATE, channels: 2, frames: 3 * per }, (chunk, first, frames) => {
      for (let f = 0; f < frames; f++) {
        const i = first + f;
        const v = dbfs(levels[Math.floor(i / per)]!) * Math.sin((2 * Math.PI * 1000 * i) / RATE);
        chunk[2 * f] = v;
        chunk[2 * f + 1] = v;
      }
    });
    const whole = await engine.loudness({ path: joined });
    const outputs = tracks.map((_, i) => join(dir, 'album-out', `${i}.flac`));
    const r = await engine.normalizeAlbum(
      tracks.map((path) => ({ path })),
      { target: -16, preset: 'flac', outputs },
    );
    expect(Math.abs(r.albumLoudness - whole.integrated!)).toBeLessThan(0.1);
    // All three tracks pass the album's relative gate (about -32 LUFS): the album loudness is the
    // energy mean of equally long tracks, not the mean of their loudness (-24).
    const energyMean = 10 * Math.log10(levels.reduce((sum, l) => sum + 10 ** (l / 10), 0) / levels.length);
    expect(Math.abs(r.albumLoudness - energyMean)).toBeLessThan(0.05);
    expect(r.gain).toBeCloseTo(-16 - r.albumLoudness, 6);
    const measured = await Promise.all(outputs.map((path) => engine.loudness({ path })));
    measured.forEach((m, i) => {
      expect(Math.abs(m.integrated! - (levels[i]! + r.gain))).toBeLessThan(0.1);
    });
    const tags = await Promise.all(outputs.map(async (path) => (await engine.probe({ path })).tags));
    // The album tags come from the written tracks gated together: here, the planned album level.
    const albumGain = parseFloat(tags[0]!.REPLAYGAIN_ALBUM_GAIN!);
    expect(Math.abs(albumGain - (-18 - (r.albumLoudness + r.gain)))).toBeLessThan(0.05);
    expect(r.tracks.every((t) => t.tags.REPLAYGAIN_ALBUM_GAIN === tags[0]!.REPLAYGAIN_ALBUM_GAIN)).toBe(true);
    for (const [i, t] of tags.entries()) {
      expect(t.REPLAYGAIN_ALBUM_GAIN).toBe(tags[0]!.REPLAYGAIN_ALBUM_GAIN);
      expect(t.REPLAYGAIN_TRACK_GAIN).toBe(`${(-18 - measured[i]!.integrated!).toFixed(2)} dB`);
    }
  });
});

describe('engine.normalizeAlbum, policy limit through Opus', () => {
  it('one gain, the limiter per track, R128 album gain from the written tracks; a failing track leaves no file', async () => {
    const a = join(dir, 'album-limit-a.wav');
    const b = join(dir, 'album-limit-b.wav');
    quietPeakyMaster(a, 6);
    sineMaster(b, -30, 6);
    const outputs = [join(dir, 'album-limit', 'a.opus'), join(dir, 'album-limit', 'b.opus')];
    const r = await engine.normalizeAlbum([{ path: a }, { path: b }], { policy: 'limit', preset: 'opus-96', outputs });
    expect(r.tracks.map((t) => t.gain)).toEqual([r.gain, r.gain]);
    const measured = await Promise.all(outputs.map((path) => engine.loudness({ path })));
    for (const m of measured) expect(m.truePeak).toBeLessThanOrEqual(-1 + 0.1);
    const tags = await Promise.all(outputs.map(async (path) => (await engine.probe({ path })).streams[0]!.tags));
    expect(tags[0]!.R128_ALBUM_GAIN).toBeDefined();
    expect(tags[1]!.R128_ALBUM_GAIN).toBe(tags[0]!.R128_ALBUM_GAIN);
    tags.forEach((t, i) => {
      expect(t.R128_TRACK_GAIN).toBe(String(Math.round((-23 - measured[i]!.integrated!) * 256)));
    });

    // The second track's encode fails (its output outgrows maxOutputBytes, which the first one
    // fits): the album fails, and the first track, already written, is not left behind.
    const small = join(dir, 'album-small.wav');
    sineMaster(small, -20, 1);
    const sizeOf = async (path: string) => (await engine.normalize({ path }, { preset: 'flac' })).size;
    const [smallSize, bigSize] = await Promise.all([sizeOf(small), sizeOf(a)]);
    expect(bigSize).toBeGreaterThan(smallSize * 2);
    const failing = [join(dir, 'album-fail', 'a.flac'), join(dir, 'album-fail', 'b.flac')];
    await expect(
      engine.normalizeAlbum([{ path: small }, { path: a }], {
        preset: 'flac',
        outputs: failing,
        limits: { maxOutputBytes: Math.round((smallSize + bigSize) / 2) },
      }),
    ).rejects.toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxOutputBytes' } });
    const { existsSync } = await import('node:fs');
    expect(failing.some((f) => existsSync(f))).toBe(false);
    expect(existsSync(join(dir, 'album-fail'))).toBe(false);
  });
});

describe('stale gain tags', () => {
  it('gain tags of the source never reach the output: Opus gets R128 only, a track normalize drops album tags', async () => {
    const src = join(dir, 'tagged-src.wav');
    sineMaster(src, -22, 3);
    const tagged = join(dir, 'tagged', 'a.flac');
    await engine.normalizeAlbum([{ path: src }], { target: -20, preset: 'flac', outputs: [tagged] });
    const before = (await engine.probe({ path: tagged })).tags;
    expect(before.REPLAYGAIN_ALBUM_GAIN).toBeDefined();

    const opus = join(dir, 'tagged-out.opus');
    await engine.normalize({ path: tagged }, { preset: 'opus-96', output: opus });
    const o = await engine.probe({ path: opus });
    const opusTags = { ...o.tags, ...o.streams[0]!.tags };
    expect(Object.keys(opusTags).filter((k) => /gain|peak/i.test(k))).toEqual(['R128_TRACK_GAIN']);

    const flac = join(dir, 'tagged-out.flac');
    await engine.normalize({ path: tagged }, { target: -16, preset: 'flac', output: flac });
    const f = (await engine.probe({ path: flac })).tags;
    expect(
      Object.keys(f)
        .filter((k) => /gain|peak/i.test(k))
        .sort(),
    ).toEqual(['REPLAYGAIN_TRACK_GAIN', 'REPLAYGAIN_TRACK_PEAK']);
  });
});

describe('normalize refuses what it cannot do', () => {
  it('digital silence: E_INPUT_INVALID, nothing written', async () => {
    const src = join(dir, 'silence.flac');
    await engine.generate({ kind: 'silence', seconds: 2, sampleRate: 48000, output: src });
    const out = join(dir, 'never.flac');
    await expect(engine.normalize({ path: src }, { preset: 'flac', output: out })).rejects.toMatchObject({ code: 'E_INPUT_INVALID' });
    const { existsSync } = await import('node:fs');
    expect(existsSync(out)).toBe(false);
  });

  it('bad options: E_OPTIONS naming the option', async () => {
    const src = join(dir, 'loud.flac');
    await expect(engine.normalize({ path: src }, { preset: 'nope' })).rejects.toMatchObject({ code: 'E_OPTIONS', details: { option: 'preset' } });
    await expect(engine.normalize({ path: src }, { preset: 'flac', policy: 'clip' as 'gain' })).rejects.toMatchObject({ details: { option: 'policy' } });
    await expect(engine.normalize({ path: src }, { preset: 'flac', truePeak: 3 })).rejects.toMatchObject({ details: { option: 'truePeak' } });
    await expect(engine.normalizeAlbum([{ path: src }], { preset: 'flac', outputs: ['a.flac', 'b.flac'] })).rejects.toMatchObject({
      details: { option: 'outputs' },
    });
  });
});
