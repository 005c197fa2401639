/**
 * Turning what a caller hands us into something a worker can read: a host path (read through
 * descriptors, never loaded whole), bytes (copied once into shared memory that every job of the
 * call reads in place), or a stream (spooled to a private temporary file, counting bytes against
 * `maxInputBytes` as they arrive, because demuxers need to seek).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortedError, InputError, IOError, LimitError, OptionsError } from '../errors.js';
import type { InputSource } from '../model/plan.js';

/** Anything sandcodec accepts as media input. */
export type MediaInput =
  | Uint8Array
  | Readable
  | ReadableStream<Uint8Array>
  | { path: string }
  | { data: Uint8Array; name?: string }
  | { stream: Readable | ReadableStream<Uint8Array>; name?: string };

export interface ResolvedInput {
  source: InputSource;
  /** A safe lower-case extension hint for the demuxer ('' when unknown). */
  ext: string;
  size: number;
  /** A label for messages: the path, or `<bytes>`, `<stream>`. */
  label: string;
  /** Removes a spooled temporary file; a no-op otherwise. */
  release(): Promise<void>;
}

const noop = async () => {};

export async function resolveInput(input: MediaInput, maxInputBytes: number, signal?: AbortSignal): Promise<ResolvedInput> {
  if (input instanceof Uint8Array) return fromBytes(input, '', maxInputBytes);
  if (input instanceof Readable || isWebStream(input)) return fromStream(input, '', maxInputBytes, signal);
  if (typeof input !== 'object' || input === null) {
    throw new OptionsError('input', 'must be a Uint8Array, a Readable, a ReadableStream, { path }, { data } or { stream }');
  }
  if ('path' in input) return fromPath(input.path, maxInputBytes);
  if ('data' in input) {
    if (!(input.data instanceof Uint8Array)) throw new OptionsError('input.data', 'must be a Uint8Array or Buffer');
    return fromBytes(input.data, input.name ?? '', maxInputBytes);
  }
  if ('stream' in input) return fromStream(input.stream, input.name ?? '', maxInputBytes, signal);
  throw new OptionsError('input', 'must be a Uint8Array, a Readable, a ReadableStream, { path }, { data } or { stream }');
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

/** A demuxer hint only: a short alphanumeric extension, or nothing. */
export function safeExtension(name: string): string {
  const ext = extname(name).slice(1).toLowerCase();
  return /^[a-z0-9]{1,8}$/.test(ext) ? ext : '';
}

function checkSize(size: number, maxInputBytes: number, label: string): void {
  if (size === 0) throw new InputError(`the input is empty (${label}: 0 bytes)`);
  if (size > maxInputBytes) {
    throw new LimitError('maxInputBytes', `the input is larger than maxInputBytes (${size} > ${maxInputBytes} bytes)`, {
      max: maxInputBytes,
      actual: size,
    });
  }
}

async function fromPath(path: unknown, maxInputBytes: number): Promise<ResolvedInput> {
  if (typeof path !== 'string' || path.length === 0) throw new OptionsError('input.path', 'must be a non-empty string');
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`no such file: ${path}`, {}, { cause: err });
    throw new IOError(`cannot read ${path}: ${(err as Error).message}`, {}, { cause: err });
  }
  if (!info.isFile()) throw new InputError(`not a regular file: ${path}`);
  checkSize(info.size, maxInputBytes, path);
  return { source: { type: 'path', path }, ext: safeExtension(path), size: info.size, label: path, release: noop };
}

function fromBytes(bytes: Uint8Array, name: string, maxInputBytes: number): ResolvedInput {
  checkSize(bytes.byteLength, maxInputBytes, '<bytes>');
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return {
    source: { type: 'shared', buffer, byteLength: bytes.byteLength },
    ext: safeExtension(name),
    size: bytes.byteLength,
    label: name || '<bytes>',
    release: noop,
  };
}

async function fromStream(stream: Readable | ReadableStream<Uint8Array>, name: string, maxInputBytes: number, signal?: AbortSignal): Promise<ResolvedInput> {
  const dir = await mkdtemp(join(tmpdir(), 'sandcodec-in-'));
  const path = join(dir, 'input');
  const release = () => rm(dir, { recursive: true, force: true });
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.byteLength;
      if (size > maxInputBytes) {
        done(new LimitError('maxInputBytes', `the input stream is larger than maxInputBytes (${maxInputBytes} bytes)`, { max: maxInputBytes }));
        return;
      }
      done(null, chunk);
    },
  });
  const readable = stream instanceof Readable ? stream : Readable.fromWeb(stream as import('node:stream/web').ReadableStream<Uint8Array>);
  try {
    await pipeline(readable, counter, createWriteStream(path), signal ? { signal } : {});
    checkSize(size, maxInputBytes, name || '<stream>');
  } catch (err) {
    await release();
    if (err instanceof LimitError || err instanceof InputError) throw err;
    if (signal?.aborted) throw new AbortedError('the job was aborted while its input was read');
    throw new InputError(`cannot read the input stream: ${(err as Error).message}`, {}, { cause: err });
  }
  return { source: { type: 'path', path }, ext: safeExtension(name), size, label: name || '<stream>', release };
}
