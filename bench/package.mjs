// Packaging benchmark: a 1080p30 testsrc2 source with a tone → 4-rung H.264 ladder (1080p, 720p,
// 480p, 360p) + AAC 128k, 4 s CMAF segments, HLS + DASH, through `engine.package`:
//  - on a 1-worker and a 2-worker engine, alternating for two rounds (the video in chunks of whole
//    segments on every worker), and once as one video job (no chunks) on one worker;
//  - against native FFmpeg running the same encodes single-threaded (one job with every rung, and
//    the audio job), in the same run;
//  - the chunked renditions against one encode of the whole source (PSNR and SSIM with FFmpeg's
//    own filters, in the core), and the bit rate of the segments where chunks meet;
//  - the jobs of the plans for 4, 8 and 64 workers timed one by one, and the makespan of each on
//    its workers computed from those times (longest job first onto the first free worker).
//   npm run build && node bench/package.mjs [--seconds 60]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../dist/index.js';
import { audioJobPlan, planJobs, videoJobPlan } from '../dist/ops/package-plan.js';
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { runPlan } from '../dist/worker/ffmpeg/run-plan.js';
import { describeMachine, loadAverage, nativeFfmpegVersion } from './engine/machine.js';
import { runNative } from './engine/native.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const SECONDS = Number(values.seconds);
const OPTIONS = { video: ['1080p', '720p', '480p', '360p'], audio: ['aac-128'], segmentDuration: 4, formats: ['hls', 'dash'] };
const LIMITS = { timeoutMs: 6 * 3600_000, maxHeapBytes: 512 * 1024 ** 2 };

const dir = mkdtempSync(join(tmpdir(), 'sandcodec-bench-package-'));
const loadStart = loadAverage();
const log = (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
try {
  const source = join(dir, 'source.mp4');
  const engine = await createEngine({ workers: 1 });
  await engine.generateVideo({ seconds: SECONDS, width: 1920, height: 1080, frameRate: 30, output: source });
  const probe = await engine.probe({ path: source });

  // One worker and two, alternating for two rounds (the machine is shared: a neighbour's burst
  // then costs one run, not one side), each the same call chunked by its engine's default.
  const engines = { 1: engine, 2: await createEngine({ workers: 2 }) };
  const timed = async (workers, outputDir, extra = {}) => {
    const started = performance.now();
    const result = await engines[workers].package({ path: source }, { ...OPTIONS, ...extra, outputDir, limits: LIMITS });
    return { workers, seconds: (performance.now() - started) / 1000, result };
  };
  const runs = { 1: [], 2: [] };
  for (let round = 0; round < 2; round++) {
    for (const workers of [1, 2]) {
      const out = join(dir, `w${workers}-${round}`);
      runs[workers].push(await timed(workers, out));
      log(`${workers} worker(s), round ${round + 1}: ${runs[workers].at(-1).seconds.toFixed(1)} s`);
      if (round === 0 || workers === 1) rmSync(out, { recursive: true });
    }
  }
  const mean = (list) => ({ seconds: list.reduce((n, r) => n + r.seconds, 0) / list.length, each: list.map((r) => r.seconds), result: list.at(-1).result });
  const one = mean(runs[1]);
  const two = mean(runs[2]);
  const onePlan = await engines[1].planPackage({ path: source }, OPTIONS);
  const twoPlan = await engines[2].planPackage({ path: source }, OPTIONS);
  // The reference for quality: the whole source in one job (one chunk, every rung together).
  const whole = await timed(1, join(dir, 'whole'), { chunkSeconds: Math.ceil(SECONDS / 4) * 4 + 4 });
  log(`one encode: ${whole.seconds.toFixed(1)} s`);
  await engines[2].close();

  // The plans for 4, 8 and 64 workers, their jobs timed one at a time on one worker: the cost of
  // each, and the makespan each plan would have with its workers (longest job first onto the
  // first free worker, as the pool runs them).
  const chunkDir = join(dir, 'chunks');
  mkdirSync(chunkDir);
  const timedPlans = [];
  for (const workers of [4, 8, 64]) {
    const plan = await engine.planPackage({ path: source }, { ...OPTIONS, workers });
    const same = timedPlans.find((p) => JSON.stringify(p.plan.jobs) === JSON.stringify(plan.jobs));
    let times = same?.times;
    if (!times) {
      times = [];
      for (const job of plan.jobs) {
        const started = performance.now();
        const out = await engine.runChunk({ path: source }, plan, job.id, { outputDir: join(chunkDir, `w${workers}`), limits: LIMITS });
        times.push({ id: job.id, seconds: (performance.now() - started) / 1000 });
        for (const f of out.files) rmSync(f.path);
      }
    }
    timedPlans.push({ workers, plan, times });
    log(`${workers}-worker plan: ${plan.jobs.length} jobs${same ? ` (the same jobs as the ${same.workers}-worker plan)` : ' timed'}`);
  }
  await engine.close();
  const makespan = (times, workers) => {
    const free = new Array(workers).fill(0);
    for (const t of [...times].sort((a, b) => b.seconds - a.seconds)) {
      const i = free.indexOf(Math.min(...free));
      free[i] += t.seconds;
    }
    return Math.max(...free);
  };

  // Native FFmpeg, single-threaded: one job with every rung over the whole source, then the audio.
  const nativeVersion = nativeFfmpegVersion();
  let native;
  if (nativeVersion) {
    const input = { source: { type: 'path', path: source }, ext: 'mp4', size: 0, label: source, release: async () => {} };
    const video = probe.streams.find((s) => s.type === 'video');
    const audio = probe.streams.find((s) => s.type === 'audio');
    const [videoJob, audioJob] = planJobs({
      duration: SECONDS,
      segmentDuration: OPTIONS.segmentDuration,
      chunkSeconds: SECONDS * 2,
      rate: twoPlan.rate,
      targets: twoPlan.video,
      audio: twoPlan.audio,
      workers: 1,
    });
    const file = (job, r) => ({ rendition: r, name: `${job.id}.${r}.mp4`, path: join(dir, `native-${job.id}.${r}.mp4`) });
    const limits = { maxOutputBytes: 0, maxReturnedBytes: 0, maxHeapBytes: 0, maxDurationSeconds: 0 };
    const plans = [
      videoJobPlan(
        input,
        video,
        videoJob,
        twoPlan.video,
        videoJob.renditions.map((r) => file(videoJob, r)),
        { segmentDuration: OPTIONS.segmentDuration, rate: twoPlan.rate, encoder: twoPlan.videoEncoder, x264Preset: twoPlan.x264Preset },
        limits,
      ),
      audioJobPlan(
        input,
        audio,
        twoPlan.audio,
        audioJob.renditions.map((r) => file(audioJob, r)),
        limits,
      ),
    ];
    const started = performance.now();
    for (const plan of plans) {
      const args = plan.args.map((a) => (a === `/job/${plan.inputs[0].name}` ? source : a.startsWith('/job/') ? join(dir, `native-${a.slice(5)}`) : a));
      const i = args.indexOf('-i');
      await runNative([
        '-nostdin',
        '-y',
        '-hide_banner',
        '-loglevel',
        'error',
        '-filter_threads',
        '1',
        '-filter_complex_threads',
        '1',
        ...args.slice(0, i),
        '-threads',
        '1',
        ...args.slice(i, i + 2),
        '-threads',
        '1',
        ...args.slice(i + 2),
      ]);
    }
    native = (performance.now() - started) / 1000;
    log(`native: ${native.toFixed(1)} s`);
  }

  // Quality where chunks meet: the 2-worker renditions against the one encode, frame by frame
  // (measured by the stock core, whose build has the psnr filter).
  const stock = resolveCore('stock');
  const core = await FFmpegCore.create(await compileCore(stock), { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: 2 ** 31, core: stock });
  const joined = (result, id) => {
    const t = result.video.find((v) => v.id === id);
    return [join(result.outputDir, t.init), ...t.segments.map((s) => join(result.outputDir, t.id, s.file))];
  };
  const concatPath = async (paths, name) => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const out = join(dir, name);
    writeFileSync(out, Buffer.concat(paths.map((p) => readFileSync(p))));
    return out;
  };
  const quality = [];
  const frames = two.result.frameRate;
  const joinsAt = new Set(twoPlan.jobs.filter((j) => j.kind === 'video' && j.firstFrame > 0).map((j) => j.firstSegment));
  for (const t of two.result.video) {
    const a = await concatPath(joined(two.result, t.id), `q-chunked-${t.id}.mp4`);
    const b = await concatPath(joined(whole.result, t.id), `q-whole-${t.id}.mp4`);
    const sink = (name) => ({ name, sink: { type: 'bytes' } });
    const r = await runPlan(
      {
        op: 'ffmpeg',
        phase: 'quality',
        inputs: [
          { name: 'a.mp4', source: { type: 'path', path: a } },
          { name: 'b.mp4', source: { type: 'path', path: b } },
        ],
        outputs: [sink('psnr.log'), sink('ssim.log')],
        args: [
          '-i',
          '/job/a.mp4',
          '-i',
          '/job/b.mp4',
          '-lavfi',
          '[0:v]split[a0][a1];[1:v]split[b0][b1];[a0][b0]psnr=stats_file=/job/psnr.log[p];[a1][b1]ssim=stats_file=/job/ssim.log[s];[p][s]hstack',
          '-f',
          'null',
          '-',
        ],
        limits: { maxOutputBytes: 2 ** 31, maxReturnedBytes: 2 ** 28, maxHeapBytes: 2 ** 31, maxDurationSeconds: 36000 },
      },
      { core, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), emit: () => {} },
    );
    const text = (i) => new TextDecoder().decode(r.outputs[i].bytes);
    const psnr = text(0)
      .trim()
      .split('\n')
      .map((l) => /psnr_avg:(\S+)/.exec(l)?.[1])
      // Identical frames: the filter prints inf.
      .map((v) => (v === 'inf' ? Number.POSITIVE_INFINITY : Number(v)));
    const ssim = text(1)
      .trim()
      .split('\n')
      .map((l) => Number(/All:(\S+)/.exec(l)?.[1]));
    const mse = psnr.map((p) => (p === Infinity ? 0 : 255 ** 2 / 10 ** (p / 10)));
    const meanPsnr = 10 * Math.log10(255 ** 2 / (mse.reduce((x, y) => x + y, 0) / mse.length));
    const perSegment = Math.round(OPTIONS.segmentDuration * frames);
    const joinFrames = psnr.filter((_, i) => joinsAt.has(Math.floor(i / perSegment)));
    const kbps = (s) => (s.size * 8) / (s.duration / t.timescale) / 1000;
    const joinSegments = t.segments.filter((s) => joinsAt.has(s.number - 1));
    const otherSegments = t.segments.filter((s) => !joinsAt.has(s.number - 1) && s.number < t.segments.length);
    const plan = twoPlan.video.find((v) => v.id === t.id);
    quality.push({
      id: t.id,
      frames: psnr.length,
      psnr: meanPsnr,
      minPsnr: Math.min(...psnr),
      joinMinPsnr: Math.min(...joinFrames),
      ssim: ssim.reduce((x, y) => x + y, 0) / ssim.length,
      joinKbps: Math.max(...joinSegments.map(kbps)),
      otherKbps: Math.max(...otherSegments.map(kbps)),
      maxrate: plan.maxrate / 1000,
    });
  }

  const machine = describeMachine();
  const speedup = one.seconds / two.seconds;
  console.log(`## Packaging — ${new Date().toISOString().slice(0, 10)}`);
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, ${nativeVersion ?? 'no native ffmpeg'}; load average ${loadStart} → ${loadAverage()}; one process`,
  );
  console.log('');
  console.log(`| ${SECONDS} s 1080p30 → 1080p, 720p, 480p, 360p + aac-128, 4 s segments | wall | × realtime | jobs | vs 1 worker | vs native 1 thread |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  const row = (label, s, jobs) =>
    console.log(
      `| ${label} | ${s.toFixed(1)} s | ${(SECONDS / s).toFixed(2)}× | ${jobs} | ${(one.seconds / s).toFixed(2)}× | ${native ? `${(s / native).toFixed(2)}×` : '-'} |`,
    );
  const each = (r) => r.each.map((x) => `${x.toFixed(1)}`).join(' and ');
  row(`sandcodec, 1 worker (mean of ${each(one)} s)`, one.seconds, onePlan.jobs.length);
  row('sandcodec, 1 worker, one video job (no chunks)', whole.seconds, 2);
  row(`sandcodec, 2 workers (mean of ${each(two)} s)`, two.seconds, twoPlan.jobs.length);
  if (native)
    console.log(
      `| native FFmpeg, 1 thread, same encodes | ${native.toFixed(1)} s | ${(SECONDS / native).toFixed(2)}× | 2 | ${(one.seconds / native).toFixed(2)}× | 1.00× |`,
    );
  console.log('');
  console.log(
    `2 workers vs 1: ${speedup.toFixed(2)}× (target ≥ 1.8×), vs one video job on 1 worker ${(whole.seconds / two.seconds).toFixed(2)}×; 2 workers vs native single-thread: ${native ? (two.seconds / native).toFixed(2) : '-'}× (target ≤ 3×).`,
  );
  console.log('');
  console.log('| plan for | chunks | jobs | longest job | sum of job times | makespan on its workers | × realtime | vs 1 worker (measured) | efficiency |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { workers, plan, times } of timedPlans) {
    const sum = times.reduce((n, t) => n + t.seconds, 0);
    const span = makespan(times, workers);
    const chunks = new Set(plan.jobs.filter((j) => j.kind === 'video').map((j) => j.chunk)).size;
    console.log(
      `| ${workers} workers | ${chunks} × ${plan.chunkSeconds} s | ${plan.jobs.length} | ${Math.max(...times.map((t) => t.seconds)).toFixed(1)} s | ${sum.toFixed(1)} s | ${span.toFixed(1)} s | ${(SECONDS / span).toFixed(2)}× | ${(one.seconds / span).toFixed(2)}× | ${((one.seconds / span / workers) * 100).toFixed(0)} % |`,
    );
  }
  console.log('');
  const jobs64 = timedPlans.at(-1);
  console.log(
    `Jobs of the ${jobs64.workers}-worker plan, each timed alone on one worker: ${jobs64.times.map((t) => `${t.id} ${t.seconds.toFixed(1)} s`).join(', ')}.`,
  );
  console.log('');
  console.log(
    '| rendition | frames | PSNR vs one encode | worst frame | worst frame at a join | SSIM | peak segment at a join | peak other segment | maxrate |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const db = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} dB` : 'identical');
  for (const q of quality) {
    console.log(
      `| ${q.id} | ${q.frames} | ${db(q.psnr)} | ${db(q.minPsnr)} | ${db(q.joinMinPsnr)} | ${q.ssim.toFixed(5)} | ${Number.isFinite(q.joinKbps) ? `${q.joinKbps.toFixed(0)} kbit/s` : 'no join'} | ${q.otherKbps.toFixed(0)} kbit/s | ${q.maxrate.toFixed(0)} kbit/s |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
