/**
 * What a job needs of an FFmpeg core, whichever build it is (the interface both implement), and
 * the parts of Emscripten's runtime both builds share: its FS, how FFmpeg's exit and traps reach JS.
 */
/// <reference path="../../types/webassembly.d.ts" />
import { FFmpegError, InternalError, type SandcodecError } from '../../errors.js';
import type { CoreLocation } from '../../model/protocol.js';
import type { YccLayout } from '../kernels/ycc-common.js';
import type { LogRecord } from './log.js';

export interface EmscriptenFS {
  mkdir(path: string): unknown;
  rmdir(path: string): void;
  unlink(path: string): void;
  readdir(path: string): string[];
  stat(path: string): { size: number; mode: number };
  isDir(mode: number): boolean;
  readFile(path: string, opts?: { encoding?: 'utf8' | 'binary' }): Uint8Array | string;
  writeFile(path: string, data: Uint8Array | string): void;
  mknod(path: string, mode: number, dev: number): EmscriptenNode;
  lookupPath(path: string): { node: EmscriptenNode };
  analyzePath(path: string): { exists: boolean };
  chdir(path: string): void;
  /** Open streams by descriptor (holes where closed). */
  streams: Array<EmscriptenStream | null | undefined>;
  getStream(fd: number): EmscriptenStream | null | undefined;
  close(stream: EmscriptenStream): void;
  ErrnoError: new (errno: number) => Error;
}

export interface EmscriptenNode {
  node_ops: Record<string, unknown>;
  stream_ops: Record<string, unknown>;
  usedBytes?: number;
  mode: number;
  [key: string]: unknown;
}

export interface EmscriptenStream {
  node: EmscriptenNode;
  position: number;
  fd: number | null;
  stream_ops: Record<string, unknown>;
}

export interface CoreOptions {
  /** Shared flag: a non-zero value makes the transcode loop stop at its next turn. */
  cancelFlag: Int32Array;
  /** Heap budget in bytes; growth past it is refused. Mutable per job via `setHeapBudget`. */
  heapBudget: number;
  /** Which core the module was compiled from (default: the engine's default core). */
  core?: CoreLocation;
}

export type RecordSink = (record: LogRecord) => void;

/** How a run of the ffmpeg or ffprobe main ended. */
export interface CoreExit {
  /** FFmpeg's exit status; -1 when it aborted (an internal assertion) before setting one. */
  code: number;
  /** It left through `exit()`, skipping its cleanup: ffprobe does so when it cannot open a decoder. */
  exited: boolean;
}

export interface DemuxerInfo {
  /** As FFmpeg names it, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  name: string;
  longName: string;
}

/** One FFmpeg core on one thread: runs ffmpeg and ffprobe for a job over a sandboxed FS. */
export interface FFmpegCore {
  /** The compiled module this core runs: what the build's fixed facts (its demuxers) are cached by. */
  readonly module: WebAssembly.Module;
  /** The files of the core. */
  readonly files: CoreLocation;
  /** Set when growth was refused during the current call. */
  readonly heapRefused: boolean;
  /** Why this core can no longer be trusted (FFmpeg trapped or aborted mid-run); undefined while sound. */
  readonly broken: string | undefined;
  /** The FS of the current run: a job mounts its files here before `exec` or `ffprobe` and reads them after. */
  readonly FS: EmscriptenFS;
  /** Bytes of wasm memory the core holds now. */
  readonly heapBytes: number;
  /**
   * Starts a run: its heap budget. A core that runs one program per instance (built-core.ts)
   * takes a fresh instance here when the last one has run, so a job mounts its files after this.
   */
  setHeapBudget(bytes: number): void;
  /** Threads the next run may use: what FFmpeg's `auto` thread counts mean on a multithreaded core (others run one). */
  setThreads(count: number): void;
  setCancelFlag(flag: Int32Array): void;
  /**
   * A time (performance.now() ms) past which the core's own cancel poll raises the timeout reason
   * in the cancel flag; undefined for none. For jobs run on the thread that would otherwise set
   * the flag (an engine with `workers: 0`): no timer fires there while FFmpeg runs.
   */
  setDeadline(at: number | undefined): void;
  /** Receives every log record FFmpeg prints from now on (one sink at a time). */
  setRecordSink(sink: RecordSink): void;
  /** FFmpeg's decode totals: a run's own counts are the difference across it. */
  decodeTotals(): { decoded: number; errors: number };
  /**
   * Runs the ffmpeg CLI main (`-nostdin -y` come first). A single-thread core runs it to the end
   * before it returns; a multithreaded one runs it on a thread of its own while this thread serves
   * its file I/O, so the run is a promise either way.
   */
  exec(args: string[]): Promise<CoreExit>;
  /** Runs ffprobe. Its exit status is not reported (only `exited`): read its output file. */
  ffprobe(args: string[]): Promise<CoreExit>;
  /** The demuxers this build has, by FFmpeg name (e.g. `mov,mp4,m4a,3gp,3g2,mj2`). */
  listDemuxers(): Promise<DemuxerInfo[]>;
  /**
   * Decodes a WebP still with libwebp, straight to RGBA8 (not premultiplied) in `out` (width ×
   * height × 4 bytes), as a run of its own within the budget of `setHeapBudget`: 0, or libwebp's
   * status (`WEBP_STATUS`). Undefined when the core has no such entry (`webpDecoder` is false).
   */
  decodeWebp(data: Uint8Array, width: number, height: number, out: Uint8Array): number | undefined;
  /** The core has libwebp's decoder for `decodeWebp` (the single-thread cores built here). */
  readonly webpDecoder: boolean;
  /**
   * Decodes an 8-bit YCbCr or grayscale JPEG with libjpeg-turbo at 1/`denom` (1, 2, 4, 8) into
   * `out` (strip by strip, as the rows are decoded: `out` may be a view of another module's
   * memory), its planes packed in `planes.planeLayout` as FFmpeg's `yuvj4xxp`/`gray`
   * (kernels/ycc-common.ts; see jpegPlaneLayout), as a run of its own within the budget of
   * `setHeapBudget`. `width`, `height` and `layout` are the header's; a file that is something
   * else is not decoded (`JPEG_STATUS`). The run polls the cancel flag. Undefined when the core has
   * no such entry (`jpegDecoder` is false).
   */
  decodeJpeg(data: Uint8Array, denom: number, planes: JpegPlanes, out: Uint8Array): number | undefined;
  /** The core has libjpeg-turbo's decoder for `decodeJpeg` (the single-thread cores built here). */
  readonly jpegDecoder: boolean;
  /** The job is over: memory only that job needed can go. */
  endJob(): void;
}

export const NO_RECORDS: RecordSink = () => {};

/** Emscripten's `exit()` throws an ExitStatus, a plain object rather than an Error. */
export function exitStatus(thrown: unknown): number | undefined {
  if (typeof thrown !== 'object' || thrown === null) return undefined;
  const { name, status } = thrown as { name?: unknown; status?: unknown };
  return name === 'ExitStatus' && typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  if (typeof thrown === 'object' && thrown !== null) {
    try {
      return `a non-error value ${JSON.stringify(thrown).slice(0, 200)}`;
    } catch {
      return 'a non-error object';
    }
  }
  return `a non-error value ${String(thrown).slice(0, 200)}`;
}

/**
 * What a throw out of FFmpeg means. A wasm trap (memory access out of bounds, unreachable, a
 * stack overflow) is FFmpeg crashing inside its sandbox: not the input's fault to call, and the
 * instance's memory is no longer trustworthy. Anything else is a bug on our side of the glue.
 */
export function thrownFailure(thrown: unknown): { error: SandcodecError; broken: string } {
  const what = describeThrown(thrown);
  const trap = thrown instanceof WebAssembly.RuntimeError || (thrown instanceof RangeError && /call stack/i.test(thrown.message));
  return {
    broken: `FFmpeg ${thrown instanceof WebAssembly.RuntimeError ? 'crashed' : 'failed'}: ${what}`,
    error: trap
      ? new FFmpegError(`FFmpeg crashed inside its sandbox: ${what}`, { crash: what })
      : new InternalError(`the FFmpeg core threw ${what}`, {}, { cause: thrown }),
  };
}

/**
 * FFmpeg prints each log message as separate stderr writes (prefixes, level, message); taking them
 * from the FS's stderr stream, one write at a time, is what lets the log parser (log.ts) trust a
 * record's structure.
 */
export function captureStderr(fs: EmscriptenFS, write: (bytes: Uint8Array) => void): void {
  const stderr = fs.getStream(2);
  if (!stderr || typeof stderr.stream_ops.write !== 'function') throw new InternalError('FFmpeg core: stderr stream not found');
  stderr.stream_ops = {
    ...stderr.stream_ops,
    write: (_stream: EmscriptenStream, buffer: Int8Array, offset: number, length: number) => {
      // A multithreaded core's memory is shared, which TextDecoder does not read: copy it out.
      const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length);
      write(buffer.buffer instanceof SharedArrayBuffer ? bytes.slice() : bytes);
      return length;
    },
  };
}

/** Parses the lines of `ffmpeg -demuxers` into demuxers. */
export function demuxerLine(line: string): DemuxerInfo | undefined {
  const m = /^\s*D[E ]?[d ]?\s+(\S+)\s+(.*)$/.exec(line);
  return m && m[1] !== '=' ? { name: m[1]!, longName: m[2]!.trim() } : undefined;
}

/** `ffmpeg -demuxers`, quietly. */
export const LIST_DEMUXERS_ARGS = ['-hide_banner', '-loglevel', 'level+warning', '-demuxers'];

/** The codes of `decodeJpeg` (wasm-build/glue/jpeg-decode.c). */
export const JPEG_STATUS = Object.freeze({
  ok: 0,
  /** libjpeg stopped with an error. */
  error: 1,
  /** libjpeg met damaged data (which it would have decoded around). */
  warning: 2,
  outOfMemory: 3,
  /** The file is not the size, sampling or kind the header stated: not decoded. */
  notAsStated: 4,
  cancelled: 5,
});

export interface JpegPlanes {
  width: number;
  height: number;
  /** The file's sampling, as its header states it. */
  layout: YccLayout;
  /** The sampling of the decoded planes. */
  planeLayout: YccLayout;
}

/** `decodeJpeg`'s layout codes (glue/jpeg-decode.c). */
export const JPEG_LAYOUT: Readonly<Record<YccLayout, number>> = Object.freeze({ gray: 0, '444': 1, '422': 2, '420': 3 });

/** What `decodeWebp`'s codes mean (libwebp's VP8StatusCode, then wasm-build/glue/webp-decode.c's). */
export const WEBP_STATUS: Readonly<Record<number, string>> = Object.freeze({
  1: 'out of memory',
  2: 'invalid parameter',
  3: 'damaged bitstream',
  4: 'unsupported feature',
  5: 'suspended',
  6: 'user abort',
  7: 'not enough data',
  100: 'decoder setup failed',
  101: 'the bitstream is not the size its header states',
  102: 'an animation',
});
