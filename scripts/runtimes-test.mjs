#!/usr/bin/env node
// Optional: the engine on Bun and Deno, from their npm packages (`npm run test:runtimes`; not part
// of `npm test`). Installs bun and deno into a scratch folder, then runs the same program on each:
// an engine with `workers: 0` (no worker_threads) and one with a worker thread, each probing,
// transcoding a trimmed preview, resizing a picture and timing a job out. Prints one line per
// runtime and mode. The exit status is that of the `workers: 0` runs (1 if one failed; 0 with
// "skipped" when a runtime cannot be installed); the worker-thread runs are reported for
// information: on Deno 2.9, Piscina fails at close after it has terminated a worker.
// Usage: npm run build && node scripts/runtimes-test.mjs [--runtimes bun,deno]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = process.argv.indexOf('--runtimes');
const runtimes = arg > 0 ? process.argv[arg + 1].split(',') : ['bun', 'deno'];
const PACKAGES = { bun: 'bun@1', deno: 'deno@2' };
const scratch = mkdtempSync(join(tmpdir(), 'sandcodec-runtimes-'));

const program = `
const { createEngine } = await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'index.js')).href)});
const { readFileSync } = await import('node:fs');
const workers = Number(process.argv.at(-1));
const flac = new Uint8Array(readFileSync(${JSON.stringify(join(root, 'test', 'fixtures', 'audio', 'ambi_lunar_land.flac'))}));
const engine = await createEngine({ workers });
const out = {};
try {
  const probe = await engine.probe(flac);
  out.probe = probe.streams[0].codec + ' ' + probe.duration.toFixed(2) + ' s';
  const preview = await engine.transcode(flac, { preset: 'opus-96', start: 1, duration: 3, fadeOut: 1 });
  out.transcode = (await engine.probe(preview.bytes, { decode: true })).decodedDuration.toFixed(3) + ' s of opus';
  const image = await engine.resize({ path: ${JSON.stringify(join(root, 'test', 'fixtures', 'image', 'renpy-washington.jpg'))} }, { width: 320, format: 'webp' });
  out.resize = image.width + 'x' + image.height + ' ' + image.format;
  const video = (await engine.generateVideo({ seconds: 10, width: 640, height: 360 })).bytes;
  out.timeout = await engine.transcode(video, { preset: 'mp4-h264-aac', limits: { timeoutMs: 300 } }).then(() => 'not stopped', (e) => e.code);
} finally {
  await engine.close();
}
console.log(JSON.stringify(out));
`;
const file = join(scratch, 'program.mjs');
writeFileSync(file, program);

let failed = false;
for (const runtime of runtimes) {
  const install = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', scratch, PACKAGES[runtime]], { encoding: 'utf8' });
  const bin = join(scratch, 'node_modules', '.bin', runtime);
  if (install.status !== 0 || !existsSync(bin)) {
    console.log(`${runtime}: skipped (npm install ${PACKAGES[runtime]} failed: ${(install.stderr || '').trim().split('\n').at(-1)})`);
    continue;
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')[0]
    .replace(/^deno /, '');
  for (const workers of [0, 1]) {
    // Deno reads the package's node_modules (piscina) as npm's layout when told to, from the package's folder.
    const args = runtime === 'deno' ? ['run', '--allow-all', '--node-modules-dir=manual', file, String(workers)] : [file, String(workers)];
    const run = spawnSync(bin, args, { cwd: root, encoding: 'utf8', timeout: 300_000, env: { ...process.env, NO_COLOR: '1' } });
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    let result;
    try {
      result = JSON.parse(last);
    } catch {
      result = undefined;
    }
    const ok = run.status === 0 && result?.timeout === 'E_TIMEOUT' && /^3\.0\d\d s of opus$/.test(result.transcode) && result.resize === '320x180 webp';
    if (workers === 0) failed ||= !ok;
    const verdict = ok ? 'ok' : workers === 0 ? 'FAILED' : 'failed (informational)';
    console.log(
      `${runtime} ${version}, workers ${workers}: ${verdict} ${last || (run.stderr || run.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
}
rmSync(scratch, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
