/**
 * The `stream` option of the single-output calls (transcode, resize): the output as a Node
 * `Readable` (`true`) or a web `ReadableStream` (`'web'`) instead of bytes. The output is spooled
 * to a private file in the engine's spoolDir while it is made (bounded by maxOutputBytes like a
 * file output, never held in memory) and streamed from that file once the call has succeeded; the
 * file has no name left by the time the result is returned (outputs.ts, `streamFile`).
 */
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { OptionsError } from '../errors.js';
import { show } from './validate.js';

export type StreamOption = boolean | 'web';
export type StreamKind = 'node' | 'web';

/** The output stream a result carries. */
export type OutputStream = Readable | ReadableStream<Uint8Array>;

export function resolveStream(value: unknown, output: unknown): StreamKind | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && value !== 'web')
    throw new OptionsError('stream', `must be true (a Node Readable), 'web' (a web ReadableStream) or false, got ${show(value)}`);
  if (output !== undefined) throw new OptionsError('stream', 'and output cannot both be given: the output goes to a file or comes back as a stream');
  return value === 'web' ? 'web' : 'node';
}

export function asKind(stream: Readable, kind: StreamKind): OutputStream {
  return kind === 'web' ? (Readable.toWeb(stream) as ReadableStream<Uint8Array>) : stream;
}
