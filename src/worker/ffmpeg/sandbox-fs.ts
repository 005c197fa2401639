/**
 * The sandbox boundary: the only files a job's FFmpeg can open are the nodes made here, in a
 * fresh `/job` directory of the core's in-memory FS. Each node's reads and writes go to one host
 * file descriptor or one JS buffer that the caller chose — no NODEFS, no host paths — and file
 * contents never live in the wasm heap, so a 1 GB input keeps the heap at its base size.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { IOError } from '../../errors.js';
import type { InputPiece } from '../../model/plan.js';
import type { EmscriptenFS, EmscriptenNode } from './core.js';

export const JOB_DIR = '/job';

const S_IFREG_RW = 0o100666;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
// Emscripten (WASI-numbered) errno values.
const EINVAL = 28;
const EIO = 29;
const EFBIG = 22;
const EBADF = 8;

interface Stream {
  node: EmscriptenNode;
  position: number;
}

/** A readable source of bytes at arbitrary offsets. */
interface ByteSource {
  size: number;
  read(target: Uint8Array, position: number): number;
  close(): void;
}

/** A writable sink; `written` is the high-water mark of the file. */
export interface ByteSink {
  written: number;
  write(data: Uint8Array, position: number): number;
  /** Muxers read back what they wrote (MP4 faststart moves the index to the front). */
  read(target: Uint8Array, position: number): number;
  truncate(): void;
  close(): void;
}

export class OutputBudget {
  used = 0;
  exceeded = false;
  constructor(readonly max: number) {}
}

export function hostFileSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new IOError(`cannot open input ${path}: ${(err as Error).message}`, {}, { cause: err });
  }
  const size = fstatSync(fd).size;
  return {
    size,
    read: (target, position) => readSync(fd, target, 0, target.byteLength, position),
    close: () => closeSync(fd),
  };
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read(target, position) {
      const n = Math.max(0, Math.min(target.byteLength, bytes.byteLength - position));
      target.set(bytes.subarray(position, position + n));
      return n;
    },
    close() {},
  };
}

export function hostFileSink(path: string): ByteSink {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w+', 0o644);
  } catch (err) {
    throw new IOError(`cannot create output ${path}: ${(err as Error).message}`, {}, { cause: err });
  }
  const sink: ByteSink = {
    written: 0,
    write(data, position) {
      const n = writeSync(fd!, data, 0, data.byteLength, position);
      sink.written = Math.max(sink.written, position + n);
      return n;
    },
    read: (target, position) => readSync(fd!, target, 0, target.byteLength, position),
    truncate() {
      ftruncateSync(fd!, 0);
      sink.written = 0;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
  return sink;
}

/**
 * The file made of `pieces` of `inner` (byte ranges) and literal bytes, in order: reads map onto
 * the pieces, nothing is copied up front.
 */
export function viewSource(inner: ByteSource, pieces: readonly InputPiece[]): ByteSource {
  const starts: number[] = [];
  let size = 0;
  for (const p of pieces) {
    starts.push(size);
    size += 'bytes' in p ? p.bytes.byteLength : Math.max(0, Math.min(p.to, inner.size) - p.from);
  }
  return {
    size,
    read(target, position) {
      let done = 0;
      // The last piece starting at or before `position`.
      let i = starts.findLastIndex((s) => s <= position);
      while (i >= 0 && i < pieces.length && done < target.byteLength) {
        const p = pieces[i]!;
        const offset = position + done - starts[i]!;
        const rest = target.subarray(done);
        let n: number;
        if ('bytes' in p) {
          n = Math.max(0, Math.min(rest.byteLength, p.bytes.byteLength - offset));
          rest.set(p.bytes.subarray(offset, offset + n));
        } else {
          const end = Math.min(p.to, inner.size);
          const want = Math.max(0, Math.min(rest.byteLength, end - p.from - offset));
          n = want > 0 ? inner.read(rest.subarray(0, want), p.from + offset) : 0;
          if (n < want) return done + n;
        }
        done += n;
        i++;
      }
      return done;
    },
    close: () => inner.close(),
  };
}

/**
 * A growable in-memory sink, for outputs the caller wants back as bytes. Given a buffer to fill
 * (`into`), it writes there and never grows: a write past its end fails.
 */
export class BufferSink implements ByteSink {
  written = 0;
  private buf: Uint8Array;
  private readonly fixed: boolean;

  constructor(into?: Uint8Array) {
    this.buf = into ?? new Uint8Array(64 * 1024);
    this.fixed = into !== undefined;
  }

  write(data: Uint8Array, position: number): number {
    const end = position + data.byteLength;
    if (end > this.buf.byteLength && this.fixed) throw new RangeError(`the output is bounded at ${this.buf.byteLength} bytes`);
    if (end > this.buf.byteLength) {
      const grown = new Uint8Array(Math.max(end, this.buf.byteLength * 2));
      grown.set(this.buf.subarray(0, this.written));
      this.buf = grown;
    }
    this.buf.set(data, position);
    this.written = Math.max(this.written, end);
    return data.byteLength;
  }

  read(target: Uint8Array, position: number): number {
    const n = Math.max(0, Math.min(target.byteLength, this.written - position));
    target.set(this.buf.subarray(position, position + n));
    return n;
  }

  truncate(): void {
    this.written = 0;
  }

  close(): void {}

  bytes(): Uint8Array {
    if (this.fixed) return this.buf.subarray(0, this.written);
    return this.buf.slice(0, this.written);
  }
}

/** Builds and tears down the `/job` directory of one core for one job. */
export class JobFS {
  private readonly closers: Array<() => void> = [];

  constructor(private readonly fs: EmscriptenFS) {
    JobFS.clear(fs);
    fs.mkdir(JOB_DIR);
  }

  /** Removes whatever a previous job (or FFmpeg on its own) left in `/job`. */
  static clear(fs: EmscriptenFS): void {
    if (!fs.analyzePath(JOB_DIR).exists) return;
    const walk = (dir: string): void => {
      for (const name of fs.readdir(dir)) {
        if (name === '.' || name === '..') continue;
        const path = `${dir}/${name}`;
        if (fs.isDir(fs.stat(path).mode)) {
          walk(path);
          fs.rmdir(path);
        } else {
          fs.unlink(path);
        }
      }
    };
    walk(JOB_DIR);
    fs.rmdir(JOB_DIR);
  }

  path(name: string): string {
    return `${JOB_DIR}/${name}`;
  }

  addInput(name: string, source: ByteSource): string {
    const path = this.path(name);
    const node = this.fs.mknod(path, S_IFREG_RW, 0);
    node.usedBytes = source.size;
    const fs = this.fs;
    this.closers.push(() => source.close());
    node.node_ops = {
      ...node.node_ops,
      setattr: () => {
        throw new fs.ErrnoError(EBADF);
      },
    };
    node.stream_ops = {
      llseek: (stream: Stream, offset: number, whence: number) => seek(fs, stream, offset, whence, source.size),
      read: readOp(
        fs,
        () => source.size,
        (view, position) => source.read(view, position),
      ),
      write: () => {
        throw new fs.ErrnoError(EBADF);
      },
    };
    return path;
  }

  addOutput(name: string, sink: ByteSink, budget: OutputBudget): string {
    const path = this.path(name);
    const node = this.fs.mknod(path, S_IFREG_RW, 0);
    const fs = this.fs;
    this.closers.push(() => sink.close());
    node.node_ops = {
      ...node.node_ops,
      setattr: (_node: EmscriptenNode, attr: { size?: number }) => {
        if (attr.size === 0) {
          budget.used -= sink.written;
          sink.truncate();
          node.usedBytes = 0;
        }
      },
    };
    node.stream_ops = {
      llseek: (stream: Stream, offset: number, whence: number) => seek(fs, stream, offset, whence, sink.written),
      read: readOp(
        fs,
        () => sink.written,
        (view, position) => sink.read(view, position),
      ),
      write: (_stream: Stream, heap: Int8Array, offset: number, length: number, position: number) => {
        const grows = Math.max(0, position + length - sink.written);
        if (budget.used + grows > budget.max) {
          budget.exceeded = true;
          throw new fs.ErrnoError(EFBIG);
        }
        const view = new Uint8Array(heap.buffer, heap.byteOffset + offset, length);
        let n: number;
        try {
          n = sink.write(view, position);
        } catch {
          throw new fs.ErrnoError(EIO);
        }
        budget.used += grows;
        node.usedBytes = sink.written;
        return n;
      },
    };
    return path;
  }

  /** Closes every descriptor and removes the job directory. Safe to call twice. */
  dispose(): void {
    for (const close of this.closers.splice(0)) {
      try {
        close();
      } catch {
        // A descriptor that fails to close has nothing left to flush; keep cleaning up.
      }
    }
    JobFS.clear(this.fs);
  }
}

/** A node's `read`: up to `length` bytes at `position` into the wasm heap, host errors as EIO. */
function readOp(fs: EmscriptenFS, size: () => number, read: (view: Uint8Array, position: number) => number) {
  return (_stream: Stream, heap: Int8Array, offset: number, length: number, position: number): number => {
    const end = size();
    if (position >= end) return 0;
    const view = new Uint8Array(heap.buffer, heap.byteOffset + offset, Math.min(length, end - position));
    try {
      return read(view, position);
    } catch {
      throw new fs.ErrnoError(EIO);
    }
  };
}

function seek(fs: EmscriptenFS, stream: Stream, offset: number, whence: number, size: number): number {
  let position: number;
  if (whence === SEEK_SET) position = offset;
  else if (whence === SEEK_CUR) position = stream.position + offset;
  else if (whence === SEEK_END) position = size + offset;
  else throw new fs.ErrnoError(EINVAL);
  if (position < 0) throw new fs.ErrnoError(EINVAL);
  return position;
}
