/**
 * A one-line progress display on stderr, redrawn in place and throttled, so a long encode shows
 * it is alive without flooding a terminal. Only used when stderr is a TTY.
 */
import type { Progress } from '../progress.js';
import type { ProgressDisplay } from './context.js';

const REDRAW_MS = 100;

export function terminalProgress(stream: Pick<NodeJS.WriteStream, 'write'>, label: string): ProgressDisplay {
  let last = 0;
  let drawn = false;
  return {
    listener(p: Progress) {
      const now = performance.now();
      if (now - last < REDRAW_MS && p.ratio < 1) return;
      last = now;
      drawn = true;
      const width = 24;
      const filled = Math.round(p.ratio * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const speed = p.speed ? `  ${p.speed.toFixed(1)}×` : '';
      // The call's phase only when it says more than the command's label ("package", not "package package").
      const name = p.phase === label ? label : `${label} ${p.phase}`;
      stream.write(`\r\x1b[K${name} ${bar} ${(p.ratio * 100).toFixed(0).padStart(3)}%  ${p.seconds.toFixed(1)} s${speed}`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
