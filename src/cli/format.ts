/**
 * Text formatting for the CLI's human-readable output: sizes, bitrates, durations and aligned
 * tables. Pure functions, so reports read the same whatever command prints them.
 */

import { isAbsolute, relative } from 'node:path';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * A path as a report shows it: relative to the current folder when it is inside it (the library
 * returns absolute paths), as given otherwise. The JSON of --json keeps the absolute ones.
 */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

/** bit/s as kbit/s, the unit audio bitrates are quoted in. */
export function formatKbps(bitsPerSecond: number | null | undefined): string {
  if (bitsPerSecond === null || bitsPerSecond === undefined) return '-';
  return `${(bitsPerSecond / 1000).toFixed(1)} kbit/s`;
}

export function formatSeconds(seconds: number | null | undefined, digits = 3): string {
  if (seconds === null || seconds === undefined) return '-';
  return `${seconds.toFixed(digits)} s`;
}

export function formatFactor(factor: number | null | undefined): string {
  if (factor === null || factor === undefined) return '-';
  return `${factor.toFixed(1)}× realtime`;
}

export function formatHz(rate: number | undefined): string {
  if (rate === undefined) return '-';
  return rate % 1000 === 0 ? `${rate / 1000} kHz` : `${(rate / 1000).toFixed(rate % 100 === 0 ? 1 : 3)} kHz`;
}

/** Signed percentage of `actual` against `nominal`, e.g. `+1.8%`. */
export function formatDeviation(actual: number | null, nominal: number | undefined): string {
  if (actual === null || !nominal) return '';
  const pct = ((actual - nominal) / nominal) * 100;
  return `${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(1)}%`;
}

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Aligns rows under their headers with two spaces between columns and a rule below the headers. */
export function table(columns: Column[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - width(cell));
        return columns[i]!.align === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n');
}

/** Display width: code points, which is right for the Latin text and symbols printed here. */
function width(text: string): number {
  return [...text].length;
}

/** A level such as `-14.0 LUFS`; `-` when unmeasurable, `-inf` for digital silence. */
export function formatLevel(value: number | null | undefined, unit: string, digits = 1): string {
  if (value === null || value === undefined) return '-';
  if (value === -Infinity) return `-inf ${unit}`;
  return `${value.toFixed(digits)} ${unit}`;
}

/** A gain with its sign, e.g. `+4.20 dB`. */
export function formatGain(db: number): string {
  return `${db >= 0 ? '+' : '−'}${Math.abs(db).toFixed(2)} dB`;
}
