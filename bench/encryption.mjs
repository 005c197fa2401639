#!/usr/bin/env node
// What Common Encryption costs a package: the stitch stage of one set of encoded parts, clear,
// cenc and cbcs (and single-file cenc), against a plain AES-128-CTR pass of node:crypto over the
// same media bytes in the same run (the floor: what the cipher alone costs).
// Needs the built package (`npm run build`). Usage: node bench/encryption.mjs [--seconds 30]
// Prints a markdown table with the machine.
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { createEngine } from '../dist/index.js';

const at = process.argv.indexOf('--seconds');
const SECONDS = at > 0 ? Number(process.argv[at + 1]) : 30;
const KEY = '00112233445566778899aabbccddeeff';
const KID = '0123456789abcdef0123456789abcdef';

const root = await mkdtemp(join(tmpdir(), 'sandcodec-bench-enc-'));
const engine = await createEngine({ workers: 2 });
try {
  const source = join(root, 'source.mp4');
  await engine.generateVideo({ seconds: SECONDS, width: 1280, height: 720, frameRate: 30, output: source });
  const plan = await engine.planPackage({ path: source }, { video: ['720p', '480p', '360p'], audio: ['aac-128'], segmentDuration: 4 });
  const results = [];
  for (const job of plan.jobs) results.push(await engine.runChunk({ path: source }, plan, job.id, { outputDir: join(root, 'parts') }));
  const clear = await engine.stitch(plan, results, { outputDir: join(root, 'probe') });
  const mediaBytes = [...clear.video, ...clear.audio].reduce((n, t) => n + t.segments.reduce((m, s) => m + s.size, 0), 0);
  console.error(`parts ready: ${(mediaBytes / 2 ** 20).toFixed(1)} MiB of segments over ${clear.duration.toFixed(1)} s`);

  let n = 0;
  const stitch = (options) => async () => {
    const out = join(root, `out-${n++}`);
    await engine.stitch(plan, results, { outputDir: out, ...options });
    await rm(out, { recursive: true });
  };
  const encryption = (scheme) => ({ scheme, keys: [{ kid: KID, key: KEY }], systems: ['clearkey', 'widevine'] });
  const bytes = randomBytes(mediaBytes);
  const bench = new Bench({ iterations: 15, warmupIterations: 2, time: 0, warmupTime: 0, throws: true });
  bench
    .add('stitch, clear', stitch({}))
    .add('stitch, cenc', stitch({ encryption: encryption('cenc') }))
    .add('stitch, cbcs', stitch({ encryption: encryption('cbcs') }))
    .add('stitch, cenc, single file', stitch({ encryption: encryption('cenc'), singleFile: true }))
    .add('AES-128-CTR over the same bytes (node:crypto)', () => {
      const c = createCipheriv('aes-128-ctr', Buffer.from(KEY, 'hex'), Buffer.alloc(16));
      c.update(bytes);
      c.final();
    });
  await bench.run();
  const median = Object.fromEntries(bench.tasks.map((t) => [t.name, t.result.latency.p50]));
  const base = median['stitch, clear'];
  const floor = median['AES-128-CTR over the same bytes (node:crypto)'];
  const mib = mediaBytes / 2 ** 20;
  console.log(
    `Encryption, ${mib.toFixed(1)} MiB of segments (${SECONDS} s, 720p/480p/360p + AAC, 4 s segments) — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  console.log('| run | median ms | MiB/s | × clear stitch | added over clear ÷ AES floor |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, ms] of Object.entries(median)) {
    const added = name.startsWith('stitch') && name !== 'stitch, clear' ? ((ms - base) / floor).toFixed(1) : '—';
    console.log(`| ${name} | ${ms.toFixed(1)} | ${(mib / (ms / 1000)).toFixed(0)} | ${(ms / base).toFixed(2)} | ${added} |`);
  }
} finally {
  await engine.close();
  await rm(root, { recursive: true, force: true });
}
