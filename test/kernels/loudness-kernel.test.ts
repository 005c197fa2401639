// Loudness kernel: EBU Tech 3341 / 3342 conformance on signals synthesised here, K-weighting
// against the BS.1770-4 table, and the SIMD build, the scalar build and the TypeScript reference
// agreeing on generated programme-like signals. Kernels tier: the modules come from src/, their
// wasm from `node scripts/build-kernels.mjs` (`npm run test:kernels` does both).
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/errors.js';
import { kWeightingCoefficients, LoudnessMeter, type LoudnessOptions, type LoudnessResult, timingGrid } from '../../src/worker/kernels/loudness.js';
import { LoudnessReference } from '../../src/worker/kernels/loudness-reference.js';

const VARIANTS = ['simd', 'scalar'] as const;

// ---- signal synthesis ------------------------------------------------------------------------

/** A segment of a 1 kHz (or `freq`) sine per channel; `null` dBFS = silent channel. */
interface Segment {
  seconds: number;
  dbfs: readonly (number | null)[];
}

const generated = new Map<string, Float32Array>();

/** Concatenated sine segments with continuous phase, interleaved (memoised: tests reuse them). */
function sineSegments(sampleRate: number, segments: readonly Segment[], freq = 1000): Float32Array {
  const key = JSON.stringify([sampleRate, segments, freq]);
  let out = generated.get(key);
  if (!out) {
    out = synthesise(sampleRate, segments, freq);
    generated.set(key, out);
  }
  return out;
}

function synthesise(sampleRate: number, segments: readonly Segment[], freq: number): Float32Array {
  const channels = segments[0]!.dbfs.length;
  const total = segments.reduce((n, s) => n + Math.round(s.seconds * sampleRate), 0);
  const out = new Float32Array(total * channels);
  let i = 0;
  for (const seg of segments) {
    const amps = seg.dbfs.map((d) => (d === null ? 0 : 10 ** (d / 20)));
    const n = Math.round(seg.seconds * sampleRate);
    for (let k = 0; k < n; k++, i++) {
      const v = Math.sin((2 * Math.PI * freq * i) / sampleRate);
      for (let c = 0; c < channels; c++) out[i * channels + c] = amps[c]! * v;
    }
  }
  return out;
}

const stereo = (seconds: number, dbfs: number | null): Segment => ({ seconds, dbfs: [dbfs, dbfs] });

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Programme-like material: per channel a few partials plus filtered noise, under a slow level
 * envelope with quiet passages and pauses, so gating, LRA and true peak all have work.
 */
function programme(sampleRate: number, channels: number, seconds: number, seed: number): Float32Array {
  const rand = rng(seed);
  const n = Math.round(seconds * sampleRate);
  const out = new Float32Array(n * channels);
  // Each channel also gets a partial near fs/4.3, whose crests fall between samples.
  const partials = Array.from({ length: channels }, () => [
    ...Array.from({ length: 4 }, () => ({ f: 60 + rand() * 6000, a: 0.05 + rand() * 0.2, p: rand() * 6.283 })),
    { f: sampleRate / 4.3, a: 0.2, p: rand() * 6.283 },
  ]);
  const lp = new Float64Array(channels);
  let level = 0.5;
  let target = 0.5;
  for (let i = 0; i < n; i++) {
    if (i % Math.round(sampleRate * 0.7) === 0) target = rand() < 0.15 ? 0 : 0.03 + rand() * 0.9;
    level += (target - level) * (200 / sampleRate);
    for (let c = 0; c < channels; c++) {
      let v = 0;
      for (const p of partials[c]!) v += p.a * Math.sin((2 * Math.PI * p.f * i) / sampleRate + p.p);
      lp[c] = lp[c]! + 0.3 * (rand() - 0.5 - lp[c]!);
      out[i * channels + c] = 0.6 * level * (v + lp[c]!);
    }
  }
  return out;
}

// ---- measuring helpers -------------------------------------------------------------------------

async function measure(samples: Float32Array, options: LoudnessOptions, chunkFrames = 4800): Promise<LoudnessResult> {
  const meter = await LoudnessMeter.create(options);
  const step = chunkFrames * options.channels;
  for (let i = 0; i < samples.length; i += step) meter.push(samples.subarray(i, i + step));
  return meter.finish();
}

/** Pushes `seconds`-long slices and returns each slice's window maxima. */
async function intervalMaxima(samples: Float32Array, options: LoudnessOptions, seconds: number) {
  const meter = await LoudnessMeter.create(options);
  const step = Math.round(seconds * options.sampleRate) * options.channels;
  const out: { t: number; momentary: number | null; shortTerm: number | null }[] = [];
  for (let i = 0; i < samples.length; i += step) {
    meter.push(samples.subarray(i, i + step));
    out.push({ t: Math.min(i + step, samples.length) / options.channels / options.sampleRate, ...meter.takeIntervalMaxima() });
  }
  return out;
}

function near(actual: number | null, expected: number, tolerance: number): void {
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected), `${actual} vs ${expected} ± ${tolerance}`).toBeLessThanOrEqual(tolerance);
}

// ---- K-weighting -------------------------------------------------------------------------------

describe('K-weighting', () => {
  // BS.1770-4 Annex 1, Tables 1 and 2 (48 kHz).
  const TABLE = [
    1.53512485958697, -2.69169618940638, 1.19839281085285, -1.69065929318241, 0.73248077421585, 1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621,
  ];

  it('derives the BS.1770-4 table at 48 kHz, in TypeScript and in both kernel builds', async () => {
    const { shelf, highPass } = kWeightingCoefficients(48000);
    const ts = [shelf.b0, shelf.b1, shelf.b2, shelf.a1, shelf.a2, highPass.b0, highPass.b1, highPass.b2, highPass.a1, highPass.a2];
    ts.forEach((v, i) => {
      expect(Math.abs(v - TABLE[i]!)).toBeLessThan(1e-6);
    });
    for (const variant of VARIANTS) {
      const meter = await LoudnessMeter.create({ sampleRate: 48000, channels: 2, variant });
      meter.coefficients.forEach((v, i) => {
        expect(Math.abs(v - TABLE[i]!)).toBeLessThan(1e-6);
      });
    }
  });

  it('kernel and TypeScript use the same timing grid', async () => {
    for (const sampleRate of [8000, 11025, 22050, 44056, 44100, 47952, 48000, 88200, 384000]) {
      const meter = await LoudnessMeter.create({ sampleRate, channels: 2 });
      const grid = timingGrid(sampleRate);
      expect(meter.grid).toEqual(grid);
      expect(grid.hop % grid.sub).toBe(0);
      expect(grid.sub / sampleRate).toBeLessThanOrEqual(0.005);
      expect(grid.sub / sampleRate).toBeGreaterThan(0.001);
      expect(Math.abs(grid.hop / sampleRate - 0.1)).toBeLessThan(0.0006);
    }
  });

  it('kernel and TypeScript derive the same filters at other rates', async () => {
    for (const sampleRate of [8000, 22050, 44100, 96000, 192000, 384000]) {
      const { shelf, highPass } = kWeightingCoefficients(sampleRate);
      const ts = [shelf.b0, shelf.b1, shelf.b2, shelf.a1, shelf.a2, highPass.b0, highPass.b1, highPass.b2, highPass.a1, highPass.a2];
      const meter = await LoudnessMeter.create({ sampleRate, channels: 1 });
      meter.coefficients.forEach((v, i) => {
        expect(Math.abs(v - ts[i]!)).toBeLessThan(1e-12);
      });
    }
  });

  it.each([8000, 44100, 48000, 96000, 192000])('a stereo 1 kHz sine at -23 dBFS reads -23.0 LUFS at %i Hz', async (sampleRate) => {
    const r = await measure(sineSegments(sampleRate, [stereo(10, -23)]), { sampleRate, channels: 2 });
    near(r.integrated, -23, 0.1);
    near(r.momentaryMax, -23, 0.1);
    near(r.shortTermMax, -23, 0.1);
  });
});

// ---- EBU Tech 3341 -----------------------------------------------------------------------------

describe('EBU Tech 3341 (synthesised)', () => {
  const sr = 48000;
  const opts = { sampleRate: sr, channels: 2 };

  it.each(VARIANTS)('cases 1 and 2: M, S and I of a steady tone (%s)', async (variant) => {
    for (const level of [-23, -33]) {
      const r = await measure(sineSegments(sr, [stereo(20, level)]), { ...opts, variant });
      near(r.integrated, level, 0.1);
      near(r.momentaryMax, level, 0.1);
      near(r.shortTermMax, level, 0.1);
    }
  });

  it.each(VARIANTS)('cases 3, 4 and 5: gating (%s)', async (variant) => {
    const cases = [
      [stereo(10, -36), stereo(60, -23), stereo(10, -36)],
      [stereo(10, -72), stereo(10, -36), stereo(60, -23), stereo(10, -36), stereo(10, -72)],
      [stereo(20, -26), stereo(20.1, -20), stereo(20, -26)],
    ];
    for (const segments of cases) near((await measure(sineSegments(sr, segments), { ...opts, variant })).integrated, -23, 0.1);
  });

  it.each(VARIANTS)('case 6: 5.0 channels with surround weights (%s)', async (variant) => {
    const samples = sineSegments(sr, [{ seconds: 20, dbfs: [-28, -28, -24, -30, -30] }]);
    near((await measure(samples, { sampleRate: sr, channels: 5, variant })).integrated, -23, 0.1);
    // The same programme with a silent LFE inserted at index 3 (5.1) reads the same.
    const six = new Float32Array((samples.length / 5) * 6);
    for (let i = 0, j = 0; i < samples.length; i += 5, j += 6) {
      six.set(samples.subarray(i, i + 3), j);
      six[j + 3] = 0.5; // loud LFE: excluded from loudness
      six.set(samples.subarray(i + 3, i + 5), j + 4);
    }
    near((await measure(six, { sampleRate: sr, channels: 6, variant })).integrated, -23, 0.1);
  });

  it('case 9: S stays at -23.0 after 3 s for a 1.34 s / 1.66 s level alternation', async () => {
    const samples = sineSegments(sr, Array.from({ length: 5 }, () => [stereo(1.34, -20), stereo(1.66, -30)]).flat());
    const trace = await intervalMaxima(samples, opts, 0.01);
    const after = trace.filter((p) => p.t > 3.01);
    expect(after.length).toBeGreaterThan(1000);
    for (const p of after) near(p.shortTerm, -23, 0.1);
  });

  it.each(VARIANTS)('case 10: max S of a 3 s burst at 20 offsets off the 100 ms grid (%s)', async (variant) => {
    for (let k = 0; k < 20; k++) {
      const lead = 0.5 + k * 0.01337;
      const r = await measure(sineSegments(sr, [stereo(lead, null), stereo(3, -23), stereo(1, null)]), { ...opts, variant });
      near(r.shortTermMax, -23, 0.1);
    }
  });

  it('case 11: successive max S of -38 … -19 LUFS, one 3 s burst per 6 s segment', async () => {
    const segments = Array.from({ length: 20 }, (_, k) => {
      const lead = 0.5 + k * 0.0213;
      return [stereo(lead, null), stereo(3, -38 + k), stereo(6 - 3 - lead, null)];
    }).flat();
    const trace = await intervalMaxima(sineSegments(sr, segments), opts, 6);
    expect(trace).toHaveLength(20);
    trace.forEach((p, k) => {
      near(p.shortTerm, -38 + k, 0.1);
    });
  });

  it('case 12: M stays at -23.0 after 1 s for a 0.18 s / 0.22 s level alternation', async () => {
    const samples = sineSegments(sr, Array.from({ length: 25 }, () => [stereo(0.18, -20), stereo(0.22, -30)]).flat());
    const after = (await intervalMaxima(samples, opts, 0.01)).filter((p) => p.t > 1.005);
    expect(after.length).toBeGreaterThan(800);
    for (const p of after) near(p.momentary, -23, 0.1);
  });

  it.each(VARIANTS)('case 13: max M of a 0.4 s burst at 20 offsets off the 10 ms grid (%s)', async (variant) => {
    for (let k = 0; k < 20; k++) {
      const lead = 0.3 + k * 0.00337;
      const r = await measure(sineSegments(sr, [stereo(lead, null), stereo(0.4, -23), stereo(0.5, null)]), { ...opts, variant });
      near(r.momentaryMax, -23, 0.1);
    }
  });

  it('case 13 at 44.1 kHz (sub-blocks of 210 frames)', async () => {
    for (let k = 0; k < 20; k++) {
      const lead = 0.3 + k * 0.00291;
      const r = await measure(sineSegments(44100, [stereo(lead, null), stereo(0.4, -23), stereo(0.5, null)]), { sampleRate: 44100, channels: 2 });
      near(r.momentaryMax, -23, 0.1);
    }
  });

  it('case 14: successive max M of -38 … -19 LUFS, one 0.4 s burst per 0.8 s segment', async () => {
    const segments = Array.from({ length: 20 }, (_, k) => {
      const lead = 0.1 + k * 0.0071;
      return [stereo(lead, null), stereo(0.4, -38 + k), stereo(0.8 - 0.4 - lead, null)];
    }).flat();
    const trace = await intervalMaxima(sineSegments(sr, segments), opts, 0.8);
    expect(trace).toHaveLength(20);
    trace.forEach((p, k) => {
      near(p.momentary, -38 + k, 0.1);
    });
  });

  // Cases 15-19: fs/4 sines with a phase offset (so samples miss the crests), 0.1 s Hann tapers.
  function fsQuarter(amplitude: number, phaseDeg: number, sampleRate = sr): Float32Array {
    const n = sampleRate;
    const taper = Math.round(0.1 * sampleRate);
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const w = i < taper ? 0.5 - 0.5 * Math.cos((Math.PI * i) / taper) : i >= n - taper ? 0.5 - 0.5 * Math.cos((Math.PI * (n - 1 - i)) / taper) : 1;
      const v = amplitude * w * Math.sin((Math.PI / 2) * i + (phaseDeg * Math.PI) / 180);
      out[2 * i] = v;
      out[2 * i + 1] = v;
    }
    return out;
  }

  it.each([
    [15, 0.5, 0, -6],
    [16, 0.5, 45, -6],
    [17, 0.5, 60, -6],
    [18, 0.5, 67.5, -6],
    [19, 1.41, 45, 3],
  ])('case %i: true peak of an fs/4 sine, amplitude %f, phase %f° reads %f dBTP', async (_n, amp, phase, expected) => {
    for (const variant of VARIANTS) {
      const r = await measure(fsQuarter(amp, phase), { ...opts, variant });
      expect(r.truePeak - expected).toBeLessThanOrEqual(0.2);
      expect(r.truePeak - expected).toBeGreaterThanOrEqual(-0.4);
      expect(r.samplePeak).toBeLessThanOrEqual(r.truePeak);
    }
  });

  it('true peak finds inter-sample crests that the sample peak misses', async () => {
    const r = await measure(fsQuarter(0.5, 45), opts);
    expect(r.samplePeak).toBeLessThan(-8.9); // samples at ±0.354
    expect(r.truePeak).toBeGreaterThan(-6.4);
  });

  it('true peak at 96 kHz finds the crest of a 24 kHz sine', async () => {
    const r = await measure(fsQuarter(0.5, 45, 96000), { sampleRate: 96000, channels: 2 });
    expect(r.truePeak - -6).toBeLessThanOrEqual(0.2);
    expect(r.truePeak - -6).toBeGreaterThanOrEqual(-0.4);
  });
});

// ---- EBU Tech 3342 -----------------------------------------------------------------------------

describe('EBU Tech 3342 (synthesised)', () => {
  it.each([
    [1, [stereo(20, -20), stereo(20, -30)], 10],
    [2, [stereo(20, -20), stereo(20, -15)], 5],
    [3, [stereo(20, -40), stereo(20, -20)], 20],
    [4, [stereo(20, -50), stereo(20, -35), stereo(20, -20), stereo(20, -35), stereo(20, -50)], 15],
  ] as const)('case %i: LRA', async (_n, segments, expected) => {
    for (const variant of VARIANTS) {
      const r = await measure(sineSegments(48000, segments), { sampleRate: 48000, channels: 2, variant });
      near(r.range, expected, 1);
    }
  });
});

// ---- edges ---------------------------------------------------------------------------------------

describe('edges', () => {
  it('mono counts the one channel once: a -23 dBFS sine reads -26.0 LUFS', async () => {
    const tone = sineSegments(48000, [{ seconds: 10, dbfs: [-23] }]);
    const r = await measure(tone, { sampleRate: 48000, channels: 1 });
    near(r.integrated, -23 - 10 * Math.log10(2), 0.05);
  });

  it.each(VARIANTS)('digital silence: no integrated loudness or range, -Infinity levels (%s)', async (variant) => {
    const r = await measure(new Float32Array(48000 * 2 * 5), { sampleRate: 48000, channels: 2, variant });
    expect(r.integrated).toBeNull();
    expect(r.range).toBeNull();
    expect(r.momentaryMax).toBe(-Infinity);
    expect(r.shortTermMax).toBe(-Infinity);
    expect(r.samplePeak).toBe(-Infinity);
    expect(r.truePeak).toBe(-Infinity);
  });

  it.each(VARIANTS)('under 400 ms: peaks only (%s)', async (variant) => {
    const r = await measure(programme(48000, 2, 0.3, 5), { sampleRate: 48000, channels: 2, variant }, 1000);
    expect(r.integrated).toBeNull();
    expect(r.range).toBeNull();
    expect(r.momentaryMax).toBeNull();
    expect(r.shortTermMax).toBeNull();
    expect(Number.isFinite(r.samplePeak)).toBe(true);
    expect(r.truePeak).toBeGreaterThanOrEqual(r.samplePeak);
    expect(r.frames).toBe(14400);
  });

  it('finish with no input, and finish twice', async () => {
    const meter = await LoudnessMeter.create({ sampleRate: 44100, channels: 6 });
    const r = meter.finish();
    expect(r).toMatchObject({ integrated: null, range: null, momentaryMax: null, shortTermMax: null, frames: 0 });
    expect(r.truePeak).toBe(-Infinity);
    expect(meter.finish()).toEqual(r);
    expect(() => meter.push(new Float32Array(6))).toThrow();
  });

  it('partial frames carry over between pushes', async () => {
    const samples = programme(48000, 5, 2, 9);
    const whole = await measure(samples, { sampleRate: 48000, channels: 5 });
    const meter = await LoudnessMeter.create({ sampleRate: 48000, channels: 5 });
    for (let i = 0; i < samples.length; i += 13) meter.push(samples.subarray(i, i + 13));
    expect(meter.finish()).toEqual(whole);
  });

  it('validates options up front with OptionsError', async () => {
    const bad: [Partial<LoudnessOptions>, string][] = [
      [{ sampleRate: 7999, channels: 2 }, 'sampleRate'],
      [{ sampleRate: 44100.5, channels: 2 }, 'sampleRate'],
      [{ sampleRate: 48000, channels: 0 }, 'channels'],
      [{ sampleRate: 48000, channels: 9 }, 'channels'],
      [{ sampleRate: 48000, channels: 3 }, 'weights'],
      [{ sampleRate: 48000, channels: 8 }, 'weights'],
      [{ sampleRate: 48000, channels: 2, weights: [1] }, 'weights'],
      [{ sampleRate: 48000, channels: 2, weights: [0, 0] }, 'weights'],
      [{ sampleRate: 48000, channels: 2, weights: [1, Number.NaN] }, 'weights'],
      [{ sampleRate: 48000, channels: 2, variant: 'avx' as never }, 'variant'],
    ];
    for (const [options, option] of bad) {
      const err = await LoudnessMeter.create(options as LoudnessOptions).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OptionsError);
      expect((err as OptionsError).details.option).toBe(option);
      expect(() => new LoudnessReference(options as LoudnessOptions)).toThrow(OptionsError);
    }
  });
});

// ---- SIMD vs scalar vs reference ----------------------------------------------------------------

describe('SIMD, scalar and the TypeScript reference agree', () => {
  const FIELDS = ['integrated', 'range', 'truePeak', 'samplePeak', 'momentaryMax', 'shortTermMax'] as const;

  const signals: { name: string; options: LoudnessOptions; samples: () => Float32Array }[] = [
    { name: 'stereo 48 kHz programme', options: { sampleRate: 48000, channels: 2 }, samples: () => programme(48000, 2, 12, 1) },
    { name: '5.1 44.1 kHz programme', options: { sampleRate: 44100, channels: 6 }, samples: () => programme(44100, 6, 6, 2) },
    { name: 'mono 96 kHz programme', options: { sampleRate: 96000, channels: 1 }, samples: () => programme(96000, 1, 6, 3) },
    { name: 'mono 11.025 kHz programme (hop moved to 1100 frames)', options: { sampleRate: 11025, channels: 1 }, samples: () => programme(11025, 1, 8, 5) },
    {
      name: '7.1 at 48 kHz with explicit weights',
      options: { sampleRate: 48000, channels: 8, weights: [1, 1, 1, 0, 1, 1, 1.41, 1.41] },
      samples: () => programme(48000, 8, 3.6, 6),
    },
    {
      name: '3 channels at 22.05 kHz with explicit weights',
      options: { sampleRate: 22050, channels: 3, weights: [1, 0.5, 1.41] },
      samples: () => programme(22050, 3, 8, 4),
    },
  ];

  for (const { name, options, samples: make } of signals) {
    it(name, async () => {
      const samples = make();
      const ref = new LoudnessReference(options);
      ref.push(samples);
      const expected = ref.finish();
      expect(expected.integrated).not.toBeNull();
      expect(expected.range).not.toBeNull();
      expect(expected.truePeak).toBeGreaterThan(expected.samplePeak + 0.01);
      for (const chunk of [1, 7, 441, 1 << 20]) {
        // Frame-by-frame pushes are slow in JS; the short prefix still crosses sub-block,
        // hop and window boundaries.
        const input = chunk === 1 ? samples.subarray(0, Math.round(options.channels * options.sampleRate * 3.5)) : samples;
        const want =
          chunk === 1
            ? (() => {
                const r = new LoudnessReference(options);
                r.push(input);
                return r.finish();
              })()
            : expected;
        const results: LoudnessResult[] = [];
        for (const variant of VARIANTS) {
          const r = await measure(input, { ...options, variant }, chunk);
          for (const f of FIELDS) {
            if (want[f] === null) expect(r[f], `${variant} ${f} chunk ${chunk}`).toBeNull();
            else near(r[f], want[f], 0.01);
          }
          expect(r.frames).toBe(want.frames);
          results.push(r);
        }
        // One source, same arithmetic in the same order: the two builds agree exactly.
        expect(results[0]).toEqual(results[1]);
      }
    });
  }
});

// ---- bounded memory -----------------------------------------------------------------------------

describe('memory', () => {
  it('an hour of 48 kHz stereo measures in the memory allocated at create', async () => {
    const meter = await LoudnessMeter.create({ sampleRate: 48000, channels: 2 });
    const before = meter.memoryBytes;
    expect(before).toBeLessThan(2 * 1024 * 1024);
    const block = programme(48000, 2, 10, 7);
    for (let i = 0; i < 360; i++) meter.push(block);
    const r = meter.finish();
    expect(meter.memoryBytes).toBe(before);
    expect(r.frames).toBe(48000 * 3600);
    // The loop of one 10 s block measures like the block played twice.
    const twice = new Float32Array(block.length * 2);
    twice.set(block);
    twice.set(block, block.length);
    const ref = new LoudnessReference({ sampleRate: 48000, channels: 2 });
    ref.push(twice);
    const short = ref.finish();
    near(r.integrated, short.integrated!, 0.05);
    near(r.truePeak, short.truePeak, 0.01);
  });
});
