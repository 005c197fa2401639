/**
 * Loudness meter (ITU-R BS.1770-4, EBU R 128 / Tech 3341 / Tech 3342) over the wasm kernel in
 * assembly/loudness. Each build's `WebAssembly.Module` is compiled once per process; every meter
 * gets its own instance (its own linear memory, sized once at creation and never grown after).
 *
 *   const meter = await LoudnessMeter.create({ sampleRate: 48000, channels: 2 });
 *   meter.push(interleavedFloat32);   // any length, any number of times
 *   const { integrated, range, truePeak } = meter.finish();
 */
/// <reference path="../../types/webassembly.d.ts" />
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { InternalError, UnsupportedError } from '../../errors.js';
import { type IntervalMaxima, type LoudnessOptions, type LoudnessResult, type LoudnessVariant, orNull, resolveLoudnessOptions } from './loudness-common.js';

export {
  type Biquad,
  DEFAULT_CHANNEL_WEIGHTS,
  type IntervalMaxima,
  kWeightingCoefficients,
  type LoudnessOptions,
  type LoudnessResult,
  type LoudnessVariant,
  timingGrid,
} from './loudness-common.js';

// WebAssembly's typings (the repo's `lib` has no DOM): one declaration for the whole source.
type WasmMemory = WebAssembly.Memory;
type WasmModule = WebAssembly.Module;

/** assembly/loudness/index.ts. Levels come back as numbers with NaN for "none". */
interface LoudnessExports {
  readonly memory: WasmMemory;
  init(sampleRate: number, channels: number): number;
  setWeight(channel: number, weight: number): void;
  inputPtr(): number;
  capacity(): number;
  hopFrames(): number;
  subBlockFrames(): number;
  coefficient(index: number): number;
  push(frames: number): void;
  finish(): void;
  integrated(): number;
  loudnessRange(): number;
  momentaryMax(): number;
  shortTermMax(): number;
  intervalMomentaryMax(): number;
  intervalShortTermMax(): number;
  resetInterval(): void;
  samplePeak(): number;
  truePeak(): number;
  framesSeen(): number;
  gatingHistogramPtr(): number;
  histogramBins(): number;
}

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — the wasm-feature-detect probe.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

let simd: boolean | undefined;

export function loudnessSimdSupported(): boolean {
  simd ??= WebAssembly.validate(SIMD_PROBE);
  return simd;
}

function pickVariant(requested: LoudnessVariant | 'auto'): LoudnessVariant {
  if (requested === 'scalar') return 'scalar';
  if (requested === 'simd' && !loudnessSimdSupported()) {
    throw new UnsupportedError('variant: this runtime has no WebAssembly SIMD; use "scalar" or "auto"');
  }
  return loudnessSimdSupported() ? 'simd' : 'scalar';
}

const modules = new Map<LoudnessVariant, Promise<WasmModule>>();

function loadModule(variant: LoudnessVariant): Promise<WasmModule> {
  let mod = modules.get(variant);
  if (!mod) {
    // Literal URLs, one per file, so bundlers that rewrite `new URL(…, import.meta.url)` see both.
    const url = variant === 'simd' ? new URL('./wasm/loudness.simd.wasm', import.meta.url) : new URL('./wasm/loudness.scalar.wasm', import.meta.url);
    mod = readFile(fileURLToPath(url)).then(
      (bytes) => WebAssembly.compile(bytes),
      (cause: unknown) => {
        throw new InternalError(`loudness kernel ${url.pathname} did not load; run scripts/build-kernels.mjs`, {}, { cause });
      },
    );
    // A failed load is not cached, so a later build can still be picked up.
    mod.catch(() => modules.delete(variant));
    modules.set(variant, mod);
  }
  return mod;
}

/** Sparse gating histogram: parallel arrays of bin index, block count and energy sum. */
export interface GatingHistogram {
  bins: number[];
  counts: number[];
  energies: number[];
}

const INIT_ERRORS: Record<number, string> = {
  1: 'sample rate rejected by the kernel',
  2: 'channel count rejected by the kernel',
  3: 'could not grow wasm memory',
  4: 'instance initialised twice',
};

export class LoudnessMeter {
  readonly sampleRate: number;
  readonly channels: number;
  readonly weights: readonly number[];
  readonly variant: LoudnessVariant;

  private readonly k: LoudnessExports;
  private readonly capacity: number;
  private input: Float32Array;
  private readonly carry: Float32Array;
  private carried = 0;
  private result: LoudnessResult | undefined;

  static async create(options: LoudnessOptions): Promise<LoudnessMeter> {
    const o = resolveLoudnessOptions(options);
    const variant = pickVariant(o.variant);
    const instance = await WebAssembly.instantiate(await loadModule(variant), {
      env: {
        abort(): never {
          throw new InternalError('loudness kernel aborted');
        },
      },
    });
    const k = instance.exports as unknown as LoudnessExports;
    const status = k.init(o.sampleRate, o.channels);
    if (status !== 0) throw new InternalError(`loudness kernel init failed: ${INIT_ERRORS[status] ?? status}`);
    o.weights.forEach((w, c) => {
      k.setWeight(c, w);
    });
    return new LoudnessMeter(k, o.sampleRate, o.channels, o.weights, variant);
  }

  private constructor(k: LoudnessExports, sampleRate: number, channels: number, weights: readonly number[], variant: LoudnessVariant) {
    this.k = k;
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.weights = weights;
    this.variant = variant;
    this.capacity = k.capacity();
    this.input = this.view();
    this.carry = new Float32Array(channels);
  }

  /** Bytes of wasm linear memory this meter holds; fixed after `create`. */
  get memoryBytes(): number {
    return this.k.memory.buffer.byteLength;
  }

  /** The kernel's timing grid (frames): gating hop and window-evaluation sub-block. */
  get grid(): { hop: number; sub: number } {
    return { hop: this.k.hopFrames(), sub: this.k.subBlockFrames() };
  }

  /** The K-weighting the kernel derived for this sample rate. */
  get coefficients(): number[] {
    return Array.from({ length: 10 }, (_, i) => this.k.coefficient(i));
  }

  /** Interleaved samples, any length; a trailing partial frame waits for the next call. */
  push(samples: Float32Array): void {
    if (this.result) throw new InternalError('push after finish');
    const ch = this.channels;
    let off = 0;
    if (this.carried > 0) {
      const take = Math.min(ch - this.carried, samples.length);
      this.carry.set(samples.subarray(0, take), this.carried);
      this.carried += take;
      off = take;
      if (this.carried < ch) return;
      this.run(this.carry, 0, 1);
      this.carried = 0;
    }
    const whole = Math.floor((samples.length - off) / ch);
    for (let done = 0; done < whole; ) {
      const n = Math.min(this.capacity, whole - done);
      this.run(samples, off + done * ch, n);
      done += n;
    }
    const rest = samples.length - off - whole * ch;
    if (rest > 0) {
      this.carry.set(samples.subarray(samples.length - rest));
      this.carried = rest;
    }
  }

  /** Maxima of the 400 ms and 3 s windows that ended since the previous call. */
  takeIntervalMaxima(): IntervalMaxima {
    const out = { momentary: orNull(this.k.intervalMomentaryMax()), shortTerm: orNull(this.k.intervalShortTermMax()) };
    this.k.resetInterval();
    return out;
  }

  /** Ends the measurement (a dangling partial frame is dropped). Idempotent. */
  finish(): LoudnessResult {
    if (!this.result) {
      const k = this.k;
      k.finish();
      this.result = {
        integrated: orNull(k.integrated()),
        range: orNull(k.loudnessRange()),
        truePeak: k.truePeak(),
        samplePeak: k.samplePeak(),
        momentaryMax: orNull(k.momentaryMax()),
        shortTermMax: orNull(k.shortTermMax()),
        frames: k.framesSeen(),
      };
    }
    return { ...this.result };
  }

  /**
   * The occupied bins of the gating histogram after `finish` (absolute-gated 400 ms blocks by
   * 0.005 LU bin: count and energy sum), so several programmes can be gated together.
   */
  gatingHistogram(): GatingHistogram {
    this.finish();
    const k = this.k;
    const bins = k.histogramBins();
    const h = new Float64Array(k.memory.buffer, k.gatingHistogramPtr(), 2 * bins);
    const out: GatingHistogram = { bins: [], counts: [], energies: [] };
    for (let b = 0; b < bins; b++) {
      if (h[b]! > 0) {
        out.bins.push(b);
        out.counts.push(h[b]!);
        out.energies.push(h[bins + b]!);
      }
    }
    return out;
  }

  private run(samples: Float32Array, offset: number, frames: number): void {
    if (this.input.buffer !== this.k.memory.buffer) this.input = this.view();
    this.input.set(samples.subarray(offset, offset + frames * this.channels));
    this.k.push(frames);
  }

  private view(): Float32Array {
    return new Float32Array(this.k.memory.buffer, this.k.inputPtr(), this.capacity * this.channels);
  }
}
