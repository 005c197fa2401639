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
 * Two more hooks serve the job's accounting: stderr is taken write by write (so log records keep
 * the structure FFmpeg gave them, log.ts), and FFmpeg's decode totals are located once, self-tested,
 * and read around each run (they are process-wide in FFmpeg and never reset).
 * Whatever leaves FFmpeg — a status, Emscripten's ExitStatus (a plain object), a wasm trap — comes
 * out of `exec`/`ffprobe` as an exit status or a typed error; an instance that trapped or aborted
 * is marked `broken` and refuses further runs.
 */
/// <reference path="../../types/webassembly.d.ts" />
import { createRequire } from 'node:module';
import { InternalError, type SandcodecError } from '../../errors.js';
import { CANCEL } from '../../model/plan.js';
import type { CoreLocation } from '../../model/protocol.js';
import { printable } from '../../util/printable.js';
import {
  type CoreExit,
  type CoreOptions,
  captureStderr,
  type DemuxerInfo,
  demuxerLine,
  type EmscriptenFS,
  exitStatus,
  type FFmpegCore,
  LIST_DEMUXERS_ARGS,
  NO_RECORDS,
  type RecordSink,
  thrownFailure,
} from './core-api.js';
import { LogRecordParser } from './log.js';

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

function loadFactory(script: string): CoreFactory {
  const g = globalThis as unknown as { self?: unknown };
  // The worker-environment build reads `self.location.href` while it sets itself up.
  if (g.self === undefined) g.self = globalThis;
  const self = g.self as { location?: { href: string } };
  self.location ??= { href: `file://${script}` };
  return require(script) as CoreFactory;
}

const WASM_PAGE = 65536;

function alignPage(bytes: number): number {
  return Math.ceil(bytes / WASM_PAGE) * WASM_PAGE;
}

/** The size Emscripten's `emscripten_resize_heap` (0.12.10) first tries for a request. */
function overGrownSize(current: number, requested: number): number {
  return alignPage(Math.max(requested, Math.min(current * 1.2, requested + 96 * 1024 * 1024)));
}

/** Static data lies below the stack, which is 64 KiB in this build (crash 2 in DESIGN.md). */
const STACK_BYTES = 64 * 1024;
/** Where the decode totals live, per compiled module (the address is a property of the binary). */
const decodeTotalsAddress = new WeakMap<WebAssembly.Module, number>();

/** One instantiated stock core, reusable for many jobs on one thread. */
export class StockCore implements FFmpegCore {
  private heapBudget: number;
  private recordSink: RecordSink = NO_RECORDS;
  private stdoutSink: (line: string) => void = () => {};
  private cancelFlag: Int32Array;
  private deadline: number | undefined;
  private readonly stackSave: () => number;
  private readonly stackRestore: (sp: number) => void;
  private readonly stackBlock: number;
  private readonly parser: LogRecordParser;
  private decodeTotalsAt = 0;
  /** Set when growth was refused during the current call. */
  heapRefused = false;
  /** Why this instance can no longer be trusted (FFmpeg trapped or aborted mid-run); undefined while sound. */
  broken: string | undefined;
  jobs = 0;

  private constructor(
    private readonly raw: RawCore,
    options: CoreOptions,
    readonly module: WebAssembly.Module,
    readonly files: CoreLocation,
  ) {
    this.heapBudget = options.heapBudget;
    this.cancelFlag = options.cancelFlag;
    this.stackSave = raw.asm[EXPORT_STACK_SAVE] as () => number;
    this.stackRestore = raw.asm[EXPORT_STACK_RESTORE] as (sp: number) => void;
    this.selfTest();
    this.stackBlock = raw._malloc(CALL_STACK_BYTES);
    if (!this.stackBlock) throw new InternalError('cannot reserve the FFmpeg call stack');
    this.parser = new LogRecordParser((record) => this.recordSink(record));
    captureStderr(raw.FS, (bytes) => this.parser.write(bytes));
    raw.setLogger(({ type, message }) => {
      if (type === 'stdout') this.stdoutSink(message);
      // The rest are the JS runtime's own lines; "Aborted()" closes every run (FFmpeg's exit is an abort).
      else if (message !== 'Aborted()') this.recordSink({ component: 'wasm', address: '0x0', level: 'error', text: printable(message) });
    });
    Object.defineProperty(raw, 'timeout', {
      // The core compares `timeout <= elapsed`: 0 stops at once, -1 never. Writes from the core's
      // own setTimeout/reset are ignored so the shared flag stays the only source of truth.
      get: () => {
        if (this.deadline !== undefined && performance.now() > this.deadline) Atomics.compareExchange(this.cancelFlag, 0, CANCEL.none, CANCEL.timeout);
        return Atomics.load(this.cancelFlag, 0) !== 0 ? 0 : -1;
      },
      set: () => {},
      configurable: true,
    });
  }

  static async create(module: WebAssembly.Module, options: CoreOptions, files: CoreLocation): Promise<StockCore> {
    const factory = loadFactory(files.script);
    let core: StockCore | undefined;
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
    core = new StockCore(raw, options, module, files);
    let at = decodeTotalsAddress.get(module);
    if (at === undefined) {
      at = core.locateDecodeTotals();
      decodeTotalsAddress.set(module, at);
    }
    core.decodeTotalsAt = at;
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

  /**
   * Finds FFmpeg's decode totals (`decode_error_stat`: frames decoded, decode errors), static
   * counters that only ever grow over an instance's life. Reading them before and after a run
   * gives that run's own counts, which the damage policy needs (run-plan.ts); FFmpeg prints them
   * only at debug level. Two small runs at debug level print the totals; the one 8-byte-aligned
   * pair of static memory holding both values both times is the counter. Nothing is written.
   */
  private locateDecodeTotals(): number {
    const totals = (frames: number): [number, number] => {
      let found: [number, number] | undefined;
      this.recordSink = (record) => {
        const m = /^(\d+) frames successfully decoded, (\d+) decoding errors$/.exec(record.text);
        if (m) found = [Number(m[1]), Number(m[2])];
      };
      try {
        this.execNow([
          '-hide_banner',
          '-loglevel',
          'level+debug',
          '-f',
          'lavfi',
          '-i',
          `sine=duration=1:sample_rate=8000:samples_per_frame=${Math.ceil(8000 / frames)}`,
          '-f',
          'null',
          '-',
        ]);
      } finally {
        this.recordSink = NO_RECORDS;
      }
      if (!found) throw new InternalError('FFmpeg core self-test: the debug log did not state the decode totals');
      return found;
    };
    const staticEnd = this.stackSave() - STACK_BYTES;
    let candidates: number[] | undefined;
    for (const frames of [37, 53, 71]) {
      const [decoded, errors] = totals(frames);
      const words = new Int32Array(this.raw.HEAPU8.buffer, 0, staticEnd >>> 2);
      const holds = (at: number) => words[at] === decoded && words[at + 1] === 0 && words[at + 2] === errors && words[at + 3] === 0;
      if (candidates) {
        candidates = candidates.filter(holds);
      } else {
        candidates = [];
        for (let at = 2; at + 3 < words.length; at += 2) if (holds(at)) candidates.push(at);
      }
      if (candidates.length === 1 && frames !== 37) return candidates[0]! * 4;
    }
    throw new InternalError(`FFmpeg core self-test: the decode totals were not found (${candidates?.length ?? 0} candidates)`);
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

  /** A single-thread build: every run has one thread. */
  setThreads(_count: number): void {}

  setCancelFlag(flag: Int32Array): void {
    this.cancelFlag = flag;
  }

  setDeadline(at: number | undefined): void {
    this.deadline = at;
  }

  /** Receives every log record FFmpeg prints from now on (one sink at a time). */
  setRecordSink(sink: RecordSink): void {
    this.recordSink = sink;
  }

  /** FFmpeg's decode totals since the instance started; a run's own counts are the difference. */
  decodeTotals(): { decoded: number; errors: number } {
    const view = new DataView(this.raw.HEAPU8.buffer);
    return {
      decoded: Number(view.getBigInt64(this.decodeTotalsAt, true)),
      errors: Number(view.getBigInt64(this.decodeTotalsAt + 8, true)),
    };
  }

  /** Runs the ffmpeg CLI main (`-nostdin -y` are prepended by the core), to its end, on this thread. */
  async exec(args: string[]): Promise<CoreExit> {
    return this.execNow(args);
  }

  private execNow(args: string[]): CoreExit {
    return this.call(() => this.raw.exec(...args), true);
  }

  /** Runs ffprobe. Its exit status is not reported by this build (only `exited`): read its output file. */
  async ffprobe(args: string[]): Promise<CoreExit> {
    return this.call(() => this.raw.ffprobe(...args), false);
  }

  /** The demuxers this build has, by FFmpeg name (e.g. `mov,mp4,m4a,3gp,3g2,mj2`). */
  async listDemuxers(): Promise<DemuxerInfo[]> {
    const demuxers: DemuxerInfo[] = [];
    this.stdoutSink = (line) => {
      const demuxer = demuxerLine(line);
      if (demuxer) demuxers.push(demuxer);
    };
    try {
      this.execNow(LIST_DEMUXERS_ARGS);
    } finally {
      this.stdoutSink = () => {};
    }
    return demuxers;
  }

  private call(fn: () => number, reportsStatus: boolean): CoreExit {
    if (this.broken) throw new InternalError(`the FFmpeg core cannot run another job: ${this.broken}`);
    const sp = this.stackSave();
    this.heapRefused = false;
    this.raw.reset();
    this.stackRestore(callStackTop(this.stackBlock));
    try {
      fn();
      const code = reportsStatus ? this.raw.ret : 0;
      // FFmpeg sets its status just before its exit; -1 left in place means abort() came first.
      if (code === -1) this.broken = 'FFmpeg aborted (an internal check failed)';
      return { code, exited: false };
    } catch (thrown) {
      const status = exitStatus(thrown);
      if (status !== undefined) return { code: status, exited: true };
      throw this.failure(thrown);
    } finally {
      this.parser.flush();
      this.stackRestore(sp);
      this.jobs++;
    }
  }

  /**
   * What a throw out of FFmpeg means. A wasm trap (memory access out of bounds, unreachable, a
   * stack overflow) is FFmpeg crashing inside its sandbox: not the input's fault to call, and the
   * instance's memory is no longer trustworthy. Anything else is a bug on our side of the glue.
   */
  private failure(thrown: unknown): SandcodecError {
    const { error, broken } = thrownFailure(thrown);
    this.broken = broken;
    return error;
  }

  /** The instance serves the next job as it is. */
  endJob(): void {}

  readonly webpDecoder = false;

  decodeWebp(): undefined {
    return undefined;
  }

  readonly jpegDecoder = false;

  decodeJpeg(): undefined {
    return undefined;
  }
}
