/**
 * The run: one engine, the seeds, then cases on `concurrency` lanes. Each case gets its own
 * folder under a private temporary root (input, outputs, spool — the engine spools streams under
 * `os.tmpdir()`, which is pointed at the case's spool while the call starts), is judged, and is
 * removed. After a failed case a known-good job must succeed: the pool keeps serving. RSS is
 * sampled while cases run. Errors that escape to the process are caught and charged to the cases
 * running when they happened.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createEngine, type Engine } from '../dist/index.js';
import { type BuiltCase, buildCase, type CaseSpec, makeInput, opOf } from './case.js';
import { describeError, type FileState, type Finding, judgeError, judgeFiles, listTree, sha256Of } from './checks.js';
import { generateSeeds, loadCorpus } from './corpus.js';
import { MUTATOR_NAMES, type MutatorName, type SeedFile } from './mutators.js';
import { OP_NAMES, type OpName } from './ops.js';

export interface FuzzConfig {
  seed: number;
  /** First case index and how many cases (ignored when `only` is given). */
  start: number;
  cases: number;
  /** Exactly these cases (replay, or a restart after a crash). */
  only?: Array<{ index: number; op: OpName }>;
  ops: readonly OpName[];
  mutators: readonly MutatorName[];
  /** Corpus folder; without it only the generated seeds are used. */
  corpus: string | null;
  /**
   * Corpus files to leave out, by path prefix: a case is drawn from the corpus by index, so a
   * finding recorded before a fixture was added replays only on the corpus as it was then.
   */
  corpusExclude?: readonly string[];
  workers: number;
  concurrency: number;
  /** `limits.timeoutMs` of every job of a case. */
  timeoutMs: number;
  /** Wall time a whole call may take before it counts as hung (default: max(60 s, 12 × timeoutMs)). */
  hangMs: number | null;
  /**
   * Memory one case may add to the process, MiB (default 512: the engine's budget for one job at
   * default limits). A case is flagged when RSS rises more than this plus 128 MiB while it runs,
   * or when RSS passes the process bound: RSS after setup plus this per lane plus 256 MiB.
   */
  jobBudgetMb: number;
  /** Keep the temporary root (case folders of findings are kept anyway when `saveFindings`). */
  keep: boolean;
  /** Folder to write each finding's input and record to. */
  saveFindings: string | null;
  /** The temporary root, as soon as it exists (a supervisor removes it if the process dies). */
  onRoot?: (root: string) => void;
  /** Setup is done (engine, seeds): cases start now. */
  onReady?: (setupSeconds: number) => void;
  onStart?: (spec: CaseSpec) => void;
  onRecord?: (record: CaseRecord) => void;
  log?: (line: string) => void;
}

export const DEFAULT_CONFIG: FuzzConfig = {
  seed: 1,
  start: 0,
  cases: 200,
  ops: OP_NAMES,
  mutators: MUTATOR_NAMES,
  corpus: 'test/fixtures',
  workers: 2,
  concurrency: 2,
  timeoutMs: 15_000,
  hangMs: null,
  jobBudgetMb: 512,
  keep: false,
  saveFindings: null,
};

export interface CaseRecord extends CaseSpec {
  /** `ok`, an error code, or `non-sandcodec`. */
  outcome: string;
  message?: string;
  log?: string[];
  elapsedMs: number;
  rssPeakMb: number;
  findings: Finding[];
}

export interface SeedInfo {
  id: string;
  kind: string;
  format: string;
  size: number;
  sha256: string;
}

export interface RunResult {
  config: Omit<FuzzConfig, 'onRoot' | 'onReady' | 'onStart' | 'onRecord' | 'log'>;
  seeds: SeedInfo[];
  records: CaseRecord[];
  /** Findings not tied to one case (the final pool check, the process-wide spool). */
  runFindings: Finding[];
  setupSeconds: number;
  runSeconds: number;
  rss: { baselineMb: number; boundMb: number; peakMb: number };
}

const MiB = 1024 ** 2;
/**
 * Main-thread memory a case may use besides its job: the mutated input (at most 24 MiB) copied
 * into shared memory, a spooled stream's buffers, outputs returned as bytes.
 */
const CASE_SLACK = 128 * MiB;
/** Besides the lanes' jobs: V8's heap growing over a run, the compiled core's code. */
const PROCESS_SLACK = 256 * MiB;
/** Wall time a whole call may take before it counts as hung: normalize runs a dozen jobs. */
const HANG_FACTOR = 12;
const SETTLE_AFTER_ABORT_MS = 15_000;

/** Samples RSS (worker threads share the process) while any case runs. */
class RssMonitor {
  private readonly active = new Map<string, { start: number; peak: number; lanes: number }>();
  private timer: NodeJS.Timeout | undefined;
  peak = 0;

  begin(id: string): void {
    const rss = this.sample();
    this.active.set(id, { start: rss, peak: rss, lanes: 1 });
    this.timer ??= setInterval(() => this.sample(), 20);
    this.timer.unref();
  }

  /** RSS at the case's start, its peak while it ran, and how many cases ran at that peak. */
  end(id: string): { start: number; peak: number; lanes: number } {
    this.sample();
    const r = this.active.get(id) ?? { start: 0, peak: 0, lanes: 1 };
    this.active.delete(id);
    if (this.active.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return r;
  }

  private sample(): number {
    const rss = process.memoryUsage.rss();
    this.peak = Math.max(this.peak, rss);
    for (const r of this.active.values()) {
      if (rss > r.peak) {
        r.peak = rss;
        r.lanes = this.active.size;
      }
    }
    return rss;
  }
}

interface Context {
  config: FuzzConfig;
  engine: Engine;
  seeds: SeedFile[];
  good: Uint8Array;
  root: string;
  globalSpool: string;
  monitor: RssMonitor;
  boundBytes: number;
  /** Findings raised by the process while a case ran (uncaught errors), by case id. */
  escaped: Map<string, Finding[]>;
  /** Cases running now. */
  inFlight: number;
}

export async function runFuzz(config: FuzzConfig): Promise<RunResult> {
  const log = config.log ?? (() => {});
  const setupStarted = performance.now();
  const previousTmpdir = process.env.TMPDIR;
  const root = await mkdtemp(join(tmpdir(), 'sandcodec-fuzz-'));
  config.onRoot?.(root);
  const globalSpool = join(root, 'spool');
  await mkdir(globalSpool);
  // Everything the engine puts in the temporary folder outside a case's own spool lands here.
  process.env.TMPDIR = globalSpool;
  const escaped = new Map<string, Finding[]>();
  const runFindings: Finding[] = [];
  const onEscape = (err: unknown) => {
    const finding: Finding = { kind: 'uncaught', detail: describeError(err).message };
    if (escaped.size === 0) runFindings.push(finding);
    for (const list of escaped.values()) list.push(finding);
  };
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  let engine: Engine | undefined;
  try {
    engine = await createEngine({ workers: config.workers, spoolDir: globalSpool });
    const exclude = config.corpusExclude ?? [];
    const corpus = (config.corpus ? await loadCorpus(config.corpus) : []).filter((s) => !exclude.some((prefix) => s.id.startsWith(prefix)));
    const generated = await generateSeeds(engine, join(root, 'generated'));
    const seeds = [...corpus, ...generated];
    const good = generated.find((s) => s.id === 'generated/sine.wav')!.bytes;
    log(`seeds: ${corpus.length} from ${config.corpus ?? '(no corpus)'}, ${generated.length} generated`);
    const monitor = new RssMonitor();
    const baseline = process.memoryUsage.rss();
    const boundBytes = baseline + config.concurrency * config.jobBudgetMb * MiB + PROCESS_SLACK;
    const ctx: Context = { config, engine, seeds, good, root, globalSpool, monitor, boundBytes, escaped, inFlight: 0 };
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    config.onReady?.(setupSeconds);

    const queue =
      config.only ?? Array.from({ length: config.cases }, (_, i) => ({ index: config.start + i, op: opOf(config.seed, config.start + i, config.ops) }));
    const records: CaseRecord[] = [];
    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < queue.length) {
        const item = queue[next++]!;
        const record = await runCase(ctx, item.index, item.op);
        records.push(record);
        config.onRecord?.(record);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, config.concurrency) }, lane));
    const runSeconds = (performance.now() - started) / 1000;

    // Every worker must still serve at the end.
    const finals = await Promise.allSettled(Array.from({ length: config.workers }, () => engine!.probe(good, { decode: true })));
    for (const f of finals) if (f.status === 'rejected') runFindings.push({ kind: 'pool-broken', detail: `final check: ${describeError(f.reason).message}` });
    const stray = await listTree(globalSpool);
    if (stray.length > 0) runFindings.push({ kind: 'leftover-spool', detail: `outside any case's spool: ${stray.slice(0, 6).join(', ')}` });

    records.sort((a, b) => a.index - b.index);
    return {
      config: stripHooks(config),
      seeds: seeds.map((s) => ({ id: s.id, kind: s.kind, format: s.layout.format, size: s.bytes.byteLength, sha256: s.sha256 })),
      records,
      runFindings,
      setupSeconds,
      runSeconds,
      rss: { baselineMb: baseline / MiB, boundMb: boundBytes / MiB, peakMb: monitor.peak / MiB },
    };
  } finally {
    await engine?.close();
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
    if (!config.keep) await rm(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  }
}

function stripHooks(config: FuzzConfig): RunResult['config'] {
  const { onRoot: _o, onReady: _y, onStart: _s, onRecord: _r, log: _l, ...rest } = config;
  return rest;
}

/** Runs `start` with `os.tmpdir()` pointing at `dir`: the engine picks its spool folder synchronously as the call starts. */
function withTmpdir<T>(dir: string, start: () => Promise<T>): Promise<T> {
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return start();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
}

type Settled = { ok: true; files: string[] } | { ok: false; error: unknown };

async function runCase(ctx: Context, index: number, op: OpName): Promise<CaseRecord> {
  const { config, engine } = ctx;
  const caseDir = join(ctx.root, 'cases', `${config.seed}-${index}`);
  const dirs = { input: join(caseDir, 'in'), out: join(caseDir, 'out'), spool: join(caseDir, 'spool') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true });
  const built = buildCase(config.seed, index, op, { corpus: ctx.seeds, mutators: config.mutators, timeoutMs: config.timeoutMs, outDir: dirs.out });
  const { spec } = built;
  config.onStart?.(spec);

  const state = await placeUserFiles(built, dirs.out);
  const inputPath = join(dirs.input, spec.input.name ?? 'input');
  if (spec.input.form === 'path') await writeFile(inputPath, built.bytes);
  const inputHash = spec.input.form === 'path' ? await sha256Of(inputPath) : undefined;

  const findings: Finding[] = [];
  ctx.inFlight++;
  ctx.escaped.set(spec.id, findings);
  ctx.monitor.begin(spec.id);
  const controller = new AbortController();
  const startedAt = performance.now();
  // Whether the caller's abort really fired: timers run on the event loop's coarser clock, so
  // comparing times could take a fired abort for one that had not.
  let callerAborted = false;
  const callerAbort =
    spec.abortAfterMs === null
      ? undefined
      : setTimeout(() => {
          callerAborted = true;
          controller.abort();
        }, spec.abortAfterMs);
  const settled: Promise<Settled> = withTmpdir(dirs.spool, () =>
    built.plan.run(engine, makeInput(spec, built.bytes, inputPath), { limits: spec.limits, signal: controller.signal }),
  ).then(
    (files) => ({ ok: true, files }),
    (error: unknown) => ({ ok: false, error }),
  );
  const hangMs = config.hangMs ?? Math.max(60_000, config.timeoutMs * HANG_FACTOR);
  let result = await within(settled, hangMs);
  let aborted = false;
  if (!result) {
    aborted = true;
    findings.push({ kind: 'hang', detail: `the call had not settled after ${hangMs / 1000} s; aborted` });
    controller.abort();
    result = await within(settled, SETTLE_AFTER_ABORT_MS);
    if (!result) findings.push({ kind: 'hang', detail: `the call did not settle ${SETTLE_AFTER_ABORT_MS / 1000} s after its abort` });
  }
  const elapsedMs = performance.now() - startedAt;
  clearTimeout(callerAbort);
  const rss = ctx.monitor.end(spec.id);
  ctx.escaped.delete(spec.id);

  const ok = result?.ok === true;
  const error = result && !result.ok ? describeError(result.error) : undefined;
  if (result && !result.ok) findings.push(...judgeError(spec, result.error, elapsedMs, aborted || callerAborted));
  findings.push(...(await judgeFiles(state, ok, result?.ok ? result.files : [])));
  const settledTree = await listTree(dirs.out);
  const spooled = await listTree(dirs.spool);
  if (spooled.length > 0)
    findings.push({ kind: 'leftover-spool', detail: `${spooled.length} entr${spooled.length === 1 ? 'y' : 'ies'}: ${spooled.slice(0, 4).join(', ')}` });
  // Every lane spools into the engine's one spool folder: it is judged (and cleared) only when no
  // other case is in flight, so a neighbour's live spool is never taken for a leftover.
  ctx.inFlight--;
  const stray = ctx.inFlight === 0 ? await listTree(ctx.globalSpool) : [];
  if (stray.length > 0) {
    findings.push({ kind: 'leftover-spool', detail: `in the engine's spool folder: ${stray.slice(0, 4).join(', ')}` });
    await rm(ctx.globalSpool, { recursive: true, force: true });
    await mkdir(ctx.globalSpool);
  }
  if (inputHash !== undefined && (await sha256Of(inputPath)) !== inputHash)
    findings.push({ kind: 'input-modified', detail: 'the input file changed or vanished' });
  const allowance = config.jobBudgetMb * MiB + CASE_SLACK;
  const lanes = rss.lanes > 1 ? `; ${rss.lanes} cases ran at once, replay alone to confirm` : '';
  if (rss.peak - rss.start > allowance) {
    findings.push({
      kind: 'rss',
      detail: `RSS rose by ${mib(rss.peak - rss.start)} MiB during the case, more than ${mib(allowance)} (from ${mib(rss.start)} to ${mib(rss.peak)} MiB${lanes})`,
    });
  } else if (rss.peak > ctx.boundBytes && rss.start <= ctx.boundBytes) {
    findings.push({ kind: 'rss', detail: `RSS reached ${mib(rss.peak)} MiB, past the process bound of ${mib(ctx.boundBytes)} MiB${lanes}` });
  }
  if (!ok) {
    // A worker may have died with the job: the pool must still serve a known-good one.
    try {
      await ctx.engine.probe(ctx.good, { decode: true });
    } catch (err) {
      findings.push({ kind: 'pool-broken', detail: `a known-good probe failed after this case: ${describeError(err).message}` });
    }
  }
  // A job that goes on writing after its call settled (a worker not yet stopped) leaves files late.
  const before = new Set(settledTree);
  const late = [...(await listTree(dirs.out)), ...(await listTree(dirs.spool))].filter((e) => !before.has(e) && !spooled.includes(e));
  if (late.length > 0) findings.push({ kind: 'leftover-output', detail: `appeared after the call settled: ${late.slice(0, 4).join(', ')}` });

  const record: CaseRecord = {
    ...spec,
    outcome: ok ? 'ok' : result ? error!.outcome : 'hung',
    ...(error ? { message: error.message } : {}),
    ...(error?.log ? { log: error.log } : {}),
    elapsedMs: Math.round(elapsedMs),
    rssPeakMb: Math.round(rss.peak / MiB),
    findings,
  };
  if (findings.length > 0 && config.saveFindings) await saveFinding(config.saveFindings, record, built);
  if (!config.keep) await rm(caseDir, { recursive: true, force: true });
  return record;
}

/** A user's file beside the outputs, always; one at the destination, when the case says so. */
async function placeUserFiles(built: BuiltCase, out: string): Promise<FileState> {
  const state: FileState = { out, userFiles: new Map() };
  const place = async (path: string, where: string) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `a file of the caller's ${where}, before ${built.spec.id}\n`);
    state.userFiles.set(path, { hash: (await sha256Of(path))!, where });
  };
  await place(join(out, 'user-file.txt'), 'beside the outputs');
  const dest = built.plan.destination;
  if (dest && built.spec.occupied) {
    if (dest.type === 'file') await place(dest.path, 'at the output path');
    else await place(join(dest.path, 'user-file.txt'), 'inside the output folder');
  }
  return state;
}

async function saveFinding(dir: string, record: CaseRecord, built: BuiltCase): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${record.id}.${built.seedFile.ext || 'bin'}`), built.bytes);
  await writeFile(join(dir, `${record.id}.json`), `${JSON.stringify(record, null, 2)}\n`);
}

function mib(bytes: number): number {
  return Math.round(bytes / MiB);
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}
