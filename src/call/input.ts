/**
 * Turning what a caller hands us into something a worker can read: a host path (read through
 * descriptors, never loaded whole), bytes (copied once into shared memory that every job of the
 * call reads in place), or a stream (spooled to a private file, because demuxers need to seek).
 * Spooling happens inside the call's limits: after the queue check, counted against
 * `maxInputBytes` as bytes arrive, and stopped by the call's signal (abort or timeout), so a
 * stalled upload cannot hold a call open.
 */
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InputError, LimitError, OptionsError, SandcodecError } from '../errors.js';
import type { InputSource } from '../model/plan.js';
import { ioError } from './outputs.js';
import { stagedName } from './staging.js';

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
  /** A label for messages: the path, the name given, or `<bytes>`, `<stream>`. */
  label: string;
  /** Removes a spooled file; a no-op otherwise. */
  release(): Promise<void>;
}

export interface InputContext {
  maxInputBytes: number;
  /** Where streams are spooled. */
  spoolDir: string;
  /** Aborts the spooling; its reason (a SandcodecError) is what the call fails with. */
  signal: AbortSignal;
}

const noop = async () => {};

const SHAPES = 'a Uint8Array, a Readable, a ReadableStream, { path }, { data } or { stream }';

/** Checks the input's shape without reading anything (before the queue check and spooling). */
export function checkInputShape(input: unknown, option = 'input'): void {
  if (input instanceof Uint8Array || input instanceof Readable || isWebStream(input)) return;
  if (typeof input !== 'object' || input === null) throw new OptionsError(option, `must be ${SHAPES}`);
  if ('path' in input) {
    if (typeof input.path !== 'string' || input.path.length === 0) throw new OptionsError(`${option}.path`, 'must be a non-empty string');
    return;
  }
  if ('data' in input) {
    if (!(input.data instanceof Uint8Array)) throw new OptionsError(`${option}.data`, 'must be a Uint8Array or Buffer');
  } else if ('stream' in input) {
    if (!(input.stream instanceof Readable) && !isWebStream(input.stream)) throw new OptionsError(`${option}.stream`, 'must be a Readable or a ReadableStream');
  } else {
    throw new OptionsError(option, `must be ${SHAPES}`);
  }
  const name = (input as { name?: unknown }).name;
  if (name !== undefined && typeof name !== 'string') throw new OptionsError(`${option}.name`, 'must be a string');
}

export async function resolveInput(input: MediaInput, ctx: InputContext): Promise<ResolvedInput> {
  checkInputShape(input);
  if (input instanceof Uint8Array) return fromBytes(input, '', ctx.maxInputBytes);
  if (input instanceof Readable || isWebStream(input)) return fromStream(input, '', ctx);
  if ('path' in input) return fromPath(input.path, ctx.maxInputBytes);
  if ('data' in input) return fromBytes(input.data, input.name ?? '', ctx.maxInputBytes);
  return fromStream(input.stream, input.name ?? '', ctx);
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== 'undefined' && value instanceof ReadableStream;
}

/** A file name stem from the input's path or name (`fallback` for bytes and streams). */
export function inputStem(input: unknown, fallback: string): string {
  const named = input as { path?: unknown; name?: unknown } | null;
  const name = typeof named?.path === 'string' ? named.path : typeof named?.name === 'string' ? named.name : '';
  return basename(name, extname(name)) || fallback;
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

async function fromPath(path: string, maxInputBytes: number): Promise<ResolvedInput> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(`no such file: ${path}`, {}, { cause: err });
    throw ioError(`cannot read ${path}`, err);
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

async function fromStream(stream: Readable | ReadableStream<Uint8Array>, name: string, ctx: InputContext): Promise<ResolvedInput> {
  const { maxInputBytes, signal } = ctx;
  const label = name || '<stream>';
  const path = join(ctx.spoolDir, stagedName('spool'));
  const release = () => rm(path, { force: true }).catch(() => {});
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
  const file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  // Which side failed decides the family: the spool file is ours (E_IO), the stream the caller's.
  // (A failing stream destroys the file stream with its own error: that is not the file's.)
  let sourceError: unknown;
  let spoolError: unknown;
  readable.once('error', (err) => {
    sourceError ??= err;
  });
  file.once('error', (err) => {
    if (err !== sourceError) spoolError ??= err;
  });
  try {
    await pipeline(readable, counter, file, { signal });
    checkSize(size, maxInputBytes, label);
  } catch (err) {
    // The spool file is created when its open completes, which can be after the pipeline failed:
    // wait for the stream to close, or the removal could come first and leave the file behind.
    if (!file.closed) await new Promise<void>((closed) => file.once('close', () => closed()));
    await release();
    if (signal.aborted && signal.reason instanceof SandcodecError) throw signal.reason;
    if (err instanceof SandcodecError) throw err;
    if (spoolError !== undefined && err !== sourceError) throw ioError(`cannot write the spool file in ${ctx.spoolDir} (spoolDir)`, spoolError);
    throw new InputError(`cannot read the input stream: ${(err as Error).message}`, {}, { cause: err });
  }
  return { source: { type: 'path', path }, ext: safeExtension(name), size, label, release };
}
