#!/usr/bin/env node
// The general transcode against native FFmpeg 5.1 running the engine's own arguments: the plan the
// engine makes for each job is run by the native `ffmpeg` with its /job/ paths mapped to host
// files, one thread each (as one engine worker runs). Video presets from a 720p30 source (10 s,
// testsrc2 with a tone), and a trimmed, faded audio preview from 30 s of generated music. The
// engine and native runs alternate, run by run, so the machine's load falls on both.
// Usage: npm run build && node --expose-gc bench/transcode.mjs [--runs N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../dist/index.js';
import { resolvePreset } from '../dist/ops/custom-preset.js';
import { audioEditFilter, editSpan, resolveEdit } from '../dist/ops/edit.js';
import { ladderPlan } from '../dist/ops/ladder.js';
import { videoFilePlan } from '../dist/ops/video-file-plan.js';
import { describeMachine, loadAverage, nativeFfmpegVersion } from './engine/machine.js';
import { median } from './engine/measure.js';
import { runNative } from './engine/native.js';
import { ms, table, x } from './engine/report.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;
const log = (line) => process.stderr.write(`${line}\n`);
const native = nativeFfmpegVersion();
const loadBefore = loadAverage();
const dir = await mkdtemp(join(tmpdir(), 'sandcodec-transcode-bench-'));
const video = join(dir, 'video-720p.mp4');
const music = join(dir, 'music.flac');
const engine = await createEngine({ workers: 1 });
await engine.generateVideo({ seconds: 10, width: 1280, height: 720, frameRate: 30, output: video });
await engine.generate({ kind: 'music', seconds: 30, sampleRate: 44100, channels: 2, preset: 'flac', output: music });
const sources = { video: await engine.probe({ path: video }), music: await engine.probe({ path: music }) };

const JOBS = [
  { name: 'mp4-h264-aac, 720p', source: 'video', options: { preset: 'mp4-h264-aac' } },
  { name: 'webm-vp9-opus, 720p', source: 'video', options: { preset: 'webm-vp9-opus' } },
  { name: 'webm-vp9-opus, 360p', source: 'video', options: { preset: { base: 'webm-vp9-opus', size: 360 } } },
  { name: 'mp4-h264-aac, 2 s to 8 s, fades', source: 'video', options: { preset: 'mp4-h264-aac', start: 2, duration: 6, fadeIn: 1, fadeOut: 1 } },
  { name: 'aac-128 preview: 15 s from 10 s, fades', source: 'music', options: { preset: 'aac-128', start: 10, duration: 15, fadeIn: 1, fadeOut: 2 } },
];

/** The engine's plan for a job, as a native command line over host files. */
function nativeCommand(job, output) {
  const path = job.source === 'video' ? video : music;
  const input = { ext: job.source === 'video' ? 'mp4' : 'flac', source: { type: 'path', path } };
  const probe = sources[job.source];
  const { preset } = resolvePreset('preset', job.options.preset);
  const edit = resolveEdit(job.options);
  const span = editSpan(edit, probe);
  const limits = { maxOutputBytes: 2 ** 31, maxReturnedBytes: 2 ** 28, maxHeapBytes: 2 ** 30, maxDurationSeconds: 36_000 };
  const sink = { type: 'path', path: output };
  const art = { cover: 'drop', tags: [], stripTags: false };
  const plan =
    preset.kind === 'video'
      ? videoFilePlan(input, probe, preset, edit, span, sink, { encoder: 'libx264', threads: 1 }, art, limits)
      : ladderPlan('transcode', input, probe, [{ preset, sink }], limits, { filter: audioEditFilter(edit, span, probe.streams[0].sampleRate), art });
  const args = plan.args.map((a) => (a === `/job/${plan.inputs[0].name}` ? path : a.startsWith('/job/') ? output : a));
  // One thread for the decoder, the filters and the encoders, as in one engine worker.
  const at = args.indexOf('-i');
  args.splice(at, 0, '-threads', '1');
  args.splice(args.length - 1, 0, '-threads', '1');
  return ['-nostdin', '-y', '-hide_banner', '-loglevel', 'error', '-filter_threads', '1', ...args];
}

const rows = [];
for (const job of JOBS) {
  const times = { engine: [], native: [] };
  let size = 0;
  for (let run = 0; run < RUNS; run++) {
    globalThis.gc?.();
    let t = performance.now();
    const out = await engine.transcode({ path: job.source === 'video' ? video : music }, job.options);
    times.engine.push(performance.now() - t);
    size = out.size;
    if (native) {
      const output = join(dir, `native-${run}.${out.video?.codec === 'vp9' ? 'webm' : out.video ? 'mp4' : 'm4a'}`);
      t = performance.now();
      await runNative(nativeCommand(job, output));
      times.native.push(performance.now() - t);
    }
  }
  const e = median(times.engine);
  const n = native ? median(times.native) : NaN;
  log(`  ${job.name}: engine ${ms(e)} ms, native ${ms(n)} ms`);
  rows.push([job.name, ms(e), ms(n), x(e / n), `${(size / 1e6).toFixed(2)} MB`]);
}
await engine.close();
await rm(dir, { recursive: true, force: true });

const machine = describeMachine();
console.log(`Machine: ${JSON.stringify(machine)}; load before ${loadBefore}, after ${loadAverage()}; ${new Date().toISOString().slice(0, 10)}.`);
console.log(
  `Native reference: ${native ?? 'not installed'}, running the engine's own arguments on one thread. Medians of ${RUNS} runs, alternating; times in ms (whole call for the engine: spool, probe, encode).\n`,
);
console.log(table(['job', 'engine (ms)', 'native (ms)', 'engine / native', 'output'], rows));
