/**
 * What the loudness kernel and its TypeScript reference share: options and their validation, the
 * result shape, channel weights, the K-weighting derivation and the timing grid.
 */
import { OptionsError } from '../../errors.js';
import type { LoudnessMeasure } from '../../model/loudness.js';

export type LoudnessVariant = 'simd' | 'scalar';

export interface LoudnessOptions {
  /** Hz, integer, 8000–384000. */
  sampleRate: number;
  /** 1–8 interleaved channels. */
  channels: number;
  /**
   * BS.1770 weight per channel (1.0 front, 1.41 surround, 0 to exclude, e.g. LFE). Defaults exist
   * for 1, 2, 5 (L R C Ls Rs) and 6 (5.1: L R C LFE Ls Rs) channels; other counts must pass
   * weights (for 7.1, BS.1770-4 gives 1.41 only to channels at 60–120° azimuth, so the backs of
   * a 7.1 bed weigh 1.0 while FFmpeg's ebur128 weighs every surround 1.41: the caller decides).
   */
  weights?: readonly number[];
  /** Force a kernel build; by default SIMD when the runtime supports it. */
  variant?: LoudnessVariant | 'auto';
}

export type { LoudnessMeasure } from '../../model/loudness.js';

/** What the kernel's `finish` returns. */
export interface LoudnessResult extends LoudnessMeasure {
  /** Frames measured. */
  frames: number;
}

/** Maxima of the windows that ended since the previous call (for live meters and tests). */
export interface IntervalMaxima {
  momentary: number | null;
  shortTerm: number | null;
}

export const MAX_CHANNELS = 8;

const S = 1.41;
/** Default BS.1770-4 weights by channel count (FFmpeg channel order). */
export const DEFAULT_CHANNEL_WEIGHTS: Readonly<Record<number, readonly number[]>> = Object.freeze({
  1: Object.freeze([1]),
  2: Object.freeze([1, 1]),
  5: Object.freeze([1, 1, 1, S, S]),
  6: Object.freeze([1, 1, 1, 0, S, S]),
});

export interface ResolvedLoudnessOptions {
  sampleRate: number;
  channels: number;
  weights: readonly number[];
  variant: LoudnessVariant | 'auto';
}

export function resolveLoudnessOptions(options: LoudnessOptions): ResolvedLoudnessOptions {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('options', 'must be an object with sampleRate and channels');
  }
  const { sampleRate, channels, weights, variant } = options;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 384000) {
    throw new OptionsError('sampleRate', 'must be an integer between 8000 and 384000');
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
    throw new OptionsError('channels', `must be an integer between 1 and ${MAX_CHANNELS}`);
  }
  let resolved: readonly number[];
  if (weights === undefined) {
    const preset = DEFAULT_CHANNEL_WEIGHTS[channels];
    if (!preset) {
      throw new OptionsError('weights', `must be given for ${channels} channels (no default layout)`);
    }
    resolved = preset;
  } else {
    if (!Array.isArray(weights) || weights.length !== channels) {
      throw new OptionsError('weights', `must be an array of ${channels} numbers, one per channel`);
    }
    if (!weights.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0)) {
      throw new OptionsError('weights', 'must be finite numbers ≥ 0');
    }
    if (!weights.some((w) => w > 0)) throw new OptionsError('weights', 'must include at least one weight > 0');
    resolved = Object.freeze([...weights]);
  }
  if (variant !== undefined && variant !== 'auto' && variant !== 'simd' && variant !== 'scalar') {
    throw new OptionsError('variant', 'must be "simd", "scalar" or "auto"');
  }
  return { sampleRate, channels, weights: resolved, variant: variant ?? 'auto' };
}

/** One biquad: y = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²). */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/**
 * BS.1770-4 K-weighting for any sample rate: the high-shelf pre-filter and the RLB high-pass,
 * each from its analog prototype through the bilinear transform (the derivation libebur128 uses).
 * At 48 kHz this reproduces the coefficients tabulated in BS.1770-4 Annex 1.
 */
export function kWeightingCoefficients(sampleRate: number): { shelf: Biquad; highPass: Biquad } {
  const vh = 10 ** (3.999843853973347 / 20);
  const vb = vh ** 0.4996667741545416;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * 1681.974450955533) / sampleRate);
  let a0 = 1 + k / q + k * k;
  const shelf = {
    b0: (vh + (vb * k) / q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * 38.13547087602444) / sampleRate);
  a0 = 1 + k / q + k * k;
  const highPass = { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / a0, a2: (1 - k / q + k * k) / a0 };
  return { shelf, highPass };
}

/**
 * The timing grid: gating blocks start every `hop` frames (100 ms, rounded like libebur128), and
 * the 400 ms / 3 s windows are evaluated at every `sub` frames, the largest divisor of the hop that
 * is at most 5 ms, so maxima of bursts that do not start on a 100 ms boundary are caught
 * (EBU Tech 3341 cases 13 and 14). Must match init() in assembly/loudness/index.ts.
 */
export function timingGrid(sampleRate: number): { hop: number; sub: number } {
  const hop = Math.floor((sampleRate + 5) / 10);
  let sub = Math.floor(hop / 20);
  while (hop % sub !== 0) sub--;
  if (sub * 4 < Math.floor(hop / 20)) {
    // No usable divisor (11025 Hz: 1103 frames, a prime): the hop moves to the nearest multiple
    // of 20 frames instead of evaluating windows every frame.
    sub = Math.floor((sampleRate + 100) / 200);
    return { hop: 20 * sub, sub };
  }
  return { hop, sub };
}

/** BS.1770-4 Annex 2, 48-tap 4-phase interpolator; `[phase][k]` multiplies x[n-k]. */
export const TRUE_PEAK_PHASES: readonly (readonly number[])[] = Object.freeze(
  [
    [
      0.001708984375, 0.010986328125, -0.0196533203125, 0.033203125, -0.0594482421875, 0.1373291015625, 0.97216796875, -0.102294921875, 0.047607421875,
      -0.026611328125, 0.014892578125, -0.00830078125,
    ],
    [
      -0.0291748046875, 0.029296875, -0.0517578125, 0.089111328125, -0.16650390625, 0.465087890625, 0.77978515625, -0.2003173828125, 0.1015625,
      -0.0582275390625, 0.0330810546875, -0.0189208984375,
    ],
    [
      -0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625, -0.2003173828125, 0.77978515625, 0.465087890625, -0.16650390625, 0.089111328125,
      -0.0517578125, 0.029296875, -0.0291748046875,
    ],
    [
      -0.00830078125, 0.014892578125, -0.026611328125, 0.047607421875, -0.102294921875, 0.97216796875, 0.1373291015625, -0.0594482421875, 0.033203125,
      -0.0196533203125, 0.010986328125, 0.001708984375,
    ],
  ].map((row) => Object.freeze(row)),
);

export function energyToLufs(energy: number): number {
  return -0.691 + 10 * Math.log10(energy);
}

/** NaN (the kernel's "none") becomes null. */
export function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}
