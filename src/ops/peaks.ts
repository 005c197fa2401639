/** `peaks`: options of the waveform call, checked on the main thread before any job runs. */
import { OptionsError } from '../errors.js';

export interface ResolvedPeaks {
  /** Set when the caller gave it; otherwise derived from the source rate. */
  samplesPerPixel?: number;
  pixelsPerSecond: number;
  bits: 8 | 16;
  splitChannels: boolean;
}

export const PEAKS_KEYS = ['pixelsPerSecond', 'samplesPerPixel', 'bits', 'splitChannels'] as const;

export function resolvePeaks(o: PeaksOptions | undefined, option = 'peaks'): ResolvedPeaks {
  if (o === undefined) o = {};
  if (typeof o !== 'object' || o === null) throw new OptionsError(option, 'must be an object');
  for (const key of Object.keys(o)) {
    if (!(PEAKS_KEYS as readonly string[]).includes(key)) throw new OptionsError(key, `is not a peaks option (known: ${PEAKS_KEYS.join(', ')})`);
  }
  const pixelsPerSecond = o.pixelsPerSecond ?? 20;
  if (!(typeof pixelsPerSecond === 'number' && pixelsPerSecond > 0 && pixelsPerSecond <= 10000)) {
    throw new OptionsError('pixelsPerSecond', 'must be a number above 0 and at most 10000');
  }
  if (o.samplesPerPixel !== undefined && !(Number.isInteger(o.samplesPerPixel) && o.samplesPerPixel >= 1 && o.samplesPerPixel <= 2 ** 24)) {
    throw new OptionsError('samplesPerPixel', 'must be an integer from 1 to 16777216');
  }
  const bits = o.bits ?? 16;
  if (bits !== 8 && bits !== 16) throw new OptionsError('bits', 'must be 8 or 16');
  if (o.splitChannels !== undefined && typeof o.splitChannels !== 'boolean') throw new OptionsError('splitChannels', 'must be a boolean');
  return { ...(o.samplesPerPixel !== undefined ? { samplesPerPixel: o.samplesPerPixel } : {}), pixelsPerSecond, bits, splitChannels: o.splitChannels ?? false };
}

/** Source frames per column at `sampleRate` (at least 1). */
export function samplesPerPixel(peaks: ResolvedPeaks, sampleRate: number): number {
  return peaks.samplesPerPixel ?? Math.max(1, Math.round(sampleRate / peaks.pixelsPerSecond));
}

/** audiowaveform's JSON (format version 2). `data` is `[min, max]` per channel per column. */
export interface Waveform {
  version: 2;
  channels: number;
  sample_rate: number;
  samples_per_pixel: number;
  bits: 8 | 16;
  length: number;
  data: number[];
}

export interface PeaksOptions {
  /** Columns per second of audio (default 20); or give `samplesPerPixel`. */
  pixelsPerSecond?: number;
  /** Source frames per column; overrides `pixelsPerSecond`. */
  samplesPerPixel?: number;
  /** 8 or 16 (default 16). */
  bits?: 8 | 16;
  /** One min/max pair per channel per column instead of the channels' mix (default false). */
  splitChannels?: boolean;
}

export function toWaveform(peaks: { data: Int16Array; length: number; channels: number }, sampleRate: number, samplesPerPixel: number, bits: 8 | 16): Waveform {
  return {
    version: 2,
    channels: peaks.channels,
    sample_rate: sampleRate,
    samples_per_pixel: samplesPerPixel,
    bits,
    length: peaks.length,
    data: Array.from(peaks.data),
  };
}
