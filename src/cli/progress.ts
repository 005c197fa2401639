/**
 * Progress on stderr, three ways (`--progress`):
 * - `bar`, the default on a terminal: one line redrawn in place, throttled, erased at the end;
 * - `lines`, the default elsewhere (CI and container logs): a plain line every few seconds and
 *   one at the end, so a long job shows it is alive without flooding the log;
 * - `json`: one JSON object per line (label, phase, ratio, media seconds, speed, ETA), twice a
 *   second and at the end, for programs to read, like ffmpeg's `-progress`.
 */
import type { Progress } from '../progress.js';
import type { ProgressMode } from './args.js';
import type { ProgressDisplay } from './context.js';

type Sink = Pick<NodeJS.WriteStream, 'write'>;

const REDRAW_MS = 100;
const LINE_MS = 5000;
const JSON_MS = 500;

/** The display of `mode` under `label` (what the command runs); undefined for `none`. */
export function progressDisplay(mode: ProgressMode, stream: Sink, label: string): ProgressDisplay | undefined {
  if (mode === 'bar') return terminalProgress(stream, label);
  if (mode === 'lines') return lineProgress(stream, label);
  if (mode === 'json') return jsonProgress(stream, label);
  return undefined;
}

export function terminalProgress(stream: Sink, label: string): ProgressDisplay {
  let drawn = false;
  return {
    listener: throttled(REDRAW_MS, (p) => {
      drawn = true;
      const width = 24;
      const filled = Math.round(p.ratio * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const speed = p.speed ? `  ${p.speed.toFixed(1)}×` : '';
      stream.write(`\r\x1b[K${name(label, p)} ${bar} ${percent(p)}  ${p.seconds.toFixed(1)} s${speed}`);
    }),
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

export function lineProgress(stream: Sink, label: string): ProgressDisplay {
  const started = performance.now();
  return {
    listener: throttled(LINE_MS, (p) => {
      const speed = p.speed ? `, ${p.speed.toFixed(1)}×` : '';
      const left = eta(p, started);
      stream.write(`${name(label, p)} ${percent(p).trim()} (${p.seconds.toFixed(1)} s of media${speed}${left === null ? '' : `, ${left} s left`})\n`);
    }),
    done() {},
  };
}

export function jsonProgress(stream: Sink, label: string): ProgressDisplay {
  const started = performance.now();
  return {
    listener: throttled(JSON_MS, (p) => {
      const line = {
        label,
        phase: p.phase,
        ratio: round(p.ratio, 4),
        seconds: round(p.seconds, 3),
        speed: p.speed === undefined ? null : round(p.speed, 2),
        eta: eta(p, started),
      };
      stream.write(`${JSON.stringify(line)}\n`);
    }),
    done() {},
  };
}

/** Calls `show` at most every `ms`, and always for the end (ratio 1). */
function throttled(ms: number, show: (p: Progress) => void): (p: Progress) => void {
  let last = Number.NEGATIVE_INFINITY;
  let ended = false;
  return (p) => {
    const now = performance.now();
    if (ended || (now - last < ms && p.ratio < 1)) return;
    last = now;
    ended = p.ratio >= 1;
    show(p);
  };
}

/** The call's phase only when it says more than the command's label ("package", not "package package"). */
function name(label: string, p: Progress): string {
  return p.phase === label ? label : `${label} ${p.phase}`;
}

function percent(p: Progress): string {
  return `${(p.ratio * 100).toFixed(0).padStart(3)}%`;
}

/** Seconds left at the pace so far (whole seconds); null before there is a pace to go by. */
function eta(p: Progress, started: number): number | null {
  if (p.ratio <= 0) return null;
  if (p.ratio >= 1) return 0;
  const elapsed = (performance.now() - started) / 1000;
  return Math.round((elapsed * (1 - p.ratio)) / p.ratio);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
