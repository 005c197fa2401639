/**
 * One service job on one engine: the input is downloaded into a private work folder (bounded
 * while it streams), the operation writes its outputs into that folder, and only when it has
 * succeeded are they committed (output-commit.ts). The work folder goes whatever happens; what a
 * killed process leaves there is swept when the next one starts. The result is small: the
 * operation's figures and the names and sizes of the outputs, never their bytes.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { stagedName, sweepStaging } from '../call/staging.js';
import type { Engine } from '../engine.js';
import { AbortedError, InternalError, SandcodecError } from '../errors.js';
import { AUDIO_CODECS, type AudioCodec, getPreset } from '../model/presets.js';
import type { Progress } from '../progress.js';
import type { JobOp, JobSpec } from './job-spec.js';
import { commitOutputs, listOutputs, type OutputFile } from './output-commit.js';
import { downloadToFile, type TransferOptions } from './url-io.js';
import type { UrlPolicy } from './url-policy.js';

/** What every job of a process shares. */
export interface JobRuntime {
  engine: Engine;
  policy: UrlPolicy;
  /** Local scratch for inputs and outputs before they are committed. */
  workDir: string;
  /** Root of `output.dir` folders; without it, jobs can only write to URLs. */
  outputRoot: string | undefined;
  /** Largest input a job may download (the engine's maxInputBytes). */
  maxInputBytes: number;
  /** Per transfer: its whole time, retries and the first backoff. */
  transfer: { timeoutMs: number; retries: number; backoffMs?: number };
}

export interface JobHooks {
  signal: AbortSignal;
  /** 0..1, called often: the caller throttles. */
  progress(ratio: number): void;
}

export interface JobResult {
  op: JobOp;
  /** The operation's figures, without paths or bytes. */
  result: Record<string, unknown>;
  outputs: OutputFile[];
  /** Bytes of the downloaded input. */
  inputBytes: number;
  /** False when a retried job found its outputs already committed by an earlier attempt. */
  committed?: boolean;
}

/** Removes what killed processes left in the work folder; call once when a process starts. */
export async function prepareWorkDir(workDir: string): Promise<string[]> {
  await mkdir(workDir, { recursive: true });
  return sweepStaging(workDir);
}

/** A private folder for one job attempt, named so that a sweep recognises it when its process is gone. */
export async function withJobFolder<T>(rt: JobRuntime, id: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(rt.workDir, stagedName(`job-${id}`));
  await mkdir(dir, { recursive: true });
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function transferOptions(rt: JobRuntime, signal: AbortSignal): TransferOptions {
  return { policy: rt.policy, signal, ...rt.transfer };
}

/** Downloads the job's input into `dir`, keeping a safe extension as the demuxer's hint. */
export async function fetchInput(rt: JobRuntime, url: string, dir: string, signal: AbortSignal): Promise<string> {
  const ext = extname(new URL(url).pathname).toLowerCase();
  const path = join(dir, `input${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`);
  await downloadToFile(url, path, { ...transferOptions(rt, signal), maxBytes: rt.maxInputBytes });
  return path;
}

export async function runJob(rt: JobRuntime, id: string, spec: JobSpec, hooks: JobHooks): Promise<JobResult> {
  return withJobFolder(rt, id, async (dir) => {
    hooks.progress(0);
    const input = { path: await fetchInput(rt, spec.input.url, dir, hooks.signal) };
    const inputBytes = (await stat(input.path)).size;
    hooks.progress(0.05);
    const out = join(dir, 'out');
    await mkdir(out);
    const onProgress = (p: Progress) => hooks.progress(0.05 + 0.9 * p.ratio);
    const call = { signal: hooks.signal, onProgress };
    const result = await runOperation(rt.engine, spec, input, out, call);
    const outputs = await listOutputs(out);
    let committed: boolean | undefined;
    if (spec.output)
      committed = (await commitOutputs(out, spec.output, outputs, { jobId: id, outputRoot: rt.outputRoot, transfer: transferOptions(rt, hooks.signal) }))
        .committed;
    hooks.progress(1);
    return { op: spec.op, result: summarize(spec.op, result), outputs, inputBytes, ...(committed === false ? { committed } : {}) };
  });
}

type Call = { signal: AbortSignal; onProgress: (p: Progress) => void };

/**
 * The engine call of each operation, its files written into `out`. The options are the job's
 * JSON, passed on as they are: the engine checks them (E_OPTIONS naming the option), and
 * job-spec.ts has already kept out every option that names a host path.
 */
async function runOperation(engine: Engine, spec: JobSpec, input: { path: string }, out: string, call: Call): Promise<object> {
  // biome-ignore lint/suspicious/noExplicitAny: checked by the engine's own option validation
  const o = spec.options as any;
  const file = () => join(out, `${stem(spec)}.${extensionOf(o.preset)}`);
  switch (spec.op) {
    case 'probe':
      return engine.probe(input, { ...o, ...call });
    case 'loudness':
      return engine.loudness(input, call);
    case 'transcode':
      return engine.transcode(input, { ...o, output: file(), ...call });
    case 'ladder': {
      const { presets, ...rest } = o;
      return engine.ladder(input, presets, { baseName: urlStem(spec.input.url), ...rest, outputDir: out, ...call });
    }
    case 'normalize':
      return engine.normalize(input, { ...o, output: file(), ...call });
    case 'package':
      return engine.package(input, { ...o, outputDir: out, ...call });
    case 'thumbnails':
      return engine.thumbnails(input, { ...o, outputDir: out, ...call });
    case 'resize': {
      const format = typeof o.format === 'string' ? o.format : 'jpeg';
      return engine.resize(input, { ...o, format, output: join(out, `image.${format === 'jpeg' ? 'jpg' : format}`), ...call });
    }
  }
}

/** Output files are named after the input's file name (`song.flac` → `song.opus`), as the CLI names them. */
function stem(spec: JobSpec): string {
  const given = spec.options.baseName;
  return typeof given === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(given) ? given : urlStem(spec.input.url);
}

function urlStem(url: string): string {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  name = name.replace(/\.[^.]*$/, '');
  const safe = name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 64);
  return safe && safe !== '_' ? safe : 'output';
}

/** The file extension a preset (by name, or `{ base, codec }`) writes; the engine checks the preset itself. */
function extensionOf(preset: unknown): string {
  const base = typeof preset === 'string' ? preset : typeof preset === 'object' && preset !== null ? (preset as { base?: unknown }).base : undefined;
  const found = typeof base === 'string' ? getPreset(base) : undefined;
  const codec = typeof preset === 'object' && preset !== null ? (preset as { codec?: unknown }).codec : undefined;
  if (found?.kind === 'audio' && typeof codec === 'string' && Object.hasOwn(AUDIO_CODECS, codec)) return AUDIO_CODECS[codec as AudioCodec].extension;
  return found?.extension ?? 'bin';
}

/** Keys whose values are host paths, bytes or streams: a result travels without them. */
const DROPPED = new Set(['path', 'bytes', 'stream', 'outputDir', 'hls', 'dash', 'call']);

/** The operation's figures, small: no paths, bytes or streams; the source's probe only for `probe`. */
export function summarize(op: JobOp, result: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result)) {
    if (DROPPED.has(key) || (key === 'source' && op !== 'probe' && op !== 'loudness')) continue;
    out[key] = strip(value, 0);
  }
  return out;
}

function strip(value: unknown, depth: number): unknown {
  if (depth > 8) return null;
  if (Array.isArray(value)) return value.slice(0, 1000).map((v) => strip(v, depth + 1));
  if (value instanceof Uint8Array) return undefined;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (DROPPED.has(k) ? [] : [[k, strip(v, depth + 1)]])));
}

/** A thrown value as the typed error jobs report; a cancelled job's own reason when it has one. */
export function asJobError(err: unknown, signal?: AbortSignal): SandcodecError {
  if (err instanceof SandcodecError) return err;
  if (signal?.aborted) return signal.reason instanceof SandcodecError ? signal.reason : new AbortedError('the job was cancelled');
  return new InternalError(`the job failed: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
}
