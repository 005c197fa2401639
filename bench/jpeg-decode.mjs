#!/usr/bin/env node
// JPEG decoding alone: the gpl core (libjpeg-turbo for baseline files, FFmpeg's mjpeg for
// progressive ones) against the stock core (FFmpeg's mjpeg for all), and native sharp (libvips)
// for scale, in one process. Each case decodes a 12 MP photo (4000×3000, 4:2:0, baseline and
// progressive) whole and at 1/2, 1/4, 1/8 (shrink-on-load) to RGBA: the engine's own
// `timings.decodeMs` (read, decode, YCbCr → RGBA in the ycc kernel) of a resize to 9/10 of that
// size, and sharp's jpegload at the same scale to raw RGB. The engines take turns, run after run,
// so the machine's drift falls on both.
// Needs the built package (`npm run build`). Usage: node bench/jpeg-decode.mjs [--runs N]
import { cpus, loadavg } from 'node:os';
import sharp from 'sharp';
import { createEngine } from '../dist/index.js';
import { noisyPhoto } from './photo.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 9;
const here = new URL('.', import.meta.url).pathname;

// The photo of bench/image.mjs: a corpus photo upscaled with sensor-like noise, quality 92.
const photo = async (progressive) =>
  new Uint8Array(await noisyPhoto(sharp, `${here}../test/fixtures/image/renpy-washington.jpg`, 4000, 3000, { quality: 92, progressive }));

sharp.concurrency(1);
sharp.cache(false);
const engines = {
  gpl: await createEngine({ workers: 1 }),
  stock: await createEngine({ workers: 1, core: 'stock' }),
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(
  `machine: ${cpus()[0]?.model} ×${cpus().length}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${new Date().toISOString()}`,
);
console.log('');
console.log('| file (the gpl core’s decoder) | scale | gpl core, ms | stock core (FFmpeg mjpeg), ms | native sharp, ms | stock / gpl | gpl / sharp |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const progressive of [false, true]) {
  const jpeg = await photo(progressive);
  for (const level of [0, 1, 2, 3]) {
    // A target 9/10 the decoded size: the resize kernel's source (kept from job to job) takes the
    // decode, as in a real resize; only decodeMs is read.
    const options = { width: Math.round((4000 >> level) * 0.9), format: 'jpeg', shrinkOnLoad: level ? 'fast' : false };
    const ms = { sharp: [] };
    for (const name of Object.keys(engines)) ms[name] = [];
    for (let i = -2; i < runs; i++) {
      for (const [name, engine] of Object.entries(engines)) {
        const out = await engine.resize(jpeg, options);
        if (out.lowres !== level) throw new Error(`${name}: decoded at lowres ${out.lowres}, not ${level}`);
        if (i >= 0) ms[name].push(out.timings.decodeMs);
      }
      const t = performance.now();
      const img = sharp(jpeg);
      // sharp has no "decode at 1/N" call; a resize to the scaled size makes libvips shrink on load and nothing else.
      await (level ? img.resize(4000 >> level, 3000 >> level, { fastShrinkOnLoad: true, kernel: 'nearest' }) : img).raw().toBuffer();
      if (i >= 0) ms.sharp.push(performance.now() - t);
    }
    const [ours, ffmpeg] = Object.keys(engines).map((name) => median(ms[name]));
    const native = median(ms.sharp);
    console.log(
      `| 12 MP ${progressive ? 'progressive 4:2:0 (FFmpeg)' : 'baseline 4:2:0 (libjpeg-turbo)'} | 1/${1 << level} | ${ours.toFixed(1)} | ${ffmpeg.toFixed(1)} | ${native.toFixed(1)} | ${(ffmpeg / ours).toFixed(2)}× | ${(ours / native).toFixed(2)}× |`,
    );
  }
}
for (const engine of Object.values(engines)) await engine.close();
