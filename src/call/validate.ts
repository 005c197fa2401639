/**
 * Option predicates with one message format — `<option>: must be <what>, got <value>` — so every
 * call's options are checked up front, before any input is read, and every refusal names the
 * option. Operations declare their options with these.
 */
import { OptionsError } from '../errors.js';

/** Shows a rejected value as the caller wrote it (JSON would print NaN and Infinity as null). */
export function show(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function fail(option: string, what: string, value: unknown): never {
  throw new OptionsError(option, `must be ${what}, got ${show(value)}`);
}

export function integer(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(option, `an integer from ${min} to ${max}`, value);
  return value;
}

/** A finite number in [min, max] (`above`: min itself excluded). */
export function number(option: string, value: unknown, min: number, max: number, above = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (above ? value > min : value >= min) && value <= max;
  if (!ok) fail(option, above ? `a number above ${min} and at most ${max}` : `a number from ${min} to ${max}`, value);
  return value as number;
}

export function boolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(option, 'a boolean', value);
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, values: readonly T[]): T {
  if (typeof value !== 'string' || !values.includes(value as T)) fail(option, `one of ${values.join(', ')}`, value);
  return value as T;
}

/** A host path: a non-empty string without NUL bytes. */
export function path(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) fail(option, 'a non-empty path', value);
  return value;
}

/** One file name: no directory separators, not `.` or `..`. */
export function fileName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[^/\\\0]+$/.test(value) || value === '.' || value === '..') fail(option, 'a file name without slashes', value);
  return value;
}

/** A non-empty list of distinct names, each from `known`. */
export function names(option: string, value: unknown, known: readonly string[], what = 'name'): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(option, `a non-empty array of ${what}s from ${known.join(', ')}`, value);
  value.forEach((v, i) => {
    if (typeof v !== 'string' || !known.includes(v)) throw new OptionsError(`${option}[${i}]`, `unknown ${what} ${show(v)} (known: ${known.join(', ')})`);
  });
  if (new Set(value).size !== value.length) throw new OptionsError(option, `must not name a ${what} twice`);
  return value as string[];
}

/** `check(value)` when given, `fallback` when undefined. */
export function optional<T>(value: unknown, fallback: T, check: (v: unknown) => T): T {
  return value === undefined ? fallback : check(value);
}

/** Rejects keys of `object` that are not in `known` (`prefix.key` in the message). */
export function knownKeys(prefix: string, object: object, known: readonly string[], what = 'option'): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key))
      throw new OptionsError(prefix ? `${prefix}.${key}` : key, `is not ${what === 'option' ? 'an option' : `a ${what}`} (known: ${known.join(', ')})`);
  }
}
