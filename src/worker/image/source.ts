/**
 * Bounded reads of an image input, for the header readers: they never hold more of a file than
 * the piece they look at, however large the file. A host file is read through its descriptor at
 * positions, small reads served from one 64 KiB window; shared bytes are viewed in place.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InternalError, IOError } from '../../errors.js';
import type { InputSource } from '../../model/plan.js';

/** The window small reads are served from, and the most `peek` returns. */
export const WINDOW = 64 * 1024;

/** The largest copy a reader may ask for; the metadata caps are all below it. */
const MAX_COPY = 32 * 1024 * 1024;

export interface ImageBytes {
  readonly size: number;
  /** Up to `length` (≤ WINDOW) bytes at `position`, fewer at the end; valid until the next call. */
  peek(position: number, length: number): Uint8Array;
  /** A copy of up to `length` bytes at `position` (fewer at the end), the caller's to keep. */
  copy(position: number, length: number): Uint8Array;
  close(): void;
}

export function openImageBytes(source: InputSource): ImageBytes {
  if (source.type === 'shared') return sharedBytes(new Uint8Array(source.buffer, 0, source.byteLength));
  return new FileBytes(source.path);
}

export function sharedBytes(bytes: Uint8Array): ImageBytes {
  const clip = (position: number, length: number) => bytes.subarray(Math.min(position, bytes.length), Math.min(position + length, bytes.length));
  return {
    size: bytes.length,
    peek(position, length) {
      if (length > WINDOW) throw new InternalError(`image header: a peek of ${length} bytes`);
      return clip(position, length);
    },
    copy(position, length) {
      if (length > MAX_COPY) throw new InternalError(`image header: a copy of ${length} bytes`);
      return clip(position, length).slice();
    },
    close() {},
  };
}

class FileBytes implements ImageBytes {
  readonly size: number;
  readonly #path: string;
  #fd: number | undefined;
  readonly #window = new Uint8Array(WINDOW);
  #start = 0;
  #end = 0;

  constructor(path: string) {
    this.#path = path;
    try {
      this.#fd = openSync(path, 'r');
      this.size = fstatSync(this.#fd).size;
    } catch (err) {
      this.close();
      throw new IOError(`cannot read input ${path}: ${(err as Error).message}`, {}, { cause: err });
    }
  }

  peek(position: number, length: number): Uint8Array {
    if (length > WINDOW) throw new InternalError(`image header: a peek of ${length} bytes`);
    if (position < this.#start || position + length > this.#end) {
      this.#start = position;
      this.#end = position + this.#fill(this.#window, position);
    }
    const at = position - this.#start;
    return this.#window.subarray(at, Math.min(at + length, this.#end - this.#start));
  }

  copy(position: number, length: number): Uint8Array {
    if (length > MAX_COPY) throw new InternalError(`image header: a copy of ${length} bytes`);
    const out = new Uint8Array(Math.max(0, Math.min(length, this.size - position)));
    const n = this.#fill(out, position);
    return n === out.length ? out : out.subarray(0, n);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** Reads into `target` from `position` until it is full or the file ends; returns the count. */
  #fill(target: Uint8Array, position: number): number {
    let done = 0;
    try {
      while (done < target.length && position + done < this.size) {
        const n = readSync(this.#fd!, target, done, target.length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw new IOError(`cannot read input ${this.#path}: ${(err as Error).message}`, {}, { cause: err });
    }
    return done;
  }
}

/** Helpers over `peek`: fixed-size fields, `undefined` past the end of the file. */
export function u8(src: ImageBytes, at: number): number | undefined {
  return src.peek(at, 1)[0];
}

export function u16(src: ImageBytes, at: number, le = false): number | undefined {
  const b = src.peek(at, 2);
  return b.length < 2 ? undefined : le ? b[0]! | (b[1]! << 8) : (b[0]! << 8) | b[1]!;
}

export function u32(src: ImageBytes, at: number, le = false): number | undefined {
  const b = src.peek(at, 4);
  if (b.length < 4) return undefined;
  return (le ? (b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]! : (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function latin(src: ImageBytes, at: number, n: number): string {
  return String.fromCharCode(...src.peek(at, n));
}
