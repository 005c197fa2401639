/** `peaks`: options of the waveform call, checked on the main thread before any job runs. */
import { OptionsError } from '../errors.js';
import type { PeaksOptions } from './waveform.js';

export interface ResolvedPeaks {
  /** Set when the caller gave it; otherwise derived from the source rate. */
  samplesPerPixel?: number;
  pixelsPerSecond: number;
  bits: 8 | 16;
  splitChannels: boolean;
}

const PEAKS_KEYS = ['pixelsPerSecond', 'samplesPerPixel', 'bits', 'splitChannels'];

export function resolvePeaks(o: PeaksOptions | undefined, option = 'peaks'): ResolvedPeaks {
  if (o === undefined) o = {};
  if (typeof o !== 'object' || o === null) throw new OptionsError(option, 'must be an object');
  for (const key of Object.keys(o)) {
    if (!PEAKS_KEYS.includes(key)) throw new OptionsError(key, `is not a peaks option (known: ${PEAKS_KEYS.join(', ')})`);
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
