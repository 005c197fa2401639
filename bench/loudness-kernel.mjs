#!/usr/bin/env node
// Loudness kernel throughput in × realtime: SIMD vs scalar wasm vs the TypeScript reference, on
// the same 48 kHz stereo inputs in the same run, true peak included (it always is).
// Needs the built package: `npx tsc -p tsconfig.json && node scripts/build-kernels.mjs`.
// Usage: node bench/loudness-kernel.mjs [--quick] [--no-reference]
// Prints a markdown table (× realtime by wall-clock median and by CPU time) with the machine.
import { cpus, totalmem } from 'node:os';
import { Bench } from 'tinybench';
import { LoudnessMeter } from '../dist/worker/kernels/loudness.js';
import { LoudnessReference } from '../dist/worker/kernels/loudness-reference.js';

const quick = process.argv.includes('--quick');
const withReference = !process.argv.includes('--no-reference');
const SR = 48000;
const SECONDS = quick ? 20 : 60;

function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** White noise at a constant level: every block can hold a new true peak, so nothing is skipped. */
function noise(seconds) {
  const r = xorshift(0x9e3779b9);
  const out = new Float32Array(seconds * SR * 2);
  for (let i = 0; i < out.length; i++) out[i] = (r() - 0.5) * 0.5;
  return out;
}

/** Programme-like: partials and noise under a level envelope with quiet passages and pauses. */
function programme(seconds) {
  const r = xorshift(0x85ebca6b);
  const n = seconds * SR;
  const out = new Float32Array(n * 2);
  const partials = Array.from({ length: 6 }, () => ({ w: (2 * Math.PI * (80 + r() * 4000)) / SR, a: 0.05 + r() * 0.1 }));
  let level = 0.5;
  let target = 0.5;
  let lp = 0;
  for (let i = 0; i < n; i++) {
    if (i % 33600 === 0) target = r() < 0.15 ? 0 : 0.05 + r() * 0.9;
    level += (target - level) * 0.004;
    lp += 0.3 * (r() - 0.5 - lp);
    let v = 0;
    for (const p of partials) v += p.a * Math.sin(p.w * i);
    out[2 * i] = level * (v + lp);
    out[2 * i + 1] = level * (0.8 * v - lp);
  }
  return out;
}

/**
 * Median wall-clock ms over timed runs (tinybench), plus the mean CPU ms of this process per run:
 * on a shared machine the CPU figure is the steadier of the two.
 */
async function measure(name, fn, iterations) {
  const bench = new Bench({ iterations, warmupIterations: 1, time: 0, warmupTime: 0, throws: true });
  bench.add(name, fn);
  const cpu0 = process.cpuUsage();
  await bench.run();
  const cpu = process.cpuUsage(cpu0);
  const r = bench.tasks[0].result;
  const runs = r && 'latency' in r ? r.latency.samplesCount + 1 : NaN;
  return { wall: r && 'latency' in r ? r.latency.p50 : NaN, cpu: (cpu.user + cpu.system) / 1000 / runs };
}

async function kernelRun(samples, variant) {
  const meter = await LoudnessMeter.create({ sampleRate: SR, channels: 2, variant });
  // Decoder-sized chunks (~85 ms of stereo), as the engine will push them.
  for (let i = 0; i < samples.length; i += 8192) meter.push(samples.subarray(i, i + 8192));
  return meter.finish();
}

const rows = [];
for (const [name, make] of [
  ['white noise', noise],
  ['programme-like', programme],
]) {
  const samples = make(SECONDS);
  const seconds = samples.length / 2 / SR;
  const simd = await measure('simd', () => kernelRun(samples, 'simd'), quick ? 5 : 15);
  const scalar = await measure('scalar', () => kernelRun(samples, 'scalar'), quick ? 5 : 15);
  let ref = { wall: NaN, cpu: NaN };
  if (withReference) {
    // The reference is plain f64 JavaScript and much slower: time 10 s of the input.
    const part = samples.subarray(0, 10 * SR * 2);
    const t = await measure(
      'reference',
      () => {
        const m = new LoudnessReference({ sampleRate: SR, channels: 2 });
        m.push(part);
        return m.finish();
      },
      2,
    );
    ref = { wall: t.wall * (seconds / 10), cpu: t.cpu * (seconds / 10) };
  }
  const x = (ms) => (seconds * 1000) / ms;
  rows.push([name, x(simd.wall), x(scalar.wall), x(ref.wall), x(simd.cpu), x(scalar.cpu), x(ref.cpu)]);
  console.error(`done: ${name}`);
}

const fmt = (n) => (Number.isFinite(n) ? `${n.toFixed(0)}×` : '—');
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `Loudness kernel, 48 kHz stereo with true peak, × realtime — ${cpu}, ${cpus().length} cores, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}\n`,
);
console.log('| signal | SIMD | scalar | TS reference | SIMD (CPU) | scalar (CPU) | reference (CPU) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, ...v] of rows) console.log(`| ${name} | ${v.map(fmt).join(' | ')} |`);
console.log('\nWall-clock medians; "(CPU)" divides by this process\'s CPU time instead, the steadier figure when the machine is shared.');
