/**
 * FFmpeg's log as records: who spoke (the component), at what level, and what it said.
 *
 * FFmpeg runs with `-loglevel repeat+level+warning`, so every message it prints is written to
 * stderr as up to four separate writes: the parent's and the context's `[name @ 0x…] ` prefixes,
 * the `[level] ` tag, then the message itself. The core hands us each write as it happens
 * (core.ts), so a record's structure comes from the write boundaries, never from the text: a tag,
 * a file name or a codec string that holds newlines and something looking like a prefix stays
 * inside the message it was printed in and cannot pose as a record of its own.
 */

import { printable } from '../../util/printable.js';

export const LOG_LEVELS = ['quiet', 'panic', 'fatal', 'error', 'warning', 'info', 'verbose', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogRecord {
  /** The logging context's name (`mp3float`, `mov,mp4,m4a,3gp,3g2,mj2`, `Parsed_volume_0`); absent for the program's own messages. */
  component?: string;
  /** The context's address as printed, which tells two contexts of one name apart. */
  address?: string;
  /** The enclosing context, when FFmpeg printed one (a filter inside a graph). */
  parent?: string;
  level?: LogLevel;
  /** The message, made printable (see `util/printable.ts`), without its final newline. */
  text: string;
}

const PREFIX = /^\[([^\][\n]{1,256}) @ (0x[0-9a-f]{1,16})\] $/;
const LEVEL = /^\[(quiet|panic|fatal|error|warning|info|verbose|debug|trace)\] $/;
/** A message longer than this is cut: its head says what went wrong, and memory stays bounded. */
const MAX_TEXT = 2048;

/** Assembles records from the stream of stderr writes. */
export class LogRecordParser {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private contexts: Array<{ name: string; address: string }> = [];
  private level: LogLevel | undefined;
  private text = '';
  private inMessage = false;

  constructor(private readonly emit: (record: LogRecord) => void) {}

  write(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    const chunk = this.decoder.decode(bytes);
    if (!this.inMessage) {
      const prefix = this.level === undefined && this.contexts.length < 2 ? PREFIX.exec(chunk) : null;
      if (prefix) {
        this.contexts.push({ name: prefix[1]!, address: prefix[2]! });
        return;
      }
      const level = this.level === undefined ? LEVEL.exec(chunk) : null;
      if (level) {
        this.level = level[1] as LogLevel;
        return;
      }
      this.inMessage = true;
    }
    if (this.text.length < MAX_TEXT) this.text += chunk.slice(0, MAX_TEXT - this.text.length);
    if (chunk.endsWith('\n')) this.flush();
  }

  /** Emits a pending message that never got its newline (the run ended mid-line). */
  flush(): void {
    if (!this.inMessage && this.contexts.length === 0 && this.level === undefined) return;
    const context = this.contexts.at(-1);
    const parent = this.contexts.length > 1 ? this.contexts[0] : undefined;
    const record: LogRecord = { text: printable(this.text.replace(/\n$/, '')) };
    if (context) {
      record.component = printable(context.name);
      record.address = context.address;
    }
    if (parent) record.parent = printable(parent.name);
    if (this.level) record.level = this.level;
    this.contexts = [];
    this.level = undefined;
    this.text = '';
    this.inMessage = false;
    this.emit(record);
  }
}

/** One record as a log line: `[component @ 0x…] message`, as FFmpeg prints it without levels. */
export function formatRecord(record: LogRecord): string {
  const parent = record.parent ? `[${record.parent}] ` : '';
  return record.component ? `${parent}[${record.component} @ ${record.address}] ${record.text}` : record.text;
}

/** The last lines of a run, for error details and reports. */
export class LogTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = 40) {}

  push(record: LogRecord): void {
    if (!record.text.trim()) return;
    this.lines.push(formatRecord(record));
    if (this.lines.length > this.max) this.lines.shift();
  }

  get(): string[] {
    return this.lines.slice();
  }
}
