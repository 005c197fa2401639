#!/usr/bin/env node
/**
 * `npm run fuzz -- --seed S --cases N [--ops a,b] [--corpus DIR] …` and `--replay CASE_ID`.
 *
 * A supervisor process forks the runner and follows its cases over IPC. If the runner process
 * dies (a fatal OOM, an abort in native code: the host crash the engine promises never to cause),
 * the cases it was running are recorded as `host-crash` findings and a fresh runner carries on
 * with the cases left. A replay runs in this process, alone, and prints everything about its case.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CaseSpec, opOf, parseCaseId } from './case.js';
import { MUTATOR_NAMES, type MutatorName } from './mutators.js';
import { OP_NAMES, type OpName } from './ops.js';
import { humanReport, summarize } from './report.js';
import { type CaseRecord, DEFAULT_CONFIG, type FuzzConfig, type RunResult, runFuzz } from './runner.js';

const USAGE = `usage: npm run fuzz -- [options]
  --seed N            run seed (default 1); every case is a function of (seed, index, op)
  --cases N           number of cases (default 200)
  --start N           first case index (default 0)
  --ops a,b           operations to drive (default all: ${OP_NAMES.join(', ')})
  --mutators a,b      mutators to use (default all: ${MUTATOR_NAMES.join(', ')})
  --corpus DIR        seed files (default test/fixtures; 'none': generated seeds only)
  --corpus-exclude P  leave out corpus files whose path starts with P (comma-separated): replays a
                      case recorded before those fixtures were added
  --workers N         engine worker threads (default 2)
  --concurrency N     cases running at once (default: workers)
  --timeout-ms N      limits.timeoutMs of each job of a case (default 15000)
  --hang-ms N         wall time of a whole call before it counts as hung (default max(60000, 12 × timeout))
  --job-budget-mb N   memory one case may add (default 512, the engine's per-job budget);
                      the process bound is RSS after setup + this per lane + 256 MiB
  --report FILE       JSON summary (default fuzz-report.json)
  --save-findings DIR write each finding's input and case record there
  --keep              keep the temporary root
  --replay ID         run one case alone (same --corpus), e.g. --replay 7-42-transcode
  --quiet             no line per case`;

interface Cli {
  config: FuzzConfig;
  report: string;
  replay: string | null;
  quiet: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Cli {
  const config: FuzzConfig = { ...DEFAULT_CONFIG };
  let report = 'fuzz-report.json';
  let replay: string | null = null;
  let quiet = false;
  let concurrency: number | undefined;
  const int = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag}: expected an integer of at least ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
  const list = <T extends string>(flag: string, value: string | undefined, known: readonly T[]): T[] => {
    const items = (value ?? '').split(',').filter(Boolean);
    const bad = items.filter((i) => !known.includes(i as T));
    if (items.length === 0 || bad.length > 0) throw new UsageError(`${flag}: unknown ${bad.join(', ') || '(empty)'} (known: ${known.join(', ')})`);
    return items as T[];
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const takes = () => {
      if (value === undefined) throw new UsageError(`${flag}: missing value`);
      i++;
      return value;
    };
    switch (flag) {
      case '--seed':
        config.seed = int(flag, takes(), 0);
        break;
      case '--cases':
        config.cases = int(flag, takes(), 1);
        break;
      case '--start':
        config.start = int(flag, takes(), 0);
        break;
      case '--ops':
        config.ops = list<OpName>(flag, takes(), OP_NAMES);
        break;
      case '--mutators':
        config.mutators = list<MutatorName>(flag, takes(), MUTATOR_NAMES);
        break;
      case '--corpus': {
        const dir = takes();
        config.corpus = dir === 'none' ? null : dir;
        break;
      }
      case '--corpus-exclude':
        config.corpusExclude = takes()
          .split(',')
          .filter((p) => p !== '');
        break;
      case '--workers':
        config.workers = int(flag, takes(), 1);
        break;
      case '--concurrency':
        concurrency = int(flag, takes(), 1);
        break;
      case '--timeout-ms':
        config.timeoutMs = int(flag, takes(), 1);
        break;
      case '--hang-ms':
        config.hangMs = int(flag, takes(), 1);
        break;
      case '--job-budget-mb':
        config.jobBudgetMb = int(flag, takes(), 1);
        break;
      case '--report':
        report = takes();
        break;
      case '--save-findings':
        config.saveFindings = takes();
        break;
      case '--keep':
        config.keep = true;
        break;
      case '--replay':
        replay = takes();
        try {
          parseCaseId(replay);
        } catch (err) {
          throw new UsageError(`--replay: ${(err as Error).message}`);
        }
        break;
      case '--quiet':
        quiet = true;
        break;
      case '--help':
      case '-h':
        throw new UsageError('');
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  config.concurrency = concurrency ?? config.workers;
  if (config.corpus !== null) {
    if (!existsSync(config.corpus)) {
      process.stderr.write(`fuzz: no corpus at ${config.corpus}: using generated seeds only\n`);
      config.corpus = null;
    } else {
      config.corpus = resolve(config.corpus);
    }
  }
  return { config, report, replay, quiet };
}

/** The command that rebuilds one case: the corpus and the mutator set decide what a case draws. */
function replayCommand(config: FuzzConfig): string {
  const mutators = config.mutators.length === MUTATOR_NAMES.length ? '' : ` --mutators ${config.mutators.join(',')}`;
  const exclude = config.corpusExclude?.length ? ` --corpus-exclude ${config.corpusExclude.join(',')}` : '';
  return `npm run fuzz -- --corpus ${config.corpus ?? 'none'}${exclude}${mutators} --timeout-ms ${config.timeoutMs} --replay ID`;
}

/** Replays one case alone, under the supervisor too (a case that kills its process is reported, not lost). */
async function replayOne(cli: Cli): Promise<number> {
  const { seed, index, op } = parseCaseId(cli.replay!);
  const config: FuzzConfig = { ...cli.config, seed, only: [{ index, op }], concurrency: 1 };
  const run = await supervise(config, false);
  const record = run.records[0];
  if (!record) throw new Error('the replay produced no record');
  const seedInfo = run.seeds.find((s) => s.id === record.source);
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  if (seedInfo && seedInfo.sha256 !== record.sourceSha256) process.stdout.write('warning: the seed file differs from the one recorded\n');
  process.stdout.write(record.findings.length ? `${record.findings.length} finding(s)\n` : 'no findings\n');
  return record.findings.length + run.runFindings.length > 0 ? 1 : 0;
}

async function fuzz(cli: Cli): Promise<number> {
  const run = await supervise(cli.config, !cli.quiet);
  const summary = summarize(run, replayCommand(cli.config));
  await writeFile(cli.report, `${JSON.stringify({ ...summary, records: run.records }, null, 1)}\n`);
  process.stdout.write(`${humanReport(summary)}\nJSON summary: ${cli.report}\n`);
  return summary.findings.length + summary.runFindings.length > 0 ? 1 : 0;
}

type ChildMessage =
  | { type: 'root'; path: string }
  | { type: 'ready'; setupSeconds: number }
  | { type: 'start'; spec: CaseSpec }
  | { type: 'record'; record: CaseRecord }
  | { type: 'done'; result: Omit<RunResult, 'records'> }
  | { type: 'log'; line: string };

/**
 * Runs the cases in child processes, restarting after a crash with the cases not yet run. Case
 * time is measured here, from each runner's setup to its exit, so a crash does not lose it.
 */
async function supervise(config: FuzzConfig, verbose: boolean): Promise<RunResult> {
  const pending = new Map<number, OpName>();
  for (const item of config.only ??
    Array.from({ length: config.cases }, (_, i) => ({ index: config.start + i, op: opOf(config.seed, config.start + i, config.ops) }))) {
    pending.set(item.index, item.op);
  }
  const total = pending.size;
  const records: CaseRecord[] = [];
  let last: Omit<RunResult, 'records'> | undefined;
  let runSeconds = 0;
  let setupSeconds = 0;
  const self = fileURLToPath(import.meta.url);
  for (let restarts = 0; pending.size > 0 && restarts <= 50; restarts++) {
    const only = [...pending].map(([index, op]) => ({ index, op }));
    const running = new Map<number, CaseSpec>();
    let root: string | undefined;
    let readyAt: number | undefined;
    const child: ChildProcess = fork(self, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    const exit = new Promise<{ code: number | null; signal: string | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'root') root = m.path;
      else if (m.type === 'ready') {
        readyAt = performance.now();
        setupSeconds += m.setupSeconds;
      } else if (m.type === 'start') running.set(m.spec.index, m.spec);
      else if (m.type === 'record') {
        running.delete(m.record.index);
        pending.delete(m.record.index);
        records.push(m.record);
        if (verbose) progress(m.record, records.length, total);
      } else if (m.type === 'done') {
        last = m.result;
        if (readyAt !== undefined) runSeconds += (performance.now() - readyAt) / 1000;
        readyAt = undefined;
      } else if (m.type === 'log') process.stderr.write(`${m.line}\n`);
    });
    const { onRoot: _o, onReady: _y, onStart: _s, onRecord: _r, log: _l, ...plain } = config;
    child.send({ config: { ...plain, only } });
    const { code, signal } = await exit;
    if (code === 0 && running.size === 0) continue;
    if (readyAt !== undefined) runSeconds += (performance.now() - readyAt) / 1000;
    // A runner that died could not clean up after itself.
    if (root && !config.keep) await rm(root, { recursive: true, force: true });
    const ids = [...running.values()].map((s) => s.id);
    process.stderr.write(`fuzz: the runner process exited (code ${code}, signal ${signal}) while running ${ids.join(', ') || 'no case'}\n`);
    for (const [index, spec] of running) {
      pending.delete(index);
      const detail = `the process exited (code ${code}, signal ${signal}) while this case ran${running.size > 1 ? ` (with ${ids.length - 1} other)` : ''}`;
      records.push({ ...spec, outcome: 'host-crash', elapsedMs: 0, rssPeakMb: 0, findings: [{ kind: 'host-crash', detail }] });
    }
    if (running.size === 0) break; // died outside any case: setup is broken, do not loop
  }
  records.sort((a, b) => a.index - b.index);
  return {
    config: last?.config ?? config,
    seeds: last?.seeds ?? [],
    records,
    runFindings: last?.runFindings ?? [{ kind: 'host-crash', detail: 'no runner finished its run' }],
    setupSeconds,
    runSeconds,
    rss: last?.rss ?? { baselineMb: 0, boundMb: 0, peakMb: 0 },
  };
}

function progress(r: CaseRecord, n: number, total: number): void {
  const flag = r.findings.length ? `  ← ${r.findings.map((f) => f.kind).join(', ')}` : '';
  process.stderr.write(`[${n}/${total}] ${r.id} ${r.mutator} ${r.source} → ${r.outcome} ${r.elapsedMs} ms${flag}\n`);
}

/** The runner side of the supervisor: runs what it is sent and reports each case as it goes. */
async function child(): Promise<void> {
  const message = await new Promise<{ config: FuzzConfig }>((done) => process.once('message', (m) => done(m as { config: FuzzConfig })));
  const send = (m: ChildMessage) => process.send?.(m);
  const result = await runFuzz({
    ...message.config,
    onRoot: (path) => send({ type: 'root', path }),
    onReady: (setupSeconds) => send({ type: 'ready', setupSeconds }),
    onStart: (spec) => send({ type: 'start', spec }),
    onRecord: (record) => send({ type: 'record', record }),
    log: (line) => send({ type: 'log', line }),
  });
  const { records: _records, ...rest } = result;
  // Sent before the channel closes: a disconnect right after an unsent message can drop it.
  await new Promise<void>((sent) => (process.send ? process.send({ type: 'done', result: rest } satisfies ChildMessage, undefined, {}, () => sent()) : sent()));
  process.disconnect?.();
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    await child();
    return 0;
  }
  let cli: Cli;
  try {
    cli = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message ? `fuzz: ${err.message}\n` : ''}${USAGE}\n`);
    return err.message ? 2 : 0;
  }
  return cli.replay ? replayOne(cli) : fuzz(cli);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fuzz: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 3;
  },
);
