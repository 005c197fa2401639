/**
 * FFmpeg's `-progress` stream, read from a node of the job's FS that only FFmpeg writes to.
 *
 * Progress (media time, frames) drives the duration limit and the progress events, so it must
 * come from a channel the input cannot reach: the `-progress` writer prints only numbers FFmpeg
 * computed (`out_time_us=…`, `frame=…`, `progress=continue|end`), never a tag or a name, unlike
 * the log where a tag reading `time=99:00:00.00` once passed for a stats line.
 */
import type { ByteSink } from './sandbox-fs.js';

export interface ProgressReport {
  /** Media seconds written to the outputs so far (`out_time_us`); null while unknown. */
  seconds: number | null;
  /** Frames of the first video output so far; null without a video output. */
  frames: number | null;
  /** FFmpeg's last report of the run (`progress=end`). */
  end: boolean;
}

/** Keys and values are short numbers; a longer line is not FFmpeg's and is ignored. */
const MAX_LINE = 128;
const NEWLINE = 0x0a;

export class ProgressSink implements ByteSink {
  written = 0;
  private line = '';
  private overlong = false;
  private seconds: number | null = null;
  private frames: number | null = null;

  constructor(private readonly onReport: (report: ProgressReport) => void) {}

  write(data: Uint8Array, position: number): number {
    for (const byte of data) {
      if (byte === NEWLINE) {
        if (!this.overlong) this.take(this.line);
        this.line = '';
        this.overlong = false;
      } else if (this.line.length < MAX_LINE) {
        this.line += String.fromCharCode(byte);
      } else {
        this.overlong = true;
      }
    }
    this.written = Math.max(this.written, position + data.byteLength);
    return data.byteLength;
  }

  read(): number {
    return 0;
  }

  truncate(): void {
    this.written = 0;
  }

  close(): void {}

  private take(line: string): void {
    const eq = line.indexOf('=');
    if (eq < 0) return;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1).trim();
    if (key === 'out_time_us') {
      // `N/A` before the first timestamp; negative while an output starts before zero.
      this.seconds = /^-?\d+$/.test(value) ? Math.max(0, Number(value) / 1e6) : null;
    } else if (key === 'frame') {
      this.frames = /^\d+$/.test(value) ? Number(value) : null;
    } else if (key === 'progress') {
      this.onReport({ seconds: this.seconds, frames: this.frames, end: value === 'end' });
    }
  }
}
