#!/usr/bin/env node
// Compiles every AssemblyScript kernel in assembly/<name>/index.ts twice from the same source:
// a SIMD build (v128, picked at runtime when supported) and a scalar build (the fallback and the
// cross-check). Outputs go to dist/worker/kernels/wasm/<name>.{simd,scalar}.wasm with a build record.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
const outDir = join(root, 'dist', 'worker', 'kernels', 'wasm');
mkdirSync(outDir, { recursive: true });

const kernels = readdirSync(join(root, 'assembly'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'assembly', d.name, 'index.ts')))
  .map((d) => d.name);

const record = { asc: require('assemblyscript/package.json').version, node: process.version, kernels: {} };
for (const name of kernels) {
  const entry = join(root, 'assembly', name, 'index.ts');
  for (const variant of ['simd', 'scalar']) {
    const out = join(outDir, `${name}.${variant}.wasm`);
    const args = [asc, entry, '-o', out, '-O3', '--noAssert', '--runtime', 'stub', '--initialMemory', '1', ...(variant === 'simd' ? ['--enable', 'simd'] : [])];
    execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  }
  record.kernels[name] = ['simd', 'scalar'];
}
writeFileSync(join(outDir, 'build.json'), `${JSON.stringify(record, null, 2)}\n`);
console.log(`kernels: ${kernels.length ? kernels.join(', ') : '(none)'} → ${outDir}`);
