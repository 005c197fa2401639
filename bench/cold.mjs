#!/usr/bin/env node
// Where a one-shot resize spends its time, from `node` starting to the process ending: the CLI
// (`sandcodec resize IN -o OUT --width 640`, also with `--shrink-on-load fast`, sharp's rule)
// against a sharp one-liner, each a fresh process,
// and, in a fresh process through the library, the phases: Node's start, importing sandcodec,
// creating the engine, the first call (a worker thread starting, the FFmpeg core compiling and
// instantiating, then decode, resize, encode), a second call on the warm worker, and closing.
// Needs the built package (`npm run build`). Usage: node bench/cold.mjs [--runs N] [IMAGE]
// Default image: a 13 MP (4160×3120) JPEG made from the coffee fixture, q90.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 7;
const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '..', 'dist', 'cli', 'main.js');

if (args[0] === '--phases') {
  // In the child: phase boundaries in ms since the process started (performance.timeOrigin).
  const at = () => performance.now();
  const marks = { nodeStart: 0, scriptStart: at() };
  const { createEngine } = await import('../dist/index.js');
  marks.imported = at();
  const engine = await createEngine({ workers: 1 });
  marks.engine = at();
  const first = await engine.resize({ path: args[1] }, { width: 640, format: 'jpeg', output: join(args[2], 'a.jpg'), overwrite: true });
  marks.firstCall = at();
  const second = await engine.resize({ path: args[1] }, { width: 640, format: 'jpeg', output: join(args[2], 'b.jpg'), overwrite: true });
  marks.secondCall = at();
  await engine.close();
  marks.closed = at();
  process.stdout.write(JSON.stringify({ marks, first: first.timings, second: second.timings, lowres: first.lowres }));
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'sandcodec-bench-cold-'));
try {
  const { default: sharp } = await import('sharp');
  let image = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');
  if (!image) {
    image = join(dir, 'photo-13mp.jpg');
    await sharp(join(here, '..', 'test', 'fixtures', 'image', 'coffee.png'))
      .resize(4160, 3120)
      .jpeg({ quality: 90 })
      .toFile(image);
  }
  const wall = (argv) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    return performance.now() - t;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cliMs = [];
  const cliFastMs = [];
  const sharpMs = [];
  const nodeMs = [];
  const phases = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a noisy moment touches every column alike.
    cliMs.push(wall([cli, 'resize', image, '-o', join(dir, 'cli.jpg'), '--width', '640', '--force']));
    cliFastMs.push(wall([cli, 'resize', image, '-o', join(dir, 'cli.jpg'), '--width', '640', '--force', '--shrink-on-load', 'fast']));
    sharpMs.push(wall(['-e', `require('sharp')(${JSON.stringify(image)}).resize(640).jpeg().toFile(${JSON.stringify(join(dir, 'sharp.jpg'))})`]));
    nodeMs.push(wall(['-e', '0']));
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--phases', image, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    phases.push(JSON.parse(r.stdout));
  }
  const m = (f) => median(phases.map(f)).toFixed(0);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `Machine: ${cpu}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Node ${process.version}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${runs} runs, medians`,
  );
  const meta = await sharp(image).metadata();
  console.log(
    `Image: ${meta.width}×${meta.height} ${meta.format === 'jpeg' ? 'JPEG' : meta.format === 'webp' ? 'WebP' : meta.format} → 640 px JPEG (sandcodec decodes at 1/${2 ** phases[0].lowres})\n`,
  );
  console.log('| whole process | ms | × sharp |');
  console.log('| --- | ---: | ---: |');
  const s = median(sharpMs);
  console.log(`| node -e 0 | ${median(nodeMs).toFixed(0)} | |`);
  console.log(`| sharp one-liner | ${s.toFixed(0)} | 1.00 |`);
  console.log(`| sandcodec CLI | ${median(cliMs).toFixed(0)} | ${(median(cliMs) / s).toFixed(2)} |`);
  console.log(`| sandcodec CLI, --shrink-on-load fast | ${median(cliFastMs).toFixed(0)} | ${(median(cliFastMs) / s).toFixed(2)} |`);
  console.log('\n| phase (library, fresh process) | ms |');
  console.log('| --- | ---: |');
  console.log(`| Node start to script | ${m((p) => p.marks.scriptStart)} |`);
  console.log(`| import sandcodec | ${m((p) => p.marks.imported - p.marks.scriptStart)} |`);
  console.log(`| createEngine | ${m((p) => p.marks.engine - p.marks.imported)} |`);
  console.log(`| first call, whole | ${m((p) => p.marks.firstCall - p.marks.engine)} |`);
  console.log(`| … of which decode / resize / encode | ${m((p) => p.first.decodeMs)} / ${m((p) => p.first.resizeMs)} / ${m((p) => p.first.encodeMs)} |`);
  console.log(
    `| … the rest (worker start, core compile and instantiate, I/O) | ${m((p) => p.marks.firstCall - p.marks.engine - p.first.decodeMs - p.first.resizeMs - p.first.encodeMs)} |`,
  );
  console.log(`| second call, whole | ${m((p) => p.marks.secondCall - p.marks.firstCall)} |`);
  console.log(`| … of which decode / resize / encode | ${m((p) => p.second.decodeMs)} / ${m((p) => p.second.resizeMs)} / ${m((p) => p.second.encodeMs)} |`);
  console.log(`| close | ${m((p) => p.marks.closed - p.marks.secondCall)} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
