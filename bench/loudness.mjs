#!/usr/bin/env node
// The whole `engine.loudness` call (probe job + decode-and-measure job, end to end) against native
// `ffmpeg -nostats -i FILE -af ebur128=peak=true -f null -` on the same 5-minute files, in the same
// run; then the kernel numbers from bench/loudness-kernel.mjs. Needs the built package.
// Usage: node bench/loudness.mjs [--quick]
// Prints markdown tables with the machine and load.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../dist/index.js';

const quick = process.argv.includes('--quick');
const SECONDS = quick ? 60 : 300;
const RUNS = quick ? 2 : 5;
const here = dirname(fileURLToPath(import.meta.url));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU ms of this process's waited-for children (Linux /proc; clock ticks of 10 ms). */
function childCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

function nativeAvailable() {
  try {
    return execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}

function nativeRun(path) {
  const cpu0 = childCpuMs();
  const t0 = performance.now();
  const r = spawnSync('ffmpeg', ['-nostats', '-hide_banner', '-i', path, '-af', 'ebur128=peak=true', '-f', 'null', '-'], { encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`native ffmpeg failed: ${r.stderr.slice(-500)}`);
  const summary = r.stderr.slice(r.stderr.lastIndexOf('Summary:'));
  const integrated = Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]);
  const truePeak = Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]);
  return { wall, cpu: childCpuMs() - cpu0, integrated, truePeak };
}

async function engineRun(engine, path) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await engine.loudness({ path });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // Worker threads share the process: its CPU time covers the worker doing the job.
  return { wall, cpu: (cpu.user + cpu.system) / 1000, m };
}

const load0 = loadavg()[0];
const dir = await mkdtemp(join(tmpdir(), 'sandcodec-bench-loudness-'));
const engine = await createEngine({ workers: 1 });
const native = nativeAvailable();
const rows = [];
try {
  const files = [];
  for (const preset of ['flac', 'wav']) {
    const path = join(dir, `music.${preset}`);
    await engine.generate({ kind: 'music', seconds: SECONDS, sampleRate: 48000, channels: 2, preset, output: path });
    files.push({ label: `${SECONDS / 60} min music, 48 kHz stereo 16-bit ${preset.toUpperCase()}`, path });
  }
  for (const { label, path } of files) {
    await engineRun(engine, path); // warm: worker core and kernel compiled
    const e = [];
    for (let i = 0; i < RUNS; i++) e.push(await engineRun(engine, path));
    const n = [];
    if (native) for (let i = 0; i < RUNS; i++) n.push(nativeRun(path));
    const ew = median(e.map((r) => r.wall));
    const ec = median(e.map((r) => r.cpu));
    const nw = n.length ? median(n.map((r) => r.wall)) : NaN;
    const nc = n.length ? median(n.map((r) => r.cpu)) : NaN;
    const m = e[0].m;
    rows.push({ label, ew, ec, nw, nc, integrated: m.integrated, tp: m.truePeak, nI: n[0]?.integrated, nTp: n[0]?.truePeak });
    console.error(`done: ${label}`);
  }
} finally {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
}

const x = (ms) => (Number.isFinite(ms) ? `${((SECONDS * 1000) / ms).toFixed(0)}×` : '—');
const s = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? `${(b / a).toFixed(2)}×` : '—');
console.log(
  `engine.loudness vs native ffmpeg ebur128=peak=true — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${native ?? 'no native ffmpeg'}; ` +
    `load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}; median of ${RUNS}\n`,
);
console.log(
  '| file | engine wall | native wall | engine speed-up (wall) | engine CPU | native CPU | speed-up (CPU) | engine × realtime | I engine / native | TP engine / native |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${s(r.ew)} | ${s(r.nw)} | ${ratio(r.ew, r.nw)} | ${s(r.ec)} | ${s(r.nc)} | ${ratio(r.ec, r.nc)} | ${x(r.ew)} | ` +
      `${r.integrated?.toFixed(2)} / ${Number.isFinite(r.nI) ? r.nI.toFixed(1) : '—'} LUFS | ${r.tp.toFixed(2)} / ${Number.isFinite(r.nTp) ? r.nTp.toFixed(1) : '—'} dBTP |`,
  );
}
console.log('\nEngine wall time is the whole call (probe job + decode-and-measure job); native wall time includes spawning the process.');
console.log('CPU: this process (its worker threads included) vs the native child. Native FFmpeg prints its results to 0.1.\n');

// Kernel throughput, same run.
const kernel = spawnSync(process.execPath, [join(here, 'loudness-kernel.mjs'), '--quick', ...(quick ? ['--no-reference'] : [])], { encoding: 'utf8' });
process.stdout.write(kernel.stdout);
if (kernel.status !== 0) process.stderr.write(kernel.stderr);
