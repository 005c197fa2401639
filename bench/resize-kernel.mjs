#!/usr/bin/env node
// Resize kernel: SIMD vs scalar wasm vs the TypeScript reference, same inputs, same run.
// Needs the built package: `npx tsc -p tsconfig.json && node scripts/build-kernels.mjs`.
// Usage: node bench/resize-kernel.mjs [--quick] [--no-reference]
// Prints a markdown table of median milliseconds with the machine description.
import { cpus, totalmem } from 'node:os';
import { Bench } from 'tinybench';
import { Resizer } from '../dist/kernels/resize.js';
import { resizeRgbaReference } from '../dist/kernels/resize-reference.js';

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

/** Median latency in ms of `fn` over `iterations` timed runs after one warmup. */
async function median(name, fn, iterations) {
  const bench = new Bench({ iterations, warmupIterations: 1, time: 0, warmupTime: 0, throws: true });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0].result;
  return r && 'latency' in r ? r.latency.p50 : NaN;
}

const rows = [];
for (const kernel of kernels) {
  for (const c of cases) {
    const src = image(c.src);
    const simd = new Resizer(src, { variant: 'simd' });
    const scalar = new Resizer(src, { variant: 'scalar' });
    const opts = { width: c.width, kernel };
    const height = Math.round((src.height * c.width) / src.width);
    const s = await median('simd', () => simd.resize(opts), quick ? 3 : 10);
    const sc = await median('scalar', () => scalar.resize(opts), quick ? 3 : 10);
    // The reference is f64 JavaScript, tens of times slower: two runs give its median.
    const ref = withReference ? await median('reference', () => resizeRgbaReference(src, { ...opts, height }), 2) : NaN;
    rows.push([c.name, kernel, s, sc, ref, sc / s, ref / s]);
    console.error(`done: ${c.name} ${kernel}`);
  }
}

const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '—');
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`Resize kernel, median ms — ${cpu}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}\n`);
console.log('| case | kernel | SIMD | scalar | TS reference | scalar/SIMD | reference/SIMD |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const [name, kernel, s, sc, ref, r1, r2] of rows) {
  console.log(`| ${name} | ${kernel} | ${fmt(s)} | ${fmt(sc)} | ${fmt(ref)} | ${fmt(r1, 2)}× | ${fmt(r2, 1)}× |`);
}
