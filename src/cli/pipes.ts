/**
 * `-` as a command's input (stdin) or output (stdout), as ffmpeg and most Unix tools take it. A
 * piped input is spooled by the engine like any stream (counted against --max-input-bytes as it
 * arrives); a piped output is written once the call has succeeded, so a failed command writes
 * nothing to stdout, and while stdout carries media every report goes to stderr.
 */
import type { MediaInput } from '../call/input.js';
import { IOError, OptionsError } from '../errors.js';

export const STDIO = '-';

/** The input a command's IN names: stdin for `-`, else the file. */
export function inputFrom(arg: string, flag = 'IN'): MediaInput {
  if (arg !== STDIO) return { path: arg };
  if (process.stdin.isTTY) throw new OptionsError(flag, 'is - (stdin), but stdin is a terminal: pipe the media in (sandcodec … - < file)');
  return { stream: process.stdin, name: 'stdin' };
}

/** How a report names the input. */
export function inputLabel(arg: string): string {
  return arg === STDIO ? 'stdin' : arg;
}

export function toStdout(output: unknown): boolean {
  return output === STDIO;
}

/** Writes the whole output to stdout, resolving when the pipe has taken it (backpressure included). */
export function writeStdout(data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => (err ? reject(new IOError(`writing to stdout failed: ${err.message}`, {}, { cause: err })) : resolve()));
  });
}
