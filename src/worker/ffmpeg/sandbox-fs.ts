/**
 * The sandbox boundary: the only files a job's FFmpeg can open are the nodes made here, in a
 * fresh `/job` directory of the core's in-memory FS. Each node's reads and writes go to one host
 * file descriptor or one JS buffer that the caller chose — no NODEFS, no host paths — and file
 * contents never live in the wasm heap, so a 1 GB input keeps the heap at its base size.
 *
 * Host failures (a full disk, a permission-model denial, a descriptor limit) reach FFmpeg as a
 * plain EIO, and are kept here with the host's own error and path so the job fails with E_IO
 * rather than with whatever FFmpeg makes of an unwritable file.
 */
/// <reference path="../../types/resizable-array-buffer.d.ts" />
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { IOError, LimitError, type LimitName, SandcodecError } from '../../errors.js';
import { type InputPiece, JOB_DIR, jobPath } from '../../model/plan.js';
import type { EmscriptenFS, EmscriptenNode, EmscriptenStream } from './core.js';

const S_IFREG_RW = 0o100666;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
// Emscripten (WASI-numbered) errno values.
const EINVAL = 28;
const EIO = 29;
const EFBIG = 22;
const EBADF = 8;

/** A readable source of bytes at arbitrary offsets. */
export interface ByteSource {
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

/** A bound on the bytes some outputs of a job may hold together, checked before each write grows them. */
export class OutputBudget {
  used = 0;
  exceeded = false;
  constructor(
    readonly max: number,
    readonly limit?: LimitName,
  ) {}
}

/** A host error met while the job ran, with the file it concerned. */
interface HostFailure {
  error: unknown;
  path: string;
  action: 'read' | 'write';
}

function ioError(action: string, path: string, err: unknown): IOError {
  const code = (err as NodeJS.ErrnoException)?.code;
  return new IOError(`cannot ${action} ${path}: ${(err as Error)?.message ?? String(err)}`, { path, ...(code ? { code } : {}) }, { cause: err });
}

export function hostFileSource(path: string): ByteSource {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const open = fd;
    return {
      size,
      read: (target, position) => readSync(open, target, 0, target.byteLength, position),
      close: () => closeSync(open),
    };
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // The open already failed; its error is the one to report.
      }
    }
    throw ioError('open input', path, err);
  }
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

/**
 * A host file written through a descriptor opened on the first write, not when the node is made:
 * a job may name many outputs (thumbnails) and fill only some, and holds one descriptor per file
 * it actually writes. An output never written never exists on the host.
 */
export function hostFileSink(path: string): ByteSink {
  let fd: number | undefined;
  const open = (): number => {
    if (fd !== undefined) return fd;
    try {
      fd = openSync(path, 'w+', 0o644);
    } catch (err) {
      throw ioError('create output', path, err);
    }
    return fd;
  };
  const sink: ByteSink = {
    written: 0,
    write(data, position) {
      const n = writeSync(open(), data, 0, data.byteLength, position);
      sink.written = Math.max(sink.written, position + n);
      return n;
    },
    read: (target, position) => (fd === undefined ? 0 : readSync(fd, target, 0, target.byteLength, position)),
    truncate() {
      // Not opened yet, or still empty: FFmpeg's O_TRUNC on a fresh output needs no call to the host.
      if (fd !== undefined && sink.written > 0) ftruncateSync(fd, 0);
      sink.written = 0;
    },
    close() {
      const open = fd;
      fd = undefined;
      if (open !== undefined) closeSync(open);
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

/** The largest ArrayBuffer V8 makes; a bytes output cannot grow past it whatever the budget. */
const MAX_BUFFER = 2 ** 32;
const INITIAL_BYTES = 64 * 1024;

/**
 * An in-memory sink, for outputs the caller wants back as bytes. It grows in place (a resizable
 * ArrayBuffer: no copy, no doubling) and never past `maxBytes`, the job's `maxReturnedBytes`:
 * the budget refuses a write before the buffer grows, so memory follows what was written.
 */
export class BufferSink implements ByteSink {
  written = 0;
  /** The growable buffer; none when writing into a fixed one (`into`). */
  private readonly buffer: ArrayBuffer | undefined;
  private view: Uint8Array;

  /**
   * `into`: a buffer to fill in place (a decoded picture goes straight to where it is used); the
   * sink never grows past it.
   */
  constructor(maxBytes: number, into?: Uint8Array) {
    if (into) {
      this.buffer = undefined;
      this.view = into;
      return;
    }
    const max = Math.max(1, Math.min(maxBytes, MAX_BUFFER));
    this.buffer = new ArrayBuffer(Math.min(INITIAL_BYTES, max), { maxByteLength: max });
    this.view = new Uint8Array(this.buffer);
  }

  write(data: Uint8Array, position: number): number {
    const end = position + data.byteLength;
    if (end > this.view.byteLength) {
      const buffer = this.buffer;
      if (!buffer || end > buffer.maxByteLength) {
        // Only a fixed buffer, or a maxReturnedBytes above what one buffer can hold, gets here.
        const max = buffer?.maxByteLength ?? this.view.byteLength;
        throw new LimitError(buffer ? 'maxReturnedBytes' : 'maxOutputBytes', `an output returned as bytes cannot grow past ${max} bytes`, { max });
      }
      // Some headroom keeps the number of resizes logarithmic; pages are committed as touched.
      buffer.resize(Math.min(buffer.maxByteLength, Math.max(end, Math.ceil(buffer.byteLength * 1.5))));
      this.view = new Uint8Array(buffer);
    }
    this.view.set(data, position);
    this.written = Math.max(this.written, end);
    return data.byteLength;
  }

  read(target: Uint8Array, position: number): number {
    const n = Math.max(0, Math.min(target.byteLength, this.written - position));
    target.set(this.view.subarray(position, position + n));
    return n;
  }

  truncate(): void {
    this.written = 0;
  }

  close(): void {}

  /** The output, in the sink's own buffer shrunk to size: handed over, not copied. */
  bytes(): Uint8Array {
    if (!this.buffer) return this.view.subarray(0, this.written);
    this.buffer.resize(this.written);
    this.view = new Uint8Array(this.buffer);
    return this.view;
  }
}

/** Builds and tears down the `/job` directory of one core for one job. */
export class JobFS {
  private readonly closers: Array<{ close: () => void; path: string; output: boolean }> = [];
  private readonly nodes = new Set<EmscriptenNode>();
  /** The first host failure of the run, if any; the job then fails with E_IO. */
  private hostFailure: HostFailure | undefined;

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
    return jobPath(name);
  }

  /**
   * What made a node fail during the run: a host error as E_IO naming its file, or a sink's own
   * typed error (a measuring sink refusing data) as it was; undefined if nothing failed.
   */
  failure(): SandcodecError | undefined {
    const f = this.hostFailure;
    if (!f) return undefined;
    return f.error instanceof SandcodecError ? f.error : ioError(f.action, f.path, f.error);
  }

  /** `hostPath` names the file in errors (the job path for bytes). */
  addInput(name: string, source: ByteSource, hostPath = this.path(name)): string {
    const path = this.path(name);
    const node = this.fs.mknod(path, S_IFREG_RW, 0);
    this.nodes.add(node);
    node.usedBytes = source.size;
    const fs = this.fs;
    this.closers.push({ close: () => source.close(), path: hostPath, output: false });
    node.node_ops = {
      ...node.node_ops,
      setattr: () => {
        throw new fs.ErrnoError(EBADF);
      },
    };
    node.stream_ops = {
      llseek: (stream: EmscriptenStream, offset: number, whence: number) => seek(fs, stream, offset, whence, source.size),
      read: this.readOp(
        () => source.size,
        (view, position) => source.read(view, position),
        hostPath,
      ),
      write: () => {
        throw new fs.ErrnoError(EBADF);
      },
    };
    return path;
  }

  /** An output node whose growth every one of `budgets` must allow. */
  addOutput(name: string, sink: ByteSink, budgets: OutputBudget[], hostPath = this.path(name)): string {
    const path = this.path(name);
    const node = this.fs.mknod(path, S_IFREG_RW, 0);
    this.nodes.add(node);
    const fs = this.fs;
    this.closers.push({ close: () => sink.close(), path: hostPath, output: true });
    node.node_ops = {
      ...node.node_ops,
      setattr: (_node: EmscriptenNode, attr: { size?: number }) => {
        if (attr.size === 0) {
          for (const budget of budgets) budget.used -= sink.written;
          try {
            sink.truncate();
          } catch (err) {
            this.hostFailure ??= { error: err, path: hostPath, action: 'write' };
            throw new fs.ErrnoError(EIO);
          }
          node.usedBytes = 0;
        }
      },
    };
    node.stream_ops = {
      llseek: (stream: EmscriptenStream, offset: number, whence: number) => seek(fs, stream, offset, whence, sink.written),
      read: this.readOp(
        () => sink.written,
        (view, position) => sink.read(view, position),
        hostPath,
      ),
      write: (_stream: EmscriptenStream, heap: Int8Array, offset: number, length: number, position: number) => {
        const grows = Math.max(0, position + length - sink.written);
        for (const budget of budgets) {
          if (budget.used + grows > budget.max) {
            budget.exceeded = true;
            throw new fs.ErrnoError(EFBIG);
          }
        }
        const view = new Uint8Array(heap.buffer, heap.byteOffset + offset, length);
        let n: number;
        try {
          n = sink.write(view, position);
        } catch (err) {
          this.hostFailure ??= { error: err, path: hostPath, action: 'write' };
          throw new fs.ErrnoError(EIO);
        }
        for (const budget of budgets) budget.used += grows;
        node.usedBytes = sink.written;
        return n;
      },
    };
    return path;
  }

  /**
   * Closes every output descriptor now, so that a failing close (data the host could not flush)
   * fails the job with E_IO instead of passing unnoticed in `dispose`.
   */
  closeOutputs(): void {
    for (const entry of this.closers) {
      if (!entry.output) continue;
      const { close, path } = entry;
      entry.close = () => {};
      try {
        close();
      } catch (err) {
        throw ioError('close', path, err);
      }
    }
  }

  /** Closes every descriptor and removes the job directory. Safe to call twice. */
  dispose(): void {
    // FFmpeg leaves its files open when it exits early (ffprobe's exit() skips all cleanup):
    // close their streams so the core's descriptor table does not fill over many jobs.
    for (const stream of this.fs.streams) {
      if (stream && this.nodes.has(stream.node)) {
        try {
          this.fs.close(stream);
        } catch {
          // The stream is gone either way.
        }
      }
    }
    this.nodes.clear();
    for (const { close } of this.closers.splice(0)) {
      try {
        close();
      } catch {
        // A descriptor that fails to close has nothing left to flush; keep cleaning up.
      }
    }
    JobFS.clear(this.fs);
  }

  /** A node's `read`: up to `length` bytes at `position` into the wasm heap, host errors kept and passed on as EIO. */
  private readOp(size: () => number, read: (view: Uint8Array, position: number) => number, hostPath: string) {
    const fs = this.fs;
    return (_stream: EmscriptenStream, heap: Int8Array, offset: number, length: number, position: number): number => {
      const end = size();
      if (position >= end) return 0;
      const view = new Uint8Array(heap.buffer, heap.byteOffset + offset, Math.min(length, end - position));
      try {
        return read(view, position);
      } catch (err) {
        this.hostFailure ??= { error: err, path: hostPath, action: 'read' };
        throw new fs.ErrnoError(EIO);
      }
    };
  }
}

function seek(fs: EmscriptenFS, stream: EmscriptenStream, offset: number, whence: number, size: number): number {
  let position: number;
  if (whence === SEEK_SET) position = offset;
  else if (whence === SEEK_CUR) position = stream.position + offset;
  else if (whence === SEEK_END) position = size + offset;
  else throw new fs.ErrnoError(EINVAL);
  if (position < 0) throw new fs.ErrnoError(EINVAL);
  return position;
}
