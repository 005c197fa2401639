// The engine's benchmark suites. Each takes the run's context and returns its rows of numbers;
// formatting is left to run.js.
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { AUDIO_PRESET_NAMES, AUDIO_PRESETS, createEngine } from '../../dist/index.js';
import { median, medianOf, sample } from './measure.js';
import { nativeArgs, runNative } from './native.js';

/** Each preset alone on the 30 s source, file to file, next to native FFmpeg with the same args. */
export async function realtimePerPreset(ctx) {
  const rows = [];
  for (const name of AUDIO_PRESET_NAMES) {
    const preset = AUDIO_PRESETS[name];
    const output = join(ctx.dir, `rt.${name}.${preset.extension}`);
    const engineRun = await sample(async () => {
      const r = await ctx.engine.transcode({ path: ctx.source }, { preset: name, output });
      return { jobMs: r.elapsedMs };
    }, ctx.budget.preset);
    let native;
    if (ctx.native) {
      const args = nativeArgs(ctx.source, ctx.audio, preset, join(ctx.dir, `native.${name}.${preset.extension}`));
      native = await sample(() => runNative(args), ctx.budget.native);
    }
    const row = {
      preset: name,
      wallMs: engineRun.ms,
      jobMs: medianOf(engineRun.extras, 'jobMs'),
      n: engineRun.samples.length,
      realtime: ctx.seconds / (engineRun.ms / 1000),
      nativeMs: native?.ms,
      nativeN: native?.samples.length,
    };
    ctx.log(`  ${name}: ${row.wallMs.toFixed(0)} ms (${row.realtime.toFixed(1)}× realtime)${native ? `, native ${native.ms.toFixed(0)} ms` : ''}`);
    rows.push(row);
  }
  return rows;
}

/**
 * All presets in one ladder call (one decode feeding every encoder in one job) against the same
 * presets as separate transcodes one after another, measured in alternation so that both see the
 * same machine load.
 */
export async function ladderVsSeparate(ctx) {
  const ladderMs = [];
  const separateMs = [];
  await sample(async () => {
    let t = performance.now();
    await ctx.engine.ladder({ path: ctx.source }, [...AUDIO_PRESET_NAMES], { outputDir: ctx.dir, baseName: 'ladder' });
    ladderMs.push(performance.now() - t);
    t = performance.now();
    for (const name of AUDIO_PRESET_NAMES) {
      const output = join(ctx.dir, `separate.${name}.${AUDIO_PRESETS[name].extension}`);
      await ctx.engine.transcode({ path: ctx.source }, { preset: name, output });
    }
    separateMs.push(performance.now() - t);
    ctx.log(`  ladder ${ladderMs.at(-1).toFixed(0)} ms, separate ${separateMs.at(-1).toFixed(0)} ms`);
  }, ctx.budget.ladder);
  return {
    ladderMs: median(ladderMs),
    separateMs: median(separateMs),
    ratio: median(separateMs.map((s, i) => s / ladderMs[i])),
    n: ladderMs.length,
  };
}

/**
 * `jobs` identical transcodes of `source` submitted at once, to a 1-worker and a 2-worker engine
 * in alternation (1 then 2, then 2 then 1, …) so that both pools see the same machine; the ratio
 * is the median of each round's. With `native`, the same jobs run as native FFmpeg processes,
 * one at a time and two at a time, in alternation too: the 2-vs-1 ratio this machine gives this
 * very workload when nothing of the engine is involved.
 */
export async function poolThroughput(ctx, { jobs, preset, source, rounds }) {
  const engines = new Map([
    [1, await createEngine({ workers: 1 })],
    [2, await createEngine({ workers: 2 })],
  ]);
  try {
    for (const [workers, engine] of engines) {
      // Every worker gets its core and runs the real job once before anything is timed.
      await Promise.all(Array.from({ length: workers }, () => engine.transcode({ path: source }, { preset })));
    }
    const batch = async (engine) => {
      globalThis.gc?.();
      // CPU time of the whole process (every thread): with the wall time it shows how many
      // threads were really running at once, whatever the machine's other load allowed.
      const cpu = process.cpuUsage();
      const wall = performance.now();
      await Promise.all(Array.from({ length: jobs }, () => engine.transcode({ path: source }, { preset })));
      const wallMs = performance.now() - wall;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000;
      return { wallMs, cpuMsPerJob: cpuMs / jobs, busyThreads: cpuMs / wallMs };
    };
    const runs = { 1: [], 2: [] };
    for (let r = 0; r < rounds; r++) {
      for (const workers of r % 2 ? [2, 1] : [1, 2]) runs[workers].push(await batch(engines.get(workers)));
      ctx.log(`  round ${r + 1}: 1 worker ${runs[1].at(-1).wallMs.toFixed(0)} ms, 2 workers ${runs[2].at(-1).wallMs.toFixed(0)} ms`);
    }
    const summary = (workers) => {
      const wallMs = median(runs[workers].map((b) => b.wallMs));
      return {
        workers,
        wallMs,
        n: runs[workers].length,
        jobsPerSecond: jobs / (wallMs / 1000),
        cpuMsPerJob: medianOf(runs[workers], 'cpuMsPerJob'),
        busyThreads: medianOf(runs[workers], 'busyThreads'),
      };
    };
    const result = {
      one: summary(1),
      two: summary(2),
      ratio: median(runs[1].map((b, i) => b.wallMs / runs[2][i].wallMs)),
    };
    if (!ctx.native) return result;

    const audio = (await engines.get(1).probe({ path: source })).streams.find((s) => s.type === 'audio');
    const args = (i) => nativeArgs(source, audio, AUDIO_PRESETS[preset], join(ctx.dir, `pool-native-${i}.m4a`));
    const nativeBatch = async (concurrency) => {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < jobs) await runNative(args(next++));
        }),
      );
      return performance.now() - started;
    };
    const native = { 1: [], 2: [] };
    for (let r = 0; r < rounds; r++) for (const c of r % 2 ? [2, 1] : [1, 2]) native[c].push(await nativeBatch(c));
    return {
      ...result,
      native: {
        oneMs: median(native[1]),
        twoMs: median(native[2]),
        ratio: median(native[1].map((ms, i) => ms / native[2][i])),
      },
    };
  } finally {
    for (const engine of engines.values()) await engine.close();
  }
}

/** End-to-end cost of a call on a tiny file: everything but the media work itself. */
export async function perJobOverhead(ctx) {
  const engine = ctx.engine;
  const tinyOut = join(ctx.dir, 'tiny.out.wav');
  // Garbage that only FFmpeg can reject: the failed job makes the worker drop its core, so the
  // next job instantiates a fresh one (the cold-core path without compiling the module again).
  const garbage = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
  const bench = new Bench({ name: 'per-job overhead', time: ctx.quick ? 300 : 1500, iterations: ctx.quick ? 5 : 20, warmupTime: 250, warmupIterations: 8 });
  bench
    .add('transcode 0.1 s wav → wav, bytes → bytes, warm core', () => engine.transcode(ctx.tiny, { preset: 'wav' }), { async: true })
    .add('transcode 0.1 s wav → wav, file → file, warm core', () => engine.transcode({ path: ctx.tinyPath }, { preset: 'wav', output: tinyOut }), {
      async: true,
    })
    .add('probe 0.1 s wav (one job), warm core', () => engine.probe(ctx.tiny), { async: true })
    .add('transcode 0.1 s wav → wav right after a failed job (fresh core)', () => engine.transcode(ctx.tiny, { preset: 'wav' }), {
      async: true,
      beforeEach: () =>
        engine.probe(garbage).then(
          () => {
            throw new Error('the garbage input was accepted');
          },
          () => undefined,
        ),
    });
  await bench.run();
  const rows = bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') {
      return { name: task.name, error: r.error?.message ?? r.state };
    }
    return { name: task.name, medianMs: r.latency.p50, meanMs: r.latency.mean, p99Ms: r.latency.p99, n: r.latency.samplesCount };
  });

  // Cold path: a new engine (compile the module, start the pool), then its first call, which
  // waits for the worker to start and instantiate its core.
  const cold = [];
  const coldErrors = [];
  for (let i = 0; i < (ctx.quick ? 2 : 3); i++) {
    globalThis.gc?.();
    const t0 = performance.now();
    const fresh = await createEngine({ workers: 1 });
    try {
      const t1 = performance.now();
      await fresh.transcode(ctx.tiny, { preset: 'wav' });
      const t2 = performance.now();
      await fresh.transcode(ctx.tiny, { preset: 'wav' });
      const t3 = performance.now();
      cold.push({ createMs: t1 - t0, firstMs: t2 - t1, secondMs: t3 - t2 });
    } catch (err) {
      // Recorded, not thrown: a failed cold start is a finding of the run, not a broken benchmark.
      coldErrors.push(String(err?.message ?? err).split('\n')[0]);
    } finally {
      await fresh.close();
    }
  }
  return {
    rows,
    coldErrors,
    cold: {
      n: cold.length,
      createMs: median(cold.map((c) => c.createMs)),
      firstMs: median(cold.map((c) => c.firstMs)),
      secondMs: median(cold.map((c) => c.secondMs)),
    },
  };
}

/**
 * Time from `abort()` to the promise settling, on a transcode that is encoding: the abort comes
 * `delayMs` after the call reports its probe done, i.e. inside the encode job. (A timer rather
 * than the first encode progress event, which only arrives once FFmpeg's stats line is flushed.)
 */
export async function abortLatency(ctx, { runs, preset, delayMs }) {
  const latencies = [];
  const codes = new Set();
  for (let i = 0; i < runs; i++) {
    const controller = new AbortController();
    let abortedAt;
    let timer;
    const onProgress = (p) => {
      if (p.phase !== 'probe' || timer) return;
      timer = setTimeout(() => {
        abortedAt = performance.now();
        controller.abort();
      }, delayMs);
    };
    try {
      await ctx.engine.transcode({ path: ctx.source }, { preset, signal: controller.signal, onProgress });
      codes.add('completed before the abort');
    } catch (err) {
      codes.add(err?.code ?? String(err));
    }
    clearTimeout(timer);
    if (abortedAt !== undefined) latencies.push(performance.now() - abortedAt);
  }
  return { runs, measured: latencies.length, medianMs: median(latencies), maxMs: Math.max(...latencies), outcomes: [...codes] };
}
