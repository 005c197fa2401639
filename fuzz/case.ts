/**
 * One case: derived from (run seed, case index, op) alone — the seed file, the mutation, the input
 * form, the call's limits and options all come from the case's own PRNG — so `--replay` rebuilds
 * it exactly, alone. Running it means: a private folder for its input, its outputs and its spool,
 * a user's file beside the outputs (and sometimes at the destination) that must survive, the call
 * under a hang guard, then the checks.
 */
import { Readable } from 'node:stream';
import type { Limits, MediaInput } from '../dist/index.js';
import { type Mutation, type MutatorName, mutate, type Params, type SeedFile } from './mutators.js';
import { OP_NAMES, OPS, type OpName, type OpPlan } from './ops.js';
import { Rng } from './prng.js';

export type InputForm = 'bytes' | 'data' | 'path' | 'stream' | 'web-stream' | 'named-stream';

export interface CaseSpec {
  id: string;
  seed: number;
  index: number;
  op: OpName;
  source: string;
  sourceSha256: string;
  /** The seed is of a kind the op is meant for (an unchanged one must then not be called invalid). */
  fits: boolean;
  mutator: MutatorName;
  params: Params;
  /** Bytes of the mutated input. */
  size: number;
  input: { form: InputForm; name: string | null };
  limits: Partial<Limits>;
  options: OpPlan['options'];
  /** A user's file placed at the destination before the call. */
  occupied: boolean;
  /** The caller aborts the call this many ms after starting it (null: never). */
  abortAfterMs: number | null;
}

export interface BuiltCase {
  spec: CaseSpec;
  bytes: Uint8Array;
  seedFile: SeedFile;
  plan: OpPlan;
}

export function caseId(seed: number, index: number, op: OpName): string {
  return `${seed}-${index}-${op}`;
}

export function parseCaseId(id: string): { seed: number; index: number; op: OpName } {
  const m = /^(\d+)-(\d+)-(.+)$/.exec(id);
  const op = m?.[3] as OpName | undefined;
  if (!m || !op || !OP_NAMES.includes(op)) throw new Error(`not a case id: ${JSON.stringify(id)} (expected SEED-INDEX-OP, e.g. 7-42-transcode)`);
  return { seed: Number(m[1]), index: Number(m[2]), op };
}

/** The op of case `index`: its own draw, so a case's id names everything needed to rebuild it. */
export function opOf(seed: number, index: number, ops: readonly OpName[]): OpName {
  return new Rng(seed, index, 'op').pick(ops);
}

const WRONG_EXTENSIONS = ['mp3', 'wav', 'png', 'jpg', 'mp4', 'ogg', 'txt', 'm3u8', 'flac', 'webm'];

export interface BuildOptions {
  corpus: readonly SeedFile[];
  mutators: readonly MutatorName[];
  /** Wall time one job of the case may run (`limits.timeoutMs`). */
  timeoutMs: number;
  /** The case's output folder (its path is recorded in the options, it does not affect draws). */
  outDir: string;
}

export function buildCase(seed: number, index: number, op: OpName, o: BuildOptions): BuiltCase {
  const rng = new Rng(seed, index, 'case');
  const fitting = o.corpus.filter((s) => OPS[op].kinds.includes(s.kind));
  // Now and then the wrong kind of file on purpose: an image to `ladder`, a song to `resize`.
  const seedFile = rng.pick(fitting.length === 0 || rng.chance(0.1) ? o.corpus : fitting);
  const fits = OPS[op].kinds.includes(seedFile.kind);
  const mutation: Mutation = mutate(rng, seedFile, o.corpus, o.mutators);

  const form = rng.weighted<InputForm>([
    ['bytes', 30],
    ['data', 20],
    ['path', 25],
    ['stream', 10],
    ['web-stream', 5],
    ['named-stream', 10],
  ]);
  const ext = rng.weighted([
    [seedFile.ext, 6],
    [rng.pick(WRONG_EXTENSIONS), 2],
    ['', 2],
  ] as const);
  const name = form === 'data' || form === 'path' || form === 'named-stream' ? `input${ext ? `.${ext}` : ''}` : null;

  const limits: Partial<Limits> = { timeoutMs: o.timeoutMs };
  // Tight limits now and then: the limit's error, and the rollback behind it, are under test too.
  if (rng.chance(0.08)) limits.maxOutputBytes = rng.logInt(1, 200_000);
  if (rng.chance(0.05)) limits.maxReturnedBytes = rng.logInt(1, 200_000);
  if (rng.chance(0.05)) limits.maxHeapBytes = 64 * 1024 ** 2;
  if (rng.chance(0.05)) limits.maxDurationSeconds = rng.pick([0.25, 1, 5]);
  if (rng.chance(0.03) && mutation.bytes.byteLength > 1) limits.maxInputBytes = mutation.bytes.byteLength - 1;

  const plan = OPS[op].plan(rng, o.outDir, seedFile);
  const occupied = plan.destination !== undefined && rng.chance(0.25);
  // Now and then the caller gives up mid-job: the rollback of half-written outputs is under test.
  const abortAfterMs = rng.chance(0.05) ? rng.logInt(1, 3000) : null;
  return {
    spec: {
      id: caseId(seed, index, op),
      seed,
      index,
      op,
      source: seedFile.id,
      sourceSha256: seedFile.sha256,
      fits,
      mutator: mutation.mutator,
      params: mutation.params,
      size: mutation.bytes.byteLength,
      input: { form, name },
      limits,
      options: plan.options,
      occupied,
      abortAfterMs,
    },
    bytes: mutation.bytes,
    seedFile,
    plan,
  };
}

/** The call's input in the case's form; a `path` input is written to `inputPath` first by the caller. */
export function makeInput(spec: CaseSpec, bytes: Uint8Array, inputPath: string): MediaInput {
  const { form, name } = spec.input;
  // Streams arrive in uneven chunks, as uploads do.
  const chunks = () => {
    const rng = new Rng(spec.seed, spec.index, 'chunks');
    const out: Uint8Array[] = [];
    for (let at = 0; at < bytes.byteLength; ) {
      const n = rng.logInt(1, 256 * 1024);
      out.push(bytes.subarray(at, at + n));
      at += n;
    }
    return out;
  };
  switch (form) {
    case 'bytes':
      return bytes;
    case 'data':
      return { data: bytes, name: name ?? '' };
    case 'path':
      return { path: inputPath };
    case 'stream':
      return Readable.from(chunks());
    case 'named-stream':
      return { stream: Readable.from(chunks()), name: name ?? '' };
    case 'web-stream': {
      const list = chunks();
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = list.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      });
    }
  }
}
