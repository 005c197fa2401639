#!/usr/bin/env node
// The engine benchmark: realtime factor per preset (and native FFmpeg with the same settings when
// it is on PATH), one ladder vs separate transcodes, pool throughput with 1 and 2 workers, per-job
// overhead, cold start and abort latency. Prints markdown and writes it into BENCHMARKS.md.
// Usage: npm run bench            (builds first; node --expose-gc bench/run.js)
//        node bench/run.js --quick   (fewer samples and a shorter source, to check the script)
//        node bench/run.js --no-write   (print only)
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AUDIO_PRESET_NAMES, createEngine } from '../dist/index.js';
import { describeMachine, loadAverage, nativeFfmpegVersion } from './engine/machine.js';
import { setDeadline } from './engine/measure.js';
import { threadScaling } from './engine/parallel.js';
import { ms, table, verdict, writeEngineSection, x } from './engine/report.js';
import { abortLatency, ladderVsSeparate, perJobOverhead, poolThroughput, realtimePerPreset } from './engine/suites.js';

const quick = process.argv.includes('--quick');
const write = !process.argv.includes('--no-write');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const TARGET_OVERHEAD_MS = 30;
const TARGET_POOL_RATIO = 1.8;
const SECONDS = quick ? 5 : 30;
// Medium jobs: long enough that the work dominates, short enough for several batches per size.
// 16 jobs: a batch ends with at most one job running alone, a small share of the batch.
const POOL = { jobs: quick ? 4 : 16, preset: 'aac-128', seconds: quick ? 3 : 10, rounds: quick ? 1 : 4 };

const log = (line) => process.stderr.write(`${line}\n`);
const startedAt = new Date();
const started = performance.now();
// On a busy machine the runs slow down; past this point each measurement keeps only its minimum
// number of runs so that the whole benchmark still ends within minutes.
setDeadline(started + (quick ? 60_000 : 6 * 60_000));
const loadBefore = loadAverage();
const machine = describeMachine();
const nativeVersion = nativeFfmpegVersion();

const dir = await mkdtemp(join(tmpdir(), 'sandcodec-bench-'));
const createStarted = performance.now();
const engine = await createEngine({ workers: 1 });
// The first engine of the process compiles the 32 MB core; later engines reuse the module.
const firstCreateMs = performance.now() - createStarted;
const failures = [];
const sections = [];

async function section(title, fn) {
  log(`\n${title}`);
  try {
    sections.push(`### ${title}\n\n${(await fn()).trim()}\n`);
  } catch (err) {
    failures.push(`${title}: ${err?.stack ?? err}`);
    sections.push(`### ${title}\n\nFailed: \`${String(err?.message ?? err).split('\n')[0]}\`\n`);
    log(`  failed: ${err?.stack ?? err}`);
  }
}

try {
  log(`generating ${SECONDS} s and ${POOL.seconds} s music sources and a 0.1 s wav…`);
  const source = join(dir, 'music.flac');
  await engine.generate({ kind: 'music', seconds: SECONDS, preset: 'flac', output: source });
  const poolSource = join(dir, 'music-pool.flac');
  await engine.generate({ kind: 'music', seconds: POOL.seconds, preset: 'flac', output: poolSource });
  const tinyPath = join(dir, 'tiny.wav');
  const tiny = (await engine.generate({ kind: 'sine', seconds: 0.1, preset: 'wav' })).bytes;
  await writeFile(tinyPath, tiny);
  const probe = await engine.probe({ path: source });
  const audio = probe.streams.find((s) => s.type === 'audio');

  const ctx = {
    engine,
    dir,
    source,
    seconds: SECONDS,
    audio,
    tiny,
    tinyPath,
    quick,
    native: Boolean(nativeVersion),
    log,
    budget: quick
      ? { preset: { min: 1, max: 1 }, native: { min: 1, max: 1 }, ladder: { min: 1, max: 1 } }
      : {
          preset: { min: 1, max: 3, budgetMs: 15_000 },
          native: { min: 1, max: 3, budgetMs: 8_000 },
          ladder: { min: 2, max: 3, budgetMs: 90_000 },
        },
  };

  await section(`Realtime factor per preset (${SECONDS} s generated music, FLAC 44.1 kHz stereo → file)`, async () => {
    const perPreset = await realtimePerPreset(ctx);
    const header = ['preset', 'sandcodec wall ms', 'encode job ms', '× realtime', 'n'];
    if (ctx.native) header.push('native ffmpeg ms', 'n', 'sandcodec / native');
    const rows = perPreset.map((r) => {
      const cells = [r.preset, ms(r.wallMs), ms(r.jobMs), x(r.realtime, 1), String(r.n)];
      if (ctx.native) cells.push(ms(r.nativeMs), String(r.nativeN), x(r.wallMs / r.nativeMs));
      return cells;
    });
    const note = ctx.native
      ? `Native: \`${nativeVersion}\`, spawned per run with the engine's encoder arguments, \`-threads 1 -filter_threads 1\` (one engine worker is one thread). Both columns are wall time from the call to the file on disk, the native one including process start.`
      : 'native ffmpeg not on PATH: no native comparison in this run.';
    return `${table(header, rows)}\n\n"sandcodec wall" is \`transcode()\` end to end (probe job + encode job + I/O); "encode job" is the result's \`elapsedMs\`. ${note}`;
  });

  await section('One ladder of every preset vs separate transcodes', async () => {
    const r = await ladderVsSeparate(ctx);
    const count = AUDIO_PRESET_NAMES.length;
    const rows = [
      [`ladder(source, [${count} presets]), one call`, ms(r.ladderMs), String(r.n)],
      [`${count} × transcode(source, preset), one after another`, ms(r.separateMs), String(r.n)],
    ];
    return `${table([`run (${SECONDS} s source → files, 1 worker)`, 'wall ms', 'n'], rows)}\n\nSeparate / ladder: **${x(r.ratio)}** (median of the per-iteration ratios; the two runs alternate so that both see the same load). The ladder saves ${count - 1} probes and ${count - 1} decodes of the source; the encoders' work is the same.`;
  });

  await section(
    `Pool throughput: ${POOL.jobs} × ${POOL.preset} of a ${POOL.seconds} s music FLAC submitted at once, 1- and 2-worker pools in alternation`,
    async () => {
      const pool = { ...POOL, source: poolSource };
      const before = await threadScaling(quick ? 10_000_000 : undefined);
      const { one, two, ratio, native } = await poolThroughput(ctx, pool);
      log(`  1 worker: ${one.jobsPerSecond.toFixed(3)} jobs/s; 2 workers: ${two.jobsPerSecond.toFixed(3)} jobs/s`);
      const after = await threadScaling(quick ? 10_000_000 : undefined);
      log(`  plain JS loop, 2 vs 1 threads: ${before.ratio.toFixed(2)}× before, ${after.ratio.toFixed(2)}× after`);
      const rows = [one, two].map((r) => [
        `${r.workers} worker${r.workers > 1 ? 's' : ''}`,
        ms(r.wallMs),
        r.jobsPerSecond.toFixed(3),
        ms(r.cpuMsPerJob),
        r.busyThreads.toFixed(2),
        String(r.n),
      ]);
      const nativeNote = native
        ? `Native FFmpeg, the same ${POOL.jobs} jobs as single-threaded processes, one at a time vs two at a time (alternating too): ${ms(native.oneMs)} ms vs ${ms(native.twoMs)} ms, **${x(native.ratio)}** — what this machine gives this workload outside the engine.`
        : 'native ffmpeg not on PATH: no native 2-vs-1 reference in this run.';
      return [
        table(['pool', 'batch wall ms', 'jobs/s', 'CPU ms per job', 'threads busy (CPU / wall)', 'rounds'], rows),
        '',
        `2 vs 1 workers: **${x(ratio)}** (median of the rounds' ratios; target ≥ ${TARGET_POOL_RATIO}×: ${verdict(ratio >= TARGET_POOL_RATIO)}).`,
        '',
        `References in the same run. ${nativeNote} A plain JavaScript loop in 2 threads vs 1 did ${x(before.ratio)} the work per second just before the pool batches and ${x(after.ratio)} just after (2.00× on ${machine.cores} idle cores). "Threads busy" is the process's CPU time over the batch's wall time: about 2 when both workers really ran at once; "CPU ms per job" staying flat from 1 to 2 workers means the jobs did not get more expensive by sharing the pool.`,
      ].join('\n');
    },
  );

  await section('Per-job overhead (0.1 s wav → wav, tinybench)', async () => {
    const { rows, cold, coldErrors } = await perJobOverhead(ctx);
    const body = rows.map((r) => (r.error ? [r.name, 'failed', r.error, '', ''] : [r.name, ms(r.medianMs), ms(r.meanMs), ms(r.p99Ms), String(r.n)]));
    const warm = rows[0];
    const coldRows = [
      ['first createEngine() of the process (compile core, start pool), 1 run', ms(firstCreateMs)],
      ['later createEngine({ workers: 1 }) (module cached, start pool)', ms(cold.createMs)],
      ['its first transcode (worker start + core instantiate + 2 jobs)', ms(cold.firstMs)],
      ['its second transcode (warm)', ms(cold.secondMs)],
    ];
    return [
      table(['call', 'median ms', 'mean ms', 'p99 ms', 'samples'], body),
      '',
      `Warm path target ≤ ${TARGET_OVERHEAD_MS} ms: ${warm.error ? 'not measured' : `${ms(warm.medianMs)} ms, ${verdict(warm.medianMs <= TARGET_OVERHEAD_MS)}`}. A transcode is two jobs (probe, then encode); \`probe\` alone is one.`,
      '',
      `Cold path (median of ${cold.n} fresh engines):`,
      '',
      table(['step', 'median ms'], coldRows),
      '',
      ...(coldErrors.length ? ['', `${coldErrors.length} of ${cold.n + coldErrors.length} cold starts failed: \`${coldErrors[0]}\``] : []),
    ].join('\n');
  });

  await section('Abort latency (abort() on a running encode → promise settled)', async () => {
    const runs = quick ? 2 : 5;
    const r = await abortLatency(ctx, { runs, preset: 'aac-128', delayMs: quick ? 150 : 500 });
    return `${table(['job', 'median ms', 'max ms', 'aborted runs', 'outcomes'], [[`transcode ${SECONDS} s → aac-128`, ms(r.medianMs), ms(r.maxMs), `${r.measured}/${r.runs}`, r.outcomes.join(', ')]])}\n\nAbort is raised ${quick ? 150 : 500} ms after the call reports its probe done, i.e. while the encode job runs.`;
  });
} finally {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}

const totalS = (performance.now() - started) / 1000;
const header = [
  `Run ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench\`${quick ? ' (--quick)' : ''}, ${totalS.toFixed(0)} s in all.`,
  '',
  table(
    ['machine', ''],
    [
      ['CPU', machine.cpu],
      ['cores (nproc)', String(machine.cores)],
      ['RAM', `${machine.ramGiB} GiB`],
      ['Node', `${machine.node} (${machine.platform})`],
      ['native ffmpeg', nativeVersion ?? 'native ffmpeg not on PATH'],
      ['load average 1/5/15 min, start → end', `${loadBefore} → ${loadAverage()}`],
    ],
  ),
  '',
  'Times are medians of n wall-clock runs unless stated; the number of runs adapts to a time budget so the whole benchmark stays within minutes. Load averages above 2 mean other work shared the 2 cores during the run.',
].join('\n');

const markdown = [header, ...sections].join('\n\n');
process.stdout.write(`\n${markdown}\n`);
if (write && !quick) {
  writeEngineSection(join(root, 'BENCHMARKS.md'), markdown);
  log('\nwrote the Engine section of BENCHMARKS.md');
}
if (failures.length) {
  log(`\n${failures.length} section(s) failed`);
  process.exitCode = 1;
}
