#!/usr/bin/env node
// Images: sandcodec (FFmpeg core decode/encode + wasm resize kernel) vs native sharp vs
// sharp on @img/sharp-wasm32 vs wasm-vips (libvips' own wasm build), same inputs, same run. Cases: a 3000×3000 cover upload → the
// 640/300/64 JPEG set, a 12 MP photo (4000×3000) → 1024 px JPEG, and a 16.8 MP lossy WebP (4733×3550)
// → 640 px JPEG. sandcodec three ways: its
// default shrink-on-load rule (45 dB from a full decode), the 'fast' rule (sharp's default: the
// smallest scale still as large as the target), and without shrink-on-load.
// Needs the built package (`npm run build`). Usage: node bench/image.mjs [--runs N]
// Prints a markdown table (median and fastest ms) with the machine description and load average.
// Each case is warmed up for 3 s before its timed runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noisyPhoto } from './photo.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
const here = fileURLToPath(new URL('.', import.meta.url));
const SET = [640, 300, 64];
const WARMUP_MS = 3000;

/** One engine run: `sandcodec`, `sandcodec-fast`, `sandcodec-noshrink`, `sharp`, or `sharp-wasm32`, timed in a child. */
async function measure(variant, cover, photo, webp) {
  const times = {};
  const time = async (name, fn) => {
    // Warm-up for a few seconds, not one call: a fresh process runs the FFmpeg core in V8's
    // baseline wasm tier until the optimizing tier has recompiled its hot functions in the
    // background, and a single warm-up left half the timed runs on the slow side of that.
    // What is measured is the steady state of a long-lived process (cold starts: see Engine).
    const warmUntil = performance.now() + WARMUP_MS;
    do await fn();
    while (performance.now() < warmUntil);
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await fn();
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    times[name] = { median: ms[Math.floor(ms.length / 2)], min: ms[0] };
  };
  if (variant.startsWith('sandcodec')) {
    const { createEngine } = await import('../dist/index.js');
    const engine = await createEngine({ workers: 1 });
    const shrinkOnLoad = { sandcodec: true, 'sandcodec-fast': 'fast', 'sandcodec-noshrink': false }[variant];
    await time('cover', () =>
      engine.imageSet(
        cover,
        SET.map((width) => ({ width, format: 'jpeg', quality: 80 })),
        { shrinkOnLoad },
      ),
    );
    await time('photo', () => engine.resize(photo, { width: 1024, format: 'jpeg', quality: 80, shrinkOnLoad }));
    await time('webp', () => engine.resize(webp, { width: 640, format: 'jpeg', quality: 80, shrinkOnLoad }));
    await engine.close();
  } else if (variant === 'wasm-vips') {
    // libvips compiled to wasm (its own Emscripten build, one thread here): thumbnail shrinks on load like sharp.
    const { default: Vips } = await import('wasm-vips');
    const vips = await Vips();
    vips.concurrency(1);
    vips.Cache.max(0);
    times.backend = vips.version();
    await time('cover', () => {
      for (const width of SET) vips.Image.thumbnailBuffer(cover, width).writeToBuffer('.jpg', { Q: 80 });
    });
    await time('photo', () => vips.Image.thumbnailBuffer(photo, 1024).writeToBuffer('.jpg', { Q: 80 }));
    await time('webp', () => vips.Image.thumbnailBuffer(webp, 640).writeToBuffer('.jpg', { Q: 80 }));
  } else {
    const { default: sharp } = await import('sharp');
    sharp.concurrency(1);
    sharp.cache(false);
    times.backend = sharp.versions.vips;
    await time('cover', () => {
      const source = sharp(cover);
      return Promise.all(SET.map((width) => source.clone().resize(width).jpeg({ quality: 80 }).toBuffer()));
    });
    await time('photo', () => sharp(photo).resize(1024).jpeg({ quality: 80 }).toBuffer());
    await time('webp', () => sharp(webp).resize(640).jpeg({ quality: 80 }).toBuffer());
  }
  return times;
}

if (args[0] === '--child') {
  const [variant, coverPath, photoPath, webpPath] = args.slice(1, 5);
  const result = await measure(variant, readFileSync(coverPath), readFileSync(photoPath), readFileSync(webpPath));
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

const { default: sharp } = await import('sharp');
const dir = mkdtempSync(join(tmpdir(), 'sandcodec-bench-image-'));
try {
  // Photo-like inputs: the corpus photos upscaled, with sensor-like noise so JPEG has work to do.
  const noisy = (file, width, height) => noisyPhoto(sharp, file, width, height);
  const coverPath = join(dir, 'cover-3000.jpg');
  const photoPath = join(dir, 'photo-12mp.jpg');
  writeFileSync(coverPath, await noisy(join(here, '..', 'test', 'fixtures', 'image', 'astronaut.png'), 3000, 3000));
  writeFileSync(photoPath, await noisy(join(here, '..', 'test', 'fixtures', 'image', 'renpy-washington.jpg'), 4000, 3000));
  const webpPath = join(dir, 'photo-17mp.webp');
  writeFileSync(
    webpPath,
    await sharp(await noisy(join(here, '..', 'test', 'fixtures', 'image', 'renpy-washington.jpg'), 4733, 3550))
      .webp({ quality: 85 })
      .toBuffer(),
  );

  const variants = [
    ['sandcodec', []],
    ['sandcodec-fast', []],
    ['sandcodec-noshrink', []],
    ['sharp', []],
    ['sharp-wasm32', ['--require', join(here, 'sharp-wasm32-preload.cjs')]],
    ['wasm-vips', []],
  ];
  const results = {};
  for (const [variant, nodeArgs] of variants) {
    const child = spawnSync(
      process.execPath,
      [...nodeArgs, fileURLToPath(import.meta.url), '--child', variant, coverPath, photoPath, webpPath, '--runs', String(runs)],
      {
        encoding: 'utf8',
        timeout: 10 * 60 * 1000,
      },
    );
    if (child.status !== 0) {
      results[variant] = { error: (child.stderr || child.error?.message || 'failed').trim().split('\n').slice(-3).join(' ') };
      continue;
    }
    results[variant] = JSON.parse(child.stdout);
  }

  const fmt = (t) => (t ? `${t.median.toFixed(0)} (${t.min.toFixed(0)})` : '—');
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node ${process.version}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${runs} runs after a 3 s warm-up, one worker / sharp.concurrency(1)\n`,
  );
  console.log(
    '| engine | 3000×3000 JPEG → 640/300/64 JPEG set, ms median (fastest) | 12 MP JPEG → 1024 px JPEG, ms median (fastest) | 16.8 MP WebP → 640 px JPEG, ms median (fastest) |',
  );
  console.log('| --- | --- | --- | --- |');
  for (const [variant] of variants) {
    const r = results[variant];
    if (r.error) console.log(`| ${variant} | failed: ${r.error} | |`);
    else console.log(`| ${variant}${r.backend ? ` (libvips ${r.backend})` : ''} | ${fmt(r.cover)} | ${fmt(r.photo)} | ${fmt(r.webp)} |`);
  }
  const ratio = (a, b, k) => (results[a]?.[k] && results[b]?.[k] ? (results[a][k].median / results[b][k].median).toFixed(2) : '—');
  for (const ours of ['sandcodec', 'sandcodec-fast']) {
    for (const [i, other] of ['sharp', 'sharp-wasm32', 'wasm-vips'].entries()) {
      const cases = `cover set ${ratio(ours, other, 'cover')}×, 12 MP ${ratio(ours, other, 'photo')}×, WebP ${ratio(ours, other, 'webp')}×`;
      console.log(`${i === 0 ? '\n' : ''}${ours} / ${other === 'sharp' ? 'native sharp' : other}: ${cases}`);
    }
  }
  console.log(
    `shrink-on-load: without / fast = cover set ${ratio('sandcodec-noshrink', 'sandcodec-fast', 'cover')}×, 12 MP ${ratio('sandcodec-noshrink', 'sandcodec-fast', 'photo')}×`,
  );
  // Whole processes: a fresh `node` running the CLI against a sharp one-liner, and where the time goes.
  for (const image of [[], [webpPath]]) {
    const cold = spawnSync(process.execPath, [join(here, 'cold.mjs'), '--runs', String(runs), ...image], { encoding: 'utf8', timeout: 10 * 60 * 1000 });
    console.log(`\nWhole process (bench/cold.mjs):\n${cold.status === 0 ? cold.stdout : `failed: ${cold.stderr}`}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
