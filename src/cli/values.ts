/** Parsers for command-line values: each failure is an `E_OPTIONS` error naming the flag. */
import { OptionsError } from '../errors.js';

const BYTE_SUFFIX: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A finite number, negative allowed (levels in dB). */
export function finite(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new OptionsError(flag, `must be a number, got ${JSON.stringify(text)}`);
  return n;
}

export function integer(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || !(Number(text) >= 1) || !Number.isSafeInteger(Number(text))) {
    throw new OptionsError(flag, `must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

export function positive(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new OptionsError(flag, `must be a positive number, got ${JSON.stringify(text)}`);
  return n;
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/**
 * A duration in seconds, written the same way for every flag that takes one: `90` (seconds),
 * `90s`, `1m30s`, `1500ms`, `2h`, `0.5s`, or ffmpeg's `[HH:]MM:SS[.frac]` (`01:30`, `0:01:30.5`).
 * Above 0 unless `zero` allows it.
 */
export function duration(flag: string, text: string, zero: 'zero allowed' | 'positive' = 'positive'): number {
  const t = text.trim().toLowerCase();
  let seconds = NaN;
  if (/^\d+(\.\d+)?$/.test(t)) seconds = Number(t);
  else if (/^(\d+:)?\d+:\d+(\.\d+)?$/.test(t)) seconds = t.split(':').reduce((total, part) => total * 60 + Number(part), 0);
  else if (/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(t)) {
    seconds = 0;
    for (const [, n, unit] of t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) seconds += Number(n) * UNIT_SECONDS[unit!]!;
  }
  const floor = zero === 'zero allowed' ? seconds < 0 : seconds <= 0;
  if (!Number.isFinite(seconds) || floor) {
    const what = zero === 'zero allowed' ? 'a duration' : 'a duration above 0';
    throw new OptionsError(flag, `must be ${what} like 90, 90s, 1m30s, 1500ms or 01:30, got ${JSON.stringify(text)}`);
  }
  return seconds;
}

/** A byte count, optionally with a binary suffix: `500000`, `64k`, `200M`, `2G`. */
export function byteCount(flag: string, text: string): number {
  const match = /^(\d+)([kmg]?)(i?b)?$/i.exec(text.trim());
  const bytes = match ? Number(match[1]) * BYTE_SUFFIX[match[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new OptionsError(flag, `must be a byte count like 500000, 64k, 200M or 2G, got ${JSON.stringify(text)}`);
  return bytes;
}

/** A comma-separated list, e.g. `--presets vorbis-96,opus-160`. */
export function list(flag: string, text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new OptionsError(flag, 'must name at least one item');
  return items;
}

const DECIMAL_SUFFIX: Record<string, number> = { '': 1, k: 1000, m: 1_000_000 };

/** A bit rate in bit/s: `192000`, `192k`, `1.5M` (decimal, as codecs count them). */
export function bitrate(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.trim());
  const bits = match ? Math.round(Number(match[1]) * DECIMAL_SUFFIX[match[2]!.toLowerCase()]!) : NaN;
  if (!Number.isSafeInteger(bits) || bits < 1) throw new OptionsError(flag, `must be a bit rate like 192k, 192000 or 2.5M, got ${JSON.stringify(text)}`);
  return bits;
}

/** A sample rate in Hz: `44100`, `44.1k`, `48k`. */
export function sampleRate(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(k?)(hz)?$/i.exec(text.trim());
  const hz = match ? Math.round(Number(match[1]) * (match[2] ? 1000 : 1)) : NaN;
  if (!Number.isSafeInteger(hz) || hz < 1) throw new OptionsError(flag, `must be a sample rate like 44100, 44.1k or 48k, got ${JSON.stringify(text)}`);
  return hz;
}
