/**
 * Loading and instantiating @ffmpeg/core 0.12.10 in Node (see DESIGN.md for the measured facts).
 *
 * The core is an Emscripten build for `ENVIRONMENT=worker`: it needs `self` and `self.location`
 * and must be handed its wasm (it would otherwise try to fetch it). The 32 MB module is compiled
 * once per process and shared with workers; each worker instantiates it. Three patches make one
 * instance safe to reuse for many jobs:
 *  - the wasm stack pointer is saved and restored around every call, because FFmpeg's exit is a
 *    thrown exception that skips the epilogues (crash 1: OOB after many runs);
 *  - every call runs on an 8 MiB stack carved once from the heap, because libopus at 48 kHz
 *    overflows the default 64 KiB (crash 2); its top is 16-byte aligned, as the code requires
 *    (`callStackTop`);
 *  - `emscripten_resize_heap` refuses growth past the job's budget, so a hungry job fails with a
 *    malloc error instead of taking the process to 2 GiB.
 * Cancellation: the core polls `Module.timeout` once per transcode-loop turn; it is redefined as
 * a getter over a shared Int32Array so another thread can stop a running job.
 */
import { createRequire } from 'node:module';
import { InternalError } from '../../errors.js';
import { coreScriptPath } from '../../util/core-files.js';

const require = createRequire(import.meta.url);

/** The minified names of the 0.12.10 build; the self-test below fails loudly if they drift. */
const EXPORT_STACK_SAVE = 'Da';
const EXPORT_STACK_RESTORE = 'Ea';
const IMPORT_RESIZE_HEAP = 'N';
const IMPORT_SOCKET = 'v';
const IMPORT_CONNECT = 'J';
const IMPORT_GETADDRINFO = 'k';

const CALL_STACK_BYTES = 8 * 1024 * 1024;
/**
 * The wasm32 C ABI keeps the stack pointer 16-byte aligned (clang's wasm32 data layout says
 * `S128`; Emscripten's own stackAlloc rounds to 16) and this build's code depends on it: it
 * trusts a frame's low four bits to be zero, e.g. forming addresses of locals as `frame | offset`.
 * `_malloc` promises only 8, and a stack top at 8 mod 16 made distinct locals share addresses:
 * the H.264, HEVC and VP8 decoders gave wrong pixels, HEVC with B-frames trapped ("memory access
 * out of bounds") and the FLAC encoder wrote other bytes — all of it silent but the trap.
 */
const STACK_ALIGN = 16;

/** Where the stack pointer starts for a call: just under the block's end, rounded down to 16. */
function callStackTop(block: number): number {
  return Math.floor((block + CALL_STACK_BYTES - STACK_ALIGN) / STACK_ALIGN) * STACK_ALIGN;
}

const EACCES = 2; // wasi/musl errno values as Emscripten returns them (negated by the caller)
const EAI_FAIL = -4;

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
  ErrnoError: new (errno: number) => Error;
}

export interface EmscriptenNode {
  node_ops: Record<string, unknown>;
  stream_ops: Record<string, unknown>;
  usedBytes?: number;
  mode: number;
  [key: string]: unknown;
}

interface RawCore {
  exec(...args: string[]): number;
  ffprobe(...args: string[]): number;
  reset(): void;
  setLogger(fn: (entry: { type: string; message: string }) => void): void;
  FS: EmscriptenFS;
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  asm: Record<string, unknown>;
  ret: number;
}

type CoreFactory = (moduleArg: Record<string, unknown>) => Promise<RawCore>;

function loadFactory(): CoreFactory {
  const g = globalThis as unknown as { self?: unknown };
  // The worker-environment build reads `self.location.href` while it sets itself up.
  if (g.self === undefined) g.self = globalThis;
  const self = g.self as { location?: { href: string } };
  self.location ??= { href: `file://${coreScriptPath()}` };
  return require(coreScriptPath()) as CoreFactory;
}

const WASM_PAGE = 65536;

function alignPage(bytes: number): number {
  return Math.ceil(bytes / WASM_PAGE) * WASM_PAGE;
}

/** The size Emscripten's `emscripten_resize_heap` (0.12.10) first tries for a request. */
function overGrownSize(current: number, requested: number): number {
  return alignPage(Math.max(requested, Math.min(current * 1.2, requested + 96 * 1024 * 1024)));
}

export interface CoreOptions {
  /** Shared flag: a non-zero value makes the transcode loop stop at its next turn. */
  cancelFlag: Int32Array;
  /** Heap budget in bytes; growth past it is refused. Mutable per job via `setHeapBudget`. */
  heapBudget: number;
}

export type LogSink = (line: string) => void;

/** One instantiated FFmpeg core, reusable for many jobs on one thread. */
export class FFmpegCore {
  private heapBudget: number;
  private logSink: LogSink = () => {};
  private cancelFlag: Int32Array;
  private readonly stackSave: () => number;
  private readonly stackRestore: (sp: number) => void;
  private readonly stackBlock: number;
  /** Set when growth was refused during the current call. */
  heapRefused = false;
  jobs = 0;

  private constructor(
    private readonly raw: RawCore,
    options: CoreOptions,
  ) {
    this.heapBudget = options.heapBudget;
    this.cancelFlag = options.cancelFlag;
    this.stackSave = raw.asm[EXPORT_STACK_SAVE] as () => number;
    this.stackRestore = raw.asm[EXPORT_STACK_RESTORE] as (sp: number) => void;
    this.selfTest();
    this.stackBlock = raw._malloc(CALL_STACK_BYTES);
    if (!this.stackBlock) throw new InternalError('cannot reserve the FFmpeg call stack');
    raw.setLogger(({ message }) => this.logSink(message));
    Object.defineProperty(raw, 'timeout', {
      // The core compares `timeout <= elapsed`: 0 stops at once, -1 never. Writes from the core's
      // own setTimeout/reset are ignored so the shared flag stays the only source of truth.
      get: () => (Atomics.load(this.cancelFlag, 0) !== 0 ? 0 : -1),
      set: () => {},
      configurable: true,
    });
  }

  static async create(module: WebAssembly.Module, options: CoreOptions): Promise<FFmpegCore> {
    const factory = loadFactory();
    let core: FFmpegCore | undefined;
    const raw = await factory({
      print: () => {},
      printErr: () => {},
      instantiateWasm(imports: { a: Record<string, unknown> }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
        const env = imports.a;
        const resize = env[IMPORT_RESIZE_HEAP] as (bytes: number) => boolean;
        if (typeof resize !== 'function') throw new InternalError('FFmpeg core: heap-resize import not found');
        let memory: WebAssembly.Memory | undefined;
        env[IMPORT_RESIZE_HEAP] = (requested: number) => {
          const limit = core?.heapBudget ?? options.heapBudget;
          const wanted = alignPage(requested >>> 0);
          if (wanted > limit) {
            if (core) core.heapRefused = true;
            return false;
          }
          if (memory && overGrownSize(memory.buffer.byteLength, requested >>> 0) > limit) {
            // Emscripten grows 20% (up to 96 MiB) past each request, which would carry the heap
            // over the budget. Grow exactly to the request instead; Emscripten's own resize then
            // finds the memory big enough, grows it by nothing and refreshes its heap views.
            try {
              memory.grow((wanted - memory.buffer.byteLength) / WASM_PAGE);
            } catch {
              return false;
            }
          }
          return resize(requested);
        };
        // No network: the sandbox has no sockets and resolves no names, whatever a playlist asks.
        env[IMPORT_SOCKET] = () => -EACCES;
        env[IMPORT_CONNECT] = () => -EACCES;
        env[IMPORT_GETADDRINFO] = () => EAI_FAIL;
        const instance = new WebAssembly.Instance(module, imports as unknown as WebAssembly.Imports);
        memory = Object.values(instance.exports).find((e): e is WebAssembly.Memory => e instanceof WebAssembly.Memory);
        if (!memory) throw new InternalError('FFmpeg core: exported memory not found');
        receive(instance, module);
        return instance.exports;
      },
    });
    core = new FFmpegCore(raw, options);
    return core;
  }

  private selfTest(): void {
    const { stackSave, stackRestore } = this;
    if (typeof stackSave !== 'function' || typeof stackRestore !== 'function') {
      throw new InternalError('FFmpeg core self-test: stackSave/stackRestore exports not found (is @ffmpeg/core 0.12.10 installed?)');
    }
    const sp = stackSave();
    if (!Number.isInteger(sp) || sp <= 0) throw new InternalError(`FFmpeg core self-test: stackSave returned ${sp}`);
    stackRestore(sp - 64);
    const moved = stackSave();
    stackRestore(sp);
    if (moved !== sp - 64 || stackSave() !== sp) {
      throw new InternalError('FFmpeg core self-test: stackRestore did not move the stack pointer');
    }
  }

  get FS(): EmscriptenFS {
    return this.raw.FS;
  }

  get heapBytes(): number {
    return this.raw.HEAPU8.byteLength;
  }

  setHeapBudget(bytes: number): void {
    this.heapBudget = bytes;
  }

  setCancelFlag(flag: Int32Array): void {
    this.cancelFlag = flag;
  }

  setLogSink(sink: LogSink): void {
    this.logSink = sink;
  }

  /** Runs the ffmpeg CLI main (`-nostdin -y` are prepended by the core). Returns its exit code. */
  exec(args: string[]): number {
    return this.call(() => this.raw.exec(...args));
  }

  /** Runs ffprobe. Its return value is meaningless in this build: read its output file instead. */
  ffprobe(args: string[]): void {
    this.call(() => this.raw.ffprobe(...args));
  }

  /** The demuxers this build has, by FFmpeg name (e.g. `mov,mp4,m4a,3gp,3g2,mj2`). */
  listDemuxers(): string[] {
    const names: string[] = [];
    this.setLogSink((line) => {
      const m = /^\s*D[E ]?[d ]?\s+(\S+)\s/.exec(line);
      if (m && m[1] !== '=') names.push(m[1]!);
    });
    try {
      this.exec(['-hide_banner', '-loglevel', 'info', '-demuxers']);
    } finally {
      this.setLogSink(() => {});
    }
    return names;
  }

  private call(fn: () => number): number {
    const sp = this.stackSave();
    this.heapRefused = false;
    this.raw.reset();
    this.stackRestore(callStackTop(this.stackBlock));
    try {
      fn();
      return this.raw.ret;
    } finally {
      this.stackRestore(sp);
      this.jobs++;
    }
  }
}
