#!/usr/bin/env node
// Peak memory of one job at the default limits, the figure behind the README's "memory to budget
// per worker": each case runs in a fresh process with a one-worker engine, and reports the
// process's peak resident size (VmHWM) and its size once the engine is up, so the difference is
// what the job added. Also finds the smallest wasm heap (maxHeapBytes) the heaviest preset job,
// a four-rung 1080p ladder, fits in.
//   npm run build && node bench/memory.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const dist = join(here, '..', 'dist', 'index.js');

function peakKiB() {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
}

if (process.argv[2] === '--case') {
  const [name, dir, extra] = process.argv.slice(3);
  const { createEngine } = await import(dist);
  const engine = await createEngine({ workers: 1 });
  await engine.probe(new Uint8Array(readFileSync(join(dir, 'tone.flac'))));
  const ready = peakKiB();
  const started = performance.now();
  let outcome = 'ok';
  try {
    if (name === 'package-1080p') {
      const limits = extra ? { maxHeapBytes: Number(extra) * 2 ** 20 } : {};
      await engine.package(
        { path: join(dir, '1080p.mp4') },
        { outputDir: join(dir, `pkg-${extra ?? 'default'}`), video: ['1080p', '720p', '480p', '360p'], audio: ['aac-128'], limits },
      );
    } else if (name === 'transcode-wav-bytes') {
      await engine.transcode({ path: join(dir, 'long.flac') }, { preset: 'wav' });
    } else if (name === 'resize-24mp') {
      await engine.resize({ path: join(dir, '24mp.jpg') }, { width: 640, format: 'jpeg' });
    } else if (name === 'loudness-long') {
      await engine.loudness({ path: join(dir, 'long.flac') });
    }
  } catch (err) {
    outcome = `${err.code}: ${err.message.slice(0, 60)}`;
  }
  const seconds = (performance.now() - started) / 1000;
  await engine.close();
  process.stdout.write(JSON.stringify({ name, extra: extra ?? null, readyMiB: ready / 1024, peakMiB: peakKiB() / 1024, seconds, outcome }));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'sandcodec-memory-'));
try {
  const { createEngine } = await import(dist);
  const engine = await createEngine({ workers: 1 });
  await engine.generate({ kind: 'sine', seconds: 1, preset: 'flac', output: join(dir, 'tone.flac') });
  await engine.generateVideo({ seconds: 4, width: 1920, height: 1080, frameRate: 30, output: join(dir, '1080p.mp4') });
  // 10 minutes of stereo 44.1 kHz: a 106 MB WAV returned as bytes, under the 128 MiB default.
  await engine.generate({ kind: 'music', seconds: 600, preset: 'flac', output: join(dir, 'long.flac') });
  await engine.close();
  const sharp = (await import('sharp')).default;
  const noise = Buffer.alloc(6000 * 4000 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  await sharp(noise, { raw: { width: 6000, height: 4000, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(join(dir, '24mp.jpg'));

  const load = loadavg()[0].toFixed(2);
  const rows = [];
  const cases = [['package-1080p'], ['package-1080p', '320'], ['transcode-wav-bytes'], ['resize-24mp'], ['loudness-long']];
  for (const [name, extra] of cases) {
    const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname, '--case', name, dir, ...(extra ? [extra] : [])], { encoding: 'utf8' });
    const r = JSON.parse(out);
    rows.push(r);
    console.error(
      `${name}${extra ? ` (maxHeapBytes ${extra} MiB)` : ''}: ${r.outcome}, peak ${r.peakMiB.toFixed(0)} MiB (engine up: ${r.readyMiB.toFixed(0)} MiB), ${r.seconds.toFixed(1)} s`,
    );
  }
  console.log(`\n| job (one-worker engine, default limits) | outcome | peak RSS | RSS with the engine up | added by the job |`);
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const r of rows) {
    const label = r.extra ? `${r.name}, maxHeapBytes ${r.extra} MiB` : r.name;
    console.log(`| ${label} | ${r.outcome} | ${r.peakMiB.toFixed(0)} MiB | ${r.readyMiB.toFixed(0)} MiB | ${(r.peakMiB - r.readyMiB).toFixed(0)} MiB |`);
  }
  console.log(`\nload average at the start: ${load}; ${new Date().toISOString().slice(0, 10)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
