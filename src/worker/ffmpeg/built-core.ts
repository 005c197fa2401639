/**
 * The cores built from Debian's sources by wasm-build/ (see its README): CommonJS glue for Node,
 * exports and imports under their real names, one program run per instance.
 *
 * FFmpeg's command-line tools keep global state, so every run gets a fresh instance of the
 * compiled module (instantiating one takes milliseconds): no job sees what the previous one left,
 * and no stack or allocator repair is needed between runs. What the build promises
 * (wasm-build/ffmpeg/link.sh):
 *  - `ffmpeg_main` and `ffprobe_main`; `exit()` throws Emscripten's ExitStatus through the `quit`
 *    given here instead of ending the process, and the glue adds no process listeners;
 *  - its memory is imported: each instance gets a `WebAssembly.Memory` whose maximum is the job's
 *    heap budget, and `emscripten_get_heap_max` (glue/library.js) reads the same budget, so the
 *    heap grows to exactly the budget and no further;
 *  - `sandcodec_cancel_requested` (glue/library.js), polled on every turn of the transcode loop
 *    and by the I/O interrupt callback, reads the job's shared cancel flag;
 *  - `sandcodec_decode_totals` points at fftools' decode totals (frames decoded, decode errors);
 *  - a 5 MiB stack (libopus needs more than 1 MiB) and no network code at all.
 *
 * A multithreaded core (`-mt`, glue/mt-main.c) runs `main` on a thread of its own
 * (PROXY_TO_PTHREAD): this thread stays free to serve the file I/O Emscripten proxies to it, and
 * the run ends when main's thread says so (`onRunEnded`, or `quit` when FFmpeg exits). Threads
 * cannot see this thread's objects, so the cancel flag and the heap ceiling are mirrored into
 * words of the shared memory. A trap in any thread reaches `onThreadError` (glue/mt-post.js) and
 * fails the run; a run that does not stop within CANCEL_GRACE_MS of being cancelled is given up:
 * either way every thread of the instance is ended and the instance is dropped.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InternalError, LimitError } from '../../errors.js';
import { CANCEL } from '../../model/plan.js';
import type { CoreLocation } from '../../model/protocol.js';
import { THREAD_SCRIPT } from '../../util/core-files.js';
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
  JPEG_LAYOUT,
  type JpegPlanes,
  LIST_DEMUXERS_ARGS,
  NO_RECORDS,
  type RecordSink,
  thrownFailure,
} from './core-api.js';
import { LogRecordParser } from './log.js';

const require = createRequire(import.meta.url);

const WASM_PAGE = 65536;
/** The link's INITIAL_MEMORY: the imported memory must start at least this big. */
const INITIAL_BYTES = 32 * 1024 * 1024;
/** wasm32 memory as Emscripten addresses it (signed pointers). */
const MAX_BYTES = 2 * 1024 * 1024 * 1024;
/** How often the cancel flag is mirrored into a threaded run's shared words. */
const MIRROR_MS = 10;
/**
 * The largest heap a single-thread core keeps, zeroed, for its next instance. Fresh memory costs a
 * page fault per 4 KiB on first touch (on the machines measured, 3.6 ms per MB: the 40 MB heap of
 * a 12 MP JPEG decode took longer to fault in than to decode); a kept heap's pages are there.
 */
const KEEP_HEAP_BYTES = 256 * 1024 * 1024;
/** A cancelled threaded run that has not ended after this long is given up (its threads ended). */
export const CANCEL_GRACE_MS = 5000;

interface BuiltModule {
  FS: EmscriptenFS;
  _ffmpeg_main(argc: number, argv: number): number;
  _ffprobe_main(argc: number, argv: number): number;
  _sandcodec_decode_totals(): number;
  /** glue/webp-decode.c: absent from cores built before it. */
  _sandcodec_webp_decode?(data: number, size: number, out: number, width: number, height: number): number;
  /** glue/jpeg-decode.c: single-thread cores built since libjpeg-turbo came in. */
  _sandcodec_jpeg_decode?(
    data: number,
    size: number,
    denom: number,
    width: number,
    height: number,
    layout: number,
    planeLayout: number,
    message: number,
  ): number;
  _malloc(bytes: number): number;
  /** sbrk: single-thread cores built since it was exported (wasm-build/ffmpeg/link.sh). */
  _sbrk?(increment: number): number;
  /** Read by glue/library.js. */
  cancelFlag: Int32Array;
  heapMax: number;
  /** Receives `_sandcodec_jpeg_decode`'s strips of rows (glue/library.js); nonzero: they do not fit. */
  jpegRows?: (offset: number, src: number, stride: number, width: number, count: number) => number;
  /** Multithreaded cores only (glue/mt-main.c, glue/mt-post.js). */
  _emscripten_proxy_main?(argc: number, argv: number): number;
  _sandcodec_host_words?(): number;
  terminateThreads?(): void;
}

type BuiltFactory = (moduleArg: Record<string, unknown>) => Promise<unknown>;

interface Instance {
  module: BuiltModule;
  memory: WebAssembly.Memory;
  /** It ran a program: the next run needs a fresh instance. */
  used: boolean;
  /** The budget its memory was made for. */
  budget: number;
  /** Multithreaded: settles the run under way (set while one is). */
  settle?: (outcome: ThreadedOutcome) => void;
}

export class BuiltCore implements FFmpegCore {
  private heapBudget: number;
  private threads = 1;
  private cancelFlag: Int32Array;
  private deadline: number | undefined;
  private recordSink: RecordSink = NO_RECORDS;
  private stdoutSink: (line: string) => void = () => {};
  private readonly parser: LogRecordParser;
  private current: Instance | undefined;
  /** The heap of the last instance dropped, for the next instance of the same budget. */
  private spare: { memory: WebAssembly.Memory; budget: number; dirty: number } | undefined;
  heapRefused = false;
  /**
   * A single-thread run that trapped leaves its instance behind and the next run gets a fresh one,
   * so this stays unset; after a threaded run that crashed or was given up it says why, and the
   * worker makes a new core (its threads are gone with the instance either way).
   */
  broken: string | undefined = undefined;
  jobs = 0;
  /** The core runs FFmpeg on threads of its own (an `-mt` build). */
  readonly threaded: boolean;

  private constructor(
    private readonly factory: BuiltFactory,
    readonly module: WebAssembly.Module,
    readonly files: CoreLocation,
    options: CoreOptions,
  ) {
    this.heapBudget = options.heapBudget;
    this.cancelFlag = options.cancelFlag;
    this.parser = new LogRecordParser((record) => this.recordSink(record));
    this.threaded = existsSync(join(dirname(files.script), THREAD_SCRIPT));
  }

  static async create(module: WebAssembly.Module, options: CoreOptions, files: CoreLocation): Promise<BuiltCore> {
    const factory = require(files.script) as BuiltFactory;
    if (typeof factory !== 'function') throw new InternalError(`FFmpeg core ${files.name}: ${files.script} does not export a factory`);
    const core = new BuiltCore(factory, module, files, options);
    // Instantiate once now so a broken build fails here, at start-up, not inside a job.
    core.instance();
    return core;
  }

  /** The current run's instance, made when there is none. */
  private instance(): Instance {
    this.current ??= this.instantiate(this.budget());
    return this.current;
  }

  private budget(): number {
    return Math.min(Math.max(this.heapBudget, INITIAL_BYTES), MAX_BYTES);
  }

  private instantiate(budget: number): Instance {
    // Threads share the memory; its maximum is reserved up front, and is still the job's budget.
    const memory =
      this.reusedHeap(budget) ?? new WebAssembly.Memory({ initial: INITIAL_BYTES / WASM_PAGE, maximum: Math.floor(budget / WASM_PAGE), shared: this.threaded });
    let ready = false;
    let inst: Instance | undefined;
    const moduleArg: Record<string, unknown> = {
      wasmMemory: memory,
      heapMax: Math.floor(budget / WASM_PAGE) * WASM_PAGE,
      cancelFlag: this.cancelFlag,
      print: (line: string) => this.stdoutSink(line),
      // The JS runtime's own lines (FFmpeg's stderr is taken write by write below).
      printErr: (line: string) => this.recordSink({ component: 'wasm', address: '0x0', level: 'error', text: printable(line) }),
      // exit() must end the run, never the process. On a threaded core it arrives on this thread
      // as a proxied call, where a throw would escape into the event loop: it settles the run.
      quit: (status: number, toThrow: unknown) => {
        if (!this.threaded) throw toThrow;
        inst?.settle?.({ code: status, exited: true });
      },
      onRunEnded: (status: number) => inst?.settle?.({ code: status, exited: false }),
      onThreadError: (error: unknown) => inst?.settle?.({ crash: threadFailure(error) }),
      onAbort: (what: unknown) => inst?.settle?.({ crash: threadFailure(what) }),
      locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? join(dirname(this.files.script), THREAD_SCRIPT) : prefix + path),
      onRuntimeInitialized: () => {
        ready = true;
      },
      instantiateWasm: (imports: { env: Record<string, unknown> }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
        const env = imports.env;
        const resize = env.emscripten_resize_heap as ((bytes: number) => boolean) | undefined;
        if (typeof resize !== 'function') throw new InternalError(`FFmpeg core ${this.files.name}: import emscripten_resize_heap not found`);
        env.emscripten_resize_heap = (requested: number) => {
          const grown = resize(requested);
          if (!grown) this.heapRefused = true;
          return grown;
        };
        // A single-thread core polls the flag through this import: the deadline is checked with it.
        const poll = env.sandcodec_cancel_requested as (() => number) | undefined;
        if (typeof poll === 'function') {
          env.sandcodec_cancel_requested = () => {
            this.checkDeadline();
            return poll();
          };
        }
        const instance = new WebAssembly.Instance(this.module, imports as unknown as WebAssembly.Imports);
        receive(instance, this.module);
        return instance.exports;
      },
    };
    const ready$ = this.factory(moduleArg);
    // Its promise settles with the instance; a failure is reported through `ready` below.
    (ready$ as Promise<unknown>).catch(() => {});
    if (!ready) throw new InternalError(`FFmpeg core ${this.files.name}: the instance did not start synchronously`);
    const module = moduleArg as unknown as BuiltModule;
    for (const name of ['_ffmpeg_main', '_ffprobe_main', '_sandcodec_decode_totals', '_malloc'] as const) {
      if (typeof module[name] !== 'function') throw new InternalError(`FFmpeg core ${this.files.name}: export ${name.slice(1)} not found`);
    }
    if (this.threaded) {
      for (const name of ['_emscripten_proxy_main', '_sandcodec_host_words', 'terminateThreads'] as const) {
        if (typeof module[name] !== 'function') throw new InternalError(`FFmpeg core ${this.files.name}: ${name} not found (not a multithreaded build)`);
      }
      // The ceiling, as the threads read it (glue/library.js).
      Atomics.store(new Int32Array(memory.buffer), (module._sandcodec_host_words!() >> 2) + 1, Math.floor(budget / WASM_PAGE));
    }
    captureStderr(module.FS, (bytes) => this.parser.write(bytes));
    inst = { module, memory, used: false, budget };
    return inst;
  }

  /**
   * The kept heap, zeroed, when it was made for this budget: a new instance in it starts as in
   * fresh memory (its data segments are written at instantiation, everything else is zero), and
   * nothing of the run before is left to read. Only the bytes below the last run's high-water
   * mark are zeroed: the rest no run has touched, and writing it would fault in every page of it
   * (a fresh process's first image job, whose heap is 32 MiB at least, paid about 100 ms for that).
   */
  private reusedHeap(budget: number): WebAssembly.Memory | undefined {
    const spare = this.spare;
    this.spare = undefined;
    if (!spare || spare.budget !== budget) return undefined;
    new Uint8Array(spare.memory.buffer, 0, Math.min(spare.dirty, spare.memory.buffer.byteLength)).fill(0);
    return spare.memory;
  }

  /**
   * Where the instance's writes end: sbrk(0), as Emscripten's heap only grows and the data and the
   * stack lie below it; the whole memory when the core cannot say.
   */
  private dirtyEnd(inst: Instance): number {
    const whole = inst.memory.buffer.byteLength;
    if (typeof inst.module._sbrk !== 'function') return whole;
    try {
      const end = inst.module._sbrk(0) >>> 0;
      return end > 0 && end <= whole ? end : whole;
    } catch {
      return whole;
    }
  }

  /** Drops the current instance; a single-thread core keeps its heap for the next one. */
  private drop(): void {
    const inst = this.current;
    this.current = undefined;
    if (inst && !this.threaded && inst.memory.buffer.byteLength <= KEEP_HEAP_BYTES) {
      this.spare = { memory: inst.memory, budget: inst.budget, dirty: this.dirtyEnd(inst) };
    }
  }

  get FS(): EmscriptenFS {
    return this.instance().module.FS;
  }

  get heapBytes(): number {
    return this.current?.memory.buffer.byteLength ?? 0;
  }

  setHeapBudget(bytes: number): void {
    this.heapBudget = bytes;
    // A new run: an instance that ran, or that was made for another budget, gives way to a fresh one.
    if (this.current && (this.current.used || this.current.budget !== this.budget())) this.drop();
  }

  setThreads(count: number): void {
    this.threads = count;
  }

  setCancelFlag(flag: Int32Array): void {
    this.cancelFlag = flag;
    if (this.current) this.current.module.cancelFlag = flag;
  }

  setDeadline(at: number | undefined): void {
    this.deadline = at;
  }

  /** Raises the timeout reason once the deadline has passed (polled with the cancel flag). */
  private checkDeadline(): void {
    if (this.deadline !== undefined && performance.now() > this.deadline) Atomics.compareExchange(this.cancelFlag, 0, CANCEL.none, CANCEL.timeout);
  }

  setRecordSink(sink: RecordSink): void {
    this.recordSink = sink;
  }

  decodeTotals(): { decoded: number; errors: number } {
    const { module, memory } = this.instance();
    const view = new DataView(memory.buffer);
    const at = module._sandcodec_decode_totals();
    return { decoded: Number(view.getBigInt64(at, true)), errors: Number(view.getBigInt64(at + 8, true)) };
  }

  async exec(args: string[]): Promise<CoreExit> {
    return this.run('_ffmpeg_main', ['ffmpeg', '-nostdin', '-y', ...args], true);
  }

  async ffprobe(args: string[]): Promise<CoreExit> {
    return this.run('_ffprobe_main', ['ffprobe', ...args], false);
  }

  async listDemuxers(): Promise<DemuxerInfo[]> {
    // On an instance of its own: the job's instance may already hold the job's files.
    const saved = this.current;
    this.current = undefined;
    const demuxers: DemuxerInfo[] = [];
    this.stdoutSink = (line) => {
      const demuxer = demuxerLine(line);
      if (demuxer) demuxers.push(demuxer);
    };
    try {
      await this.exec(LIST_DEMUXERS_ARGS);
    } finally {
      this.stdoutSink = () => {};
      this.current = saved;
    }
    return demuxers;
  }

  get webpDecoder(): boolean {
    return !this.threaded && typeof this.instance().module._sandcodec_webp_decode === 'function';
  }

  decodeWebp(data: Uint8Array, width: number, height: number, out: Uint8Array): number | undefined {
    const decode = this.instance().module._sandcodec_webp_decode;
    if (this.threaded || typeof decode !== 'function') return undefined;
    return this.runGlue(`the ${width}×${height} WebP`, data, out.byteLength, (input, output) => {
      const status = decode(input, data.byteLength, output, width, height);
      if (status === 0) out.set(new Uint8Array(this.instance().memory.buffer, output, out.byteLength));
      return status;
    });
  }

  get jpegDecoder(): boolean {
    return !this.threaded && typeof this.instance().module._sandcodec_jpeg_decode === 'function';
  }

  decodeJpeg(data: Uint8Array, denom: number, planes: JpegPlanes, out: Uint8Array): number | undefined {
    const inst = this.instance();
    const decode = inst.module._sandcodec_jpeg_decode;
    if (this.threaded || typeof decode !== 'function') return undefined;
    inst.module.cancelFlag = this.cancelFlag;
    const { width, height, layout, planeLayout } = planes;
    // Each strip of rows goes straight to `out` as libjpeg decodes it: the heap holds a strip, not
    // the picture (whose pages a fresh process would pay to touch, then copy).
    inst.module.jpegRows = (offset, src, stride, rowBytes, count) => {
      if (count === 0 || offset + (count - 1) * rowBytes + rowBytes > out.byteLength) return 1;
      const heap = new Uint8Array(inst.memory.buffer);
      if (stride === rowBytes) out.set(heap.subarray(src, src + count * rowBytes), offset);
      else for (let r = 0; r < count; r++) out.set(heap.subarray(src + r * stride, src + r * stride + rowBytes), offset + r * rowBytes);
      return 0;
    };
    try {
      return this.runGlue(`the ${width}×${height} JPEG`, data, 0, (input) =>
        // libjpeg's message is not kept (0): the file goes to FFmpeg, whose verdict is the one told.
        decode(input, data.byteLength, denom, width, height, JPEG_LAYOUT[layout], JPEG_LAYOUT[planeLayout], 0),
      );
    } finally {
      inst.module.jpegRows = undefined;
    }
  }

  /**
   * One call into the core's own C glue as a run like any other (the next run gets a fresh
   * instance: the libraries' globals are not reset): `data` copied into the heap, and `outBytes`
   * allocated after it for the call's output. Returns the call's status.
   */
  private runGlue(what: string, data: Uint8Array, outBytes: number, call: (input: number, output: number) => number): number {
    const inst = this.instance();
    if (inst.used) throw new InternalError('FFmpeg core: this instance has run; start the next run with setHeapBudget');
    inst.used = true;
    this.heapRefused = false;
    try {
      const input = inst.module._malloc(data.byteLength);
      const output = input && outBytes > 0 ? inst.module._malloc(outBytes) : 0;
      if (!input || (outBytes > 0 && !output)) {
        throw new LimitError('maxHeapBytes', `decoding ${what} needs more memory than maxHeapBytes (${this.budget()} bytes)`, {
          max: this.budget(),
        });
      }
      new Uint8Array(inst.memory.buffer, input, data.byteLength).set(data);
      return call(input, output);
    } catch (thrown) {
      if (thrown instanceof LimitError) throw thrown;
      throw thrownFailure(thrown).error;
    } finally {
      this.jobs++;
    }
  }

  endJob(): void {
    // The job's instance holds its heap (up to the budget): let it go now, not at the next job;
    // a heap within KEEP_HEAP_BYTES stays for the next instance.
    this.drop();
  }

  private run(main: '_ffmpeg_main' | '_ffprobe_main', argv: string[], reportsStatus: boolean): CoreExit | Promise<CoreExit> {
    const inst = this.instance();
    // FFmpeg's tools keep global state: a second run on one instance would see the first's.
    if (inst.used) throw new InternalError('FFmpeg core: this instance has run; start the next run with setHeapBudget');
    inst.used = true;
    inst.module.cancelFlag = this.cancelFlag;
    this.heapRefused = false;
    if (this.threaded) return this.runThreaded(inst, argv, reportsStatus);
    try {
      const status = inst.module[main](argv.length, writeArgv(inst, argv));
      return { code: reportsStatus ? status : 0, exited: false };
    } catch (thrown) {
      const status = exitStatus(thrown);
      if (status !== undefined) return { code: status, exited: true };
      throw thrownFailure(thrown).error;
    } finally {
      this.parser.flush();
      this.jobs++;
    }
  }

  /**
   * main() on a thread of its own, both tools behind one entry (glue/mt-main.c: argv[1] names
   * the tool). This thread mirrors the cancel flag into the shared words meanwhile and serves the
   * proxied file I/O; the run settles once, then every thread of the instance is ended.
   */
  private runThreaded(inst: Instance, argv: string[], reportsStatus: boolean): Promise<CoreExit> {
    const module = inst.module;
    const words = module._sandcodec_host_words!() >> 2;
    Atomics.store(new Int32Array(inst.memory.buffer), words + 2, this.threads);
    let resolve!: (exit: CoreExit) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<CoreExit>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    let cancelledAt: number | undefined;
    const mirrorFlag = () => {
      if (Atomics.load(this.cancelFlag, 0) === 0) return false;
      Atomics.store(new Int32Array(inst.memory.buffer), words, 1);
      return true;
    };
    // A flag raised before the run stops it at its first turn, as on a single-thread core.
    mirrorFlag();
    const mirror = setInterval(() => {
      if (!mirrorFlag()) return;
      cancelledAt ??= performance.now();
      if (performance.now() - cancelledAt > CANCEL_GRACE_MS) {
        inst.settle?.({ givenUp: `the run did not stop within ${CANCEL_GRACE_MS} ms of being cancelled; its threads were ended` });
      }
    }, MIRROR_MS);
    inst.settle = (outcome) => {
      inst.settle = undefined;
      clearInterval(mirror);
      // Growth refused on any thread (glue/library.js notes it in word 3).
      if (Atomics.load(new Int32Array(inst.memory.buffer), words + 3) !== 0) this.heapRefused = true;
      this.parser.flush();
      this.jobs++;
      try {
        module.terminateThreads!();
      } catch {
        // Threads that never started have nothing to end.
      }
      if ('crash' in outcome) {
        // Whatever a thread threw, it was FFmpeg failing inside the sandbox: the instance is done.
        const { error, broken } = thrownFailure(outcome.crash);
        this.broken = broken;
        reject(error);
      } else if ('givenUp' in outcome) {
        this.broken = `FFmpeg was given up: ${outcome.givenUp}`;
        resolve({ code: -1, exited: false });
      } else {
        resolve(reportsStatus || outcome.exited ? outcome : { code: 0, exited: false });
      }
    };
    try {
      const started = module._emscripten_proxy_main!(argv.length + 1, writeArgv(inst, ['sandcodec', ...argv]));
      if (started !== 0) inst.settle({ givenUp: `main's thread did not start (pthread_create returned ${started})` });
    } catch (thrown) {
      inst.settle?.({ crash: thrown });
    }
    return promise;
  }
}

/** How a threaded run ended: FFmpeg's status, a thread's crash, or the watchdog giving up on it. */
type ThreadedOutcome = CoreExit | { crash: unknown } | { givenUp: string };

/**
 * A thread's trap or abort, as a wasm trap: a thread's uncaught error reaches this thread as a
 * copy (its class is not kept across threads), and Emscripten's abort passes a string.
 */
function threadFailure(thrown: unknown): WebAssembly.RuntimeError {
  if (thrown instanceof WebAssembly.RuntimeError) return thrown;
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new WebAssembly.RuntimeError(`in a thread: ${message}`);
}

/** argv as C wants it, in the instance's heap: NUL-terminated UTF-8 strings and a NULL-ended array. */
function writeArgv(inst: Instance, argv: string[]): number {
  const encoder = new TextEncoder();
  const strings = argv.map((arg) => {
    const bytes = encoder.encode(arg);
    const at = inst.module._malloc(bytes.length + 1);
    if (!at) throw new InternalError('FFmpeg core: no memory for the command line');
    const heap = new Uint8Array(inst.memory.buffer);
    heap.set(bytes, at);
    heap[at + bytes.length] = 0;
    return at;
  });
  const array = inst.module._malloc(4 * (strings.length + 1));
  if (!array) throw new InternalError('FFmpeg core: no memory for the command line');
  const words = new Uint32Array(inst.memory.buffer, array, strings.length + 1);
  words.set(strings);
  words[strings.length] = 0;
  return array;
}
