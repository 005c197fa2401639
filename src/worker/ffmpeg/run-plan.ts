/**
 * Runs one plan on one core, inside a fresh job directory: mounts the plan's inputs and outputs,
 * runs ffprobe or ffmpeg, classifies a failure into a typed error, and always tears the job
 * directory down. Runs on a worker thread; nothing here touches the pool.
 */
import { AbortedError, FFmpegError, InputError, InternalError, LimitError, type SandcodecError, TimeoutError, UnsupportedError } from '../../errors.js';
import { CANCEL, type JobOutputResult, type JobResult, type Plan, type PlanInput, type WorkerEvent } from '../../model/plan.js';
import type { FFmpegCore } from './core.js';
import { LogTail, parseStats, refusedDemuxer } from './log.js';
import { BufferSink, type ByteSink, bytesSource, hostFileSink, hostFileSource, JobFS, OutputBudget, viewSource } from './sandbox-fs.js';

/** Protocols a job may use. Everything else (http, tcp, data, concat:, crypto …) is refused. */
const PROTOCOL_WHITELIST = 'file,pipe';

export interface RunContext {
  core: FFmpegCore;
  cancelFlag: Int32Array;
  emit: (event: WorkerEvent) => void;
  /** The sink of an analyze plan's `analysis` output (created by the worker, which awaits it). */
  analysis?: ByteSink;
}

export function runPlan(plan: Plan, ctx: RunContext): JobResult {
  if (plan.op === 'image') throw new InternalError('image plans run in the image pipeline, not here');
  const { core, cancelFlag, emit } = ctx;
  const tail = new LogTail();
  let lastEmit = 0;
  let mediaSeconds: number | null = null;
  let truncated: string | undefined;
  let framesSeen = false;
  let started = 0;
  // Before the job's log sink goes in: listing the demuxers runs FFmpeg with a sink of its own.
  const whitelist = formatWhitelist(core);
  core.setHeapBudget(plan.limits.maxHeapBytes);
  core.setLogSink((line) => {
    tail.push(line);
    if (truncated === undefined && TRUNCATION_PATTERNS.some((re) => re.test(line))) truncated = line.trim();
    // A video job's stats line can end at `fps=` (this build mangles that float): its frame
    // count still tells that frames came out, though its time= is lost.
    const frames = /frame=\s*(\d+)/.exec(line);
    if (frames) framesSeen = frames[1] !== '0';
    const stats = parseStats(line);
    if (!stats) return;
    mediaSeconds = stats.seconds;
    if (stats.seconds > plan.limits.maxDurationSeconds) {
      Atomics.compareExchange(cancelFlag, 0, CANCEL.none, CANCEL.duration);
    }
    const now = Date.now();
    if (now - lastEmit >= 50) {
      lastEmit = now;
      // FFmpeg's own definition of speed (media time over wall time), measured here.
      const elapsed = (performance.now() - started) / 1000;
      emit({ type: 'stats', seconds: stats.seconds, speed: elapsed > 0 && stats.seconds > 0 ? stats.seconds / elapsed : undefined });
    }
  });

  const jobFs = new JobFS(core.FS);
  const budget = new OutputBudget(plan.limits.maxOutputBytes);
  const sinks: Array<{ name: string; sink: ByteSink }> = [];
  try {
    for (const input of plan.inputs) jobFs.addInput(input.name, openSource(input));
    for (const output of plan.outputs) {
      const { sink: to } = output;
      const sink = to.type === 'path' ? hostFileSink(to.path) : to.type === 'analysis' ? ctx.analysis : new BufferSink(to.into);
      if (!sink) throw new InternalError(`${plan.phase}: no analysis sink for output ${output.name}`);
      sinks.push({ name: output.name, sink });
      // Measured PCM is never stored, so it does not count against maxOutputBytes.
      jobFs.addOutput(output.name, sink, output.sink.type === 'analysis' ? new OutputBudget(Infinity) : budget);
    }

    started = performance.now();
    let probe: unknown;
    if (plan.op === 'probe') {
      probe = runProbe(core, jobFs, plan.inputs[0].name, tail, whitelist);
    } else {
      // The log level is global to the instance and ffprobe lowers it: always set it per run.
      const code = core.exec(['-hide_banner', '-loglevel', 'info', '-stats', '-stats_period', '0.25', ...sandboxArgs(plan.args, whitelist)]);
      throwIfStopped(cancelFlag, core, budget, plan, tail);
      if (code !== 0) throw classifyFailure(code, tail, plan.phase);
      // FFmpeg exits 0 on an input that ends early or holds nothing it could decode; a rendition
      // cut short (or empty) must not pass for a good one.
      // The last `time=` still at 0 and no video frame counted means nothing came out of the
      // decoder (audio under 10 ms reads as nothing too, which no rendition could use anyway).
      // A single still image also ends at time 0, but its stats line counts `frame=1`.
      if (mediaSeconds === 0 && !framesSeen) truncated ??= 'no audio or video was decoded';
      if (truncated !== undefined && plan.inputs.length > 0) {
        throw new InputError(`${plan.phase}: the input is truncated or holds nothing to decode: ${truncated}`, { log: tail.errors(), exitCode: code });
      }
    }
    throwIfStopped(cancelFlag, core, budget, plan, tail);
    const execMs = performance.now() - started;

    const outputs: JobOutputResult[] = sinks.map(({ name, sink }) => {
      const result: JobOutputResult = { name, size: sink.written };
      if (sink instanceof BufferSink) result.bytes = sink.bytes();
      return result;
    });
    return { outputs, probe, log: tail.get(), mediaSeconds, execMs, instantiateMs: 0 };
  } finally {
    core.setLogSink(() => {});
    jobFs.dispose();
  }
}

function openSource(input: PlanInput) {
  const { source } = input;
  const whole = source.type === 'path' ? hostFileSource(source.path) : bytesSource(new Uint8Array(source.buffer, 0, source.byteLength));
  return input.view ? viewSource(whole, input.view) : whole;
}

/**
 * Demuxers an input may never be opened with: playlists and lists that name other files (hls,
 * concat, imf-like manifests), network session descriptions, and the text-as-video `tty` demuxer
 * that would make any text file "media". Each wins probing on its own kind of file, so the file
 * is refused rather than read another way.
 */
const DENIED_DEMUXERS = new Set(['hls', 'concat', 'tty', 'sdp', 'rtp', 'rtsp', 'ffmetadata', 'webm_dash_manifest', 'lavfi']);

let demuxerWhitelist: string | undefined;

/** Every demuxer of the build but the denied ones, computed once per thread. */
function formatWhitelist(core: FFmpegCore): string {
  demuxerWhitelist ??= core
    .listDemuxers()
    .flatMap((name) => name.split(','))
    .filter((name) => !DENIED_DEMUXERS.has(name))
    .join(',');
  return demuxerWhitelist;
}

/**
 * Forces the protocol and demuxer whitelists onto every input, whatever the plan says. The one
 * exception is a plan's own `-f lavfi` source (sample media), which reads no input bytes.
 */
function sandboxArgs(args: string[], whitelist: string): string[] {
  const out: string[] = [];
  let inputFormat: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-protocol_whitelist' || arg === '-format_whitelist') {
      i++;
      continue;
    }
    if (arg === '-f') inputFormat = args[i + 1];
    if (arg === '-i') {
      out.push('-protocol_whitelist', PROTOCOL_WHITELIST);
      if (inputFormat !== 'lavfi') out.push('-format_whitelist', whitelist);
      inputFormat = undefined;
    }
    out.push(arg);
  }
  return out;
}

const PROBE_OUT = 'probe.json';

function runProbe(core: FFmpegCore, jobFs: JobFS, inputName: string, tail: LogTail, whitelist: string): unknown {
  const sink = new BufferSink();
  jobFs.addOutput(PROBE_OUT, sink, new OutputBudget(16 * 1024 * 1024));
  core.ffprobe([
    '-hide_banner',
    '-v',
    'error',
    '-protocol_whitelist',
    PROTOCOL_WHITELIST,
    '-format_whitelist',
    whitelist,
    '-print_format',
    'json=c=1',
    '-show_format',
    '-show_streams',
    '-show_error',
    '-o',
    jobFs.path(PROBE_OUT),
    jobFs.path(inputName),
  ]);
  const text = new TextDecoder().decode(sink.bytes());
  let parsed: { format?: unknown; streams?: unknown[]; error?: { string?: string } };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError('the input is not readable media (the probe produced no result)', { log: tail.errors() });
  }
  if (parsed.error || !parsed.format) {
    const refused = refusedDemuxer(tail.get());
    if (refused) throw refusedError(refused, tail);
    const why = parsed.error?.string ?? 'unknown format';
    throw new InputError(`the input is not readable media: ${why}`, { log: tail.errors() });
  }
  return parsed;
}

function throwIfStopped(flag: Int32Array, core: FFmpegCore, budget: OutputBudget, plan: Plan, tail: LogTail): void {
  const reason = Atomics.load(flag, 0);
  if (reason === CANCEL.abort) throw new AbortedError();
  if (reason === CANCEL.timeout) throw new TimeoutError('the job ran past its timeout (timeoutMs)');
  if (reason === CANCEL.duration) {
    throw new LimitError('maxDurationSeconds', `the input plays longer than maxDurationSeconds (${plan.limits.maxDurationSeconds} s)`, {
      max: plan.limits.maxDurationSeconds,
    });
  }
  if (budget.exceeded) {
    throw new LimitError('maxOutputBytes', `the output grew past maxOutputBytes (${plan.limits.maxOutputBytes} bytes)`, {
      max: plan.limits.maxOutputBytes,
    });
  }
  if (core.heapRefused) {
    throw new LimitError('maxHeapBytes', `the job needed more memory than maxHeapBytes (${plan.limits.maxHeapBytes} bytes)`, {
      max: plan.limits.maxHeapBytes,
      log: tail.errors(),
    });
  }
}

/** Log lines of a run that exited 0 but read a cut-off input or decoded nothing. */
const TRUNCATION_PATTERNS = [/File ended prematurely/i, /Output file is empty, nothing was encoded/i];

const INPUT_PATTERNS = [
  /decode_frame\(\) failed|invalid residual|Invalid PCM packet|File ended prematurely/i,
  /Invalid data found when processing input/i,
  /could not find codec parameters/i,
  /moov atom not found/i,
  /Error while decoding/i,
  /error reading header/i,
  /Invalid argument/i,
  /End of file/i,
  /Protocol not found|not on whitelist|Protocol '.*' not on/i,
  /No such file or directory/i,
  /Unable to open|Failed to open segment|Impossible to open/i,
  /Output file #\d+ does not contain any stream/i,
  /does not contain any stream|matches no streams/i,
  /Invalid (?:frame|packet|sample|header)|corrupt|truncat|missing/i,
];
const UNSUPPORTED_PATTERNS = [/Unknown encoder|Encoder not found|Decoder \(codec .*\) not found|Unsupported codec/i];

/** Decides whether a failed run was the input's fault, an unsupported feature, or FFmpeg's. */
function refusedError(demuxer: string, tail: LogTail): InputError {
  return new InputError(`the input is a ${demuxer} file (a playlist, file list or text), which is not accepted as media`, {
    log: tail.errors(),
    demuxer,
  });
}

export function classifyFailure(code: number, tail: LogTail, phase: string): SandcodecError {
  const refused = refusedDemuxer(tail.get());
  if (refused) return refusedError(refused, tail);
  const log = tail.errors();
  const text = log.join('\n');
  const details = { log, exitCode: code };
  const last =
    log
      .filter((l) => !/^\s/.test(l))
      .slice(-2)
      .join(' / ') || `exit ${code}`;
  if (UNSUPPORTED_PATTERNS.some((re) => re.test(text))) return new UnsupportedError(`${phase}: ${last}`, details);
  if (INPUT_PATTERNS.some((re) => re.test(text))) return new InputError(`${phase}: the input could not be decoded: ${last}`, details);
  return new FFmpegError(`${phase}: FFmpeg failed: ${last}`, details);
}
