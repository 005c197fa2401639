/**
 * The loudness meter written plainly, as the test oracle for the wasm kernel: one sample at a time
 * in f64, every sub-block energy, gating block and short-term value kept in arrays, window sums
 * recomputed from scratch, gating and percentiles over the full lists. Memory grows with the
 * input and it is ~50× slower than the kernel; do not use it for production measurement.
 */
import {
  energyToLufs,
  type IntervalMaxima,
  kWeightingCoefficients,
  type LoudnessOptions,
  type LoudnessResult,
  resolveLoudnessOptions,
  TRUE_PEAK_PHASES,
  timingGrid,
} from './loudness-common.js';

const TAPS = 12;

export class LoudnessReference {
  readonly sampleRate: number;
  readonly channels: number;
  readonly weights: readonly number[];

  private readonly k: ReturnType<typeof kWeightingCoefficients>;
  private readonly hop: number;
  private readonly sub: number;
  // Per channel: filter histories x1 x2 y1 y2 z1 z2, sum of squares of the open sub-block,
  // and the true-peak history (newest first).
  private readonly state: Float64Array[];
  private readonly acc: Float64Array;
  private readonly history: Float64Array[];
  private readonly carry: number[] = [];
  private subFill = 0;
  private frames = 0;
  private readonly subEnergies: number[] = [];
  private readonly blocks: number[] = [];
  private readonly shortTerms: number[] = [];
  private momentaryMax = -1;
  private shortTermMax = -1;
  private momentaryInterval = -1;
  private shortTermInterval = -1;
  private samplePeak = 0;
  private truePeak = 0;
  private done = false;

  constructor(options: LoudnessOptions) {
    const o = resolveLoudnessOptions(options);
    this.sampleRate = o.sampleRate;
    this.channels = o.channels;
    this.weights = o.weights;
    this.k = kWeightingCoefficients(o.sampleRate);
    ({ hop: this.hop, sub: this.sub } = timingGrid(o.sampleRate));
    this.state = Array.from({ length: o.channels }, () => new Float64Array(6));
    this.acc = new Float64Array(o.channels);
    this.history = Array.from({ length: o.channels }, () => new Float64Array(TAPS));
  }

  /** Interleaved samples; a trailing partial frame waits for the next call. */
  push(samples: Float32Array): void {
    if (this.done) throw new Error('push after finish');
    let i = 0;
    while (this.carry.length > 0 && i < samples.length) {
      this.carry.push(samples[i++]!);
      if (this.carry.length === this.channels) {
        this.frame(this.carry, 0);
        this.carry.length = 0;
      }
    }
    for (; i + this.channels <= samples.length; i += this.channels) this.frame(samples, i);
    for (; i < samples.length; i++) this.carry.push(samples[i]!);
  }

  takeIntervalMaxima(): IntervalMaxima {
    const out = { momentary: windowLufs(this.momentaryInterval), shortTerm: windowLufs(this.shortTermInterval) };
    this.momentaryInterval = -1;
    this.shortTermInterval = -1;
    return out;
  }

  finish(): LoudnessResult {
    if (!this.done) {
      // Ring the interpolator out past the last sample, as trailing silence would.
      for (let i = 0; i < TAPS - 1; i++) {
        for (let c = 0; c < this.channels; c++) this.interpolate(c, 0);
      }
      this.done = true;
    }
    return {
      integrated: this.integrated(),
      range: this.range(),
      truePeak: 20 * Math.log10(Math.max(this.truePeak, this.samplePeak)),
      samplePeak: 20 * Math.log10(this.samplePeak),
      momentaryMax: windowLufs(this.momentaryMax),
      shortTermMax: windowLufs(this.shortTermMax),
      frames: this.frames,
    };
  }

  private frame(samples: ArrayLike<number>, offset: number): void {
    this.frames++;
    const { shelf: f, highPass: h } = this.k;
    for (let c = 0; c < this.channels; c++) {
      const x = samples[offset + c]!;
      this.samplePeak = Math.max(this.samplePeak, Math.abs(x));
      this.interpolate(c, x);
      if (this.weights[c] === 0) continue;
      // Direct form I, both stages; s = [x1, x2, y1, y2, z1, z2].
      const s = this.state[c]!;
      const y = f.b0 * x + f.b1 * s[0]! + f.b2 * s[1]! - f.a2 * s[3]! - f.a1 * s[2]!;
      const z = h.b0 * y + h.b1 * s[2]! + h.b2 * s[3]! - h.a2 * s[5]! - h.a1 * s[4]!;
      s[1] = s[0]!;
      s[0] = x;
      s[3] = s[2]!;
      s[2] = y;
      s[5] = s[4]!;
      s[4] = z;
      this.acc[c] = this.acc[c]! + z * z;
    }
    if (++this.subFill === this.sub) {
      this.subFill = 0;
      this.closeSubBlock();
    }
  }

  private interpolate(c: number, x: number): void {
    const hist = this.history[c]!;
    for (let k = TAPS - 1; k > 0; k--) hist[k] = hist[k - 1]!;
    hist[0] = x;
    for (const phase of TRUE_PEAK_PHASES) {
      let y = 0;
      for (let k = 0; k < TAPS; k++) y += phase[k]! * hist[k]!;
      this.truePeak = Math.max(this.truePeak, Math.abs(y));
    }
  }

  private closeSubBlock(): void {
    let e = 0;
    for (let c = 0; c < this.channels; c++) {
      e += this.weights[c]! * this.acc[c]!;
      this.acc[c] = 0;
    }
    this.subEnergies.push(e);
    const n = this.subEnergies.length;
    const perHop = this.hop / this.sub;
    const atHop = n % perHop === 0;
    const mLen = 4 * perHop;
    const sLen = 30 * perHop;
    if (n >= mLen) {
      const m = this.windowMean(mLen);
      this.momentaryMax = Math.max(this.momentaryMax, m);
      this.momentaryInterval = Math.max(this.momentaryInterval, m);
      if (atHop) this.blocks.push(m);
    }
    if (n >= sLen) {
      const s = this.windowMean(sLen);
      this.shortTermMax = Math.max(this.shortTermMax, s);
      this.shortTermInterval = Math.max(this.shortTermInterval, s);
      if (atHop) this.shortTerms.push(s);
    }
  }

  private windowMean(len: number): number {
    let sum = 0;
    for (let i = this.subEnergies.length - len; i < this.subEnergies.length; i++) sum += this.subEnergies[i]!;
    return sum / (len * this.sub);
  }

  /** BS.1770-4: absolute gate -70 LUFS, then relative gate 10 LU below the absolute-gated mean. */
  private integrated(): number | null {
    const absGated = this.blocks.filter((e) => energyToLufs(e) > -70);
    if (absGated.length === 0) return null;
    const threshold = energyToLufs(mean(absGated)) - 10;
    const gated = absGated.filter((e) => energyToLufs(e) > threshold);
    return gated.length ? energyToLufs(mean(gated)) : null;
  }

  /** Tech 3342: gates -70 LUFS and -20 LU, then the 95th minus the 10th percentile. */
  private range(): number | null {
    const absGated = this.shortTerms.filter((e) => energyToLufs(e) > -70);
    if (absGated.length === 0) return null;
    const threshold = energyToLufs(mean(absGated)) - 20;
    const gated = absGated
      .map(energyToLufs)
      .filter((l) => l > threshold)
      .sort((a, b) => a - b);
    if (gated.length === 0) return null;
    const at = (p: number) => gated[Math.floor((gated.length - 1) * p + 0.5)]!;
    return at(0.95) - at(0.1);
  }
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function windowLufs(energy: number): number | null {
  return energy < 0 ? null : energyToLufs(energy);
}
