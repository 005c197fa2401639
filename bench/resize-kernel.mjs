#!/usr/bin/env node
// Resize kernel: SIMD vs scalar wasm vs the TypeScript reference, same inputs, same run.
// Needs the built package: `npx tsc -p tsconfig.json && node scripts/build-kernels.mjs`.
// Usage: node bench/resize-kernel.mjs [--quick] [--no-reference]
// Prints a markdown table of median (and fastest) milliseconds with the machine description and
// the load average, since on a shared machine the fastest run is the steadier figure.
import { cpus, loadavg, totalmem } from 'node:os';
import { Bench } from 'tinybench';
import { Resizer } from '../dist/worker/kernels/resize.js';
import { resizeRgbaReference } from '../dist/worker/kernels/resize-reference.js';

const quick = process.argv.includes('--quick');
const withReference = !process.argv.includes('--no-reference');

/** Photo-like test card: smooth gradients, hard edges and fine noise, fully opaque. */
function testImage(width, height) {
  const data = new Uint8Array(width * height * 4);
  let seed = 0x2545f491;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const i = (y * width + x) * 4;
      const edge = ((x >> 6) + (y >> 6)) & 1 ? 40 : 0;
      data[i] = ((x * 255) / width + edge) & 255;
      data[i + 1] = ((y * 255) / height + (seed & 15)) & 255;
      data[i + 2] = (((x + y) * 127) / (width + height) + edge) & 255;
      data[i + 3] = 255;
    }
  }
  return { data, width, height };
}

const cases = [
  { name: '3000×3000 → 640', src: [3000, 3000], width: 640 },
  { name: '3000×3000 → 300', src: [3000, 3000], width: 300 },
  { name: '3000×3000 → 64', src: [3000, 3000], width: 64 },
  { name: '4000×3000 → 1024 wide', src: [4000, 3000], width: 1024 },
];
const kernels = quick ? ['lanczos3'] : ['lanczos3', 'linear'];

const images = new Map();
const image = ([w, h]) => {
  const key = `${w}x${h}`;
  if (!images.has(key)) images.set(key, testImage(w, h));
  return images.get(key);
};

/** Median and minimum latency in ms of `fn` over `iterations` timed runs after one warmup. */
async function measure(name, fn, iterations) {
  const bench = new Bench({ iterations, warmupIterations: 1, time: 0, warmupTime: 0, throws: true });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  return r && 'latency' in r ? { p50: r.latency.p50, min: r.latency.min } : { p50: NaN, min: NaN };
}

const load0 = loadavg()[0];
const rows = [];
const coverSizes = [640, 300, 64];
for (const kernel of kernels) {
  for (const c of cases) {
    const src = image(c.src);
    const simd = new Resizer(src, { variant: 'simd' });
    const scalar = new Resizer(src, { variant: 'scalar' });
    const opts = { width: c.width, kernel };
    const height = Math.round((src.height * c.width) / src.width);
    const n = quick ? 3 : 10;
    const s = await measure('simd', () => simd.resize(opts), n);
    const sc = await measure('scalar', () => scalar.resize(opts), n);
    // The reference is f64 JavaScript, tens of times slower: two runs give its median.
    const ref = withReference ? await measure('reference', () => resizeRgbaReference(src, { ...opts, height }), 2) : { p50: NaN, min: NaN };
    rows.push([c.name, kernel, s, sc, ref]);
    console.error(`done: ${c.name} ${kernel}`);
  }
  // The cover-art set: one decoded 3000² image, one Resizer, three sizes.
  const src = image([3000, 3000]);
  const set = (r) => () =>
    coverSizes.forEach((width) => {
      r.resize({ width, kernel });
    });
  const n = quick ? 3 : 10;
  const s = await measure('simd', set(new Resizer(src, { variant: 'simd' })), n);
  const sc = await measure('scalar', set(new Resizer(src, { variant: 'scalar' })), n);
  const ref = withReference
    ? await measure(
        'reference',
        () =>
          coverSizes.forEach((w) => {
            resizeRgbaReference(src, { width: w, height: w, kernel });
          }),
        1,
      )
    : { p50: NaN, min: NaN };
  rows.push(['3000×3000 → 640 + 300 + 64 (one Resizer)', kernel, s, sc, ref]);
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const cell = (m) => `${fmt(m.p50)} (${fmt(m.min)})`;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `Resize kernel — ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ` +
    `load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)}\n`,
);
console.log('Median ms (fastest run in brackets).\n');
console.log('| case | kernel | SIMD | scalar | TS reference | scalar/SIMD | reference/SIMD |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const [name, kernel, s, sc, ref] of rows) {
  console.log(`| ${name} | ${kernel} | ${cell(s)} | ${cell(sc)} | ${cell(ref)} | ${fmt(sc.p50 / s.p50, 2)}× | ${fmt(ref.p50 / s.p50, 1)}× |`);
}
