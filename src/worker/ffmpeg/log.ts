/**
 * Reading FFmpeg's log: a bounded tail for error details, and the `time=` of its stats lines for
 * progress. The core's own progress ratio is wrong in 0.12.10 (DESIGN.md), so progress is always
 * computed from `time=` and the probed duration. The line's `speed=` is not read: this build
 * mangles the floats it prints there (`speed=8.32x` for 0.32x on multi-output video runs), so
 * the speed is measured by the caller instead.
 */

export interface StatsLine {
  seconds: number;
}

const TIME_RE = /time=\s*(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;

/** Parses one FFmpeg stats line (`size= … time=00:00:03.52 bitrate= … speed=41.2x`). */
export function parseStats(line: string): StatsLine | undefined {
  const t = TIME_RE.exec(line);
  if (!t) return undefined;
  return { seconds: t[1] === '-' ? 0 : Number(t[2]) * 3600 + Number(t[3]) * 60 + Number(t[4]) };
}

export class LogTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = 40) {}

  push(line: string): void {
    // The demuxer whitelist is hundreds of names long: keep the verdict, not the list.
    const trimmed = line.trimEnd().replace(/(Format not on whitelist) '[^']*'/, '$1');
    if (!trimmed) return;
    this.lines.push(trimmed);
    if (this.lines.length > this.max) this.lines.shift();
  }

  get(): string[] {
    return this.lines.slice();
  }

  /** The lines that say what went wrong, without the banner and stats noise. */
  errors(): string[] {
    return this.lines.filter((l) => !/^\s*(size=|frame=|video:|\[out#|Stream mapping|Press \[q\])/.test(l));
  }
}

const NOT_WHITELISTED = /\[([\w,]+) @ [^\]]+\] Format not on whitelist/;

/** The demuxer an input was refused with by the sandbox's whitelist, if that is what happened. */
export function refusedDemuxer(lines: string[]): string | undefined {
  for (const line of lines) {
    const m = NOT_WHITELISTED.exec(line);
    if (m) return m[1];
  }
  return undefined;
}
