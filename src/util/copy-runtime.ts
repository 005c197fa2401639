/**
 * What an app bundled with esbuild (or another bundler) needs beside its bundle. The bundle holds
 * the main thread's side of sandcodec, and piscina with it; the worker threads still start from
 * files:
 *   DIR/worker.js    piscina's worker entry: a bundled piscina looks for `worker.js` in the
 *                    bundle's folder (its `__dirname`); this one loads the copy below
 *   DIR/sandcodec/   package.json and licences, dist/ (the worker threads' modules and the
 *                    kernels), wasm-build/dist/ (the FFmpeg cores), node_modules/piscina
 * sandcodec finds `DIR/sandcodec/` on its own (util/runtime-dir.ts).
 *
 *   await esbuild.build({ entryPoints: ['app.js'], bundle: true, platform: 'node', outfile: 'out/app.js' });
 *   await copyRuntime('out');
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { IOError, OptionsError } from '../errors.js';
import { BUNDLED_RUNTIME_DIR, isRuntime, runtimeDir } from './runtime-dir.js';

export interface CopyRuntimeOptions {
  /** Replace a `sandcodec/` folder and `worker.js` an earlier copy made. Default false. */
  overwrite?: boolean;
}

export interface CopyRuntimeResult {
  /** The folder the runtime went into (`DIR/sandcodec`). */
  dir: string;
  /** The piscina worker entry (`DIR/worker.js`). */
  workerEntry: string;
  /** Files copied, and their total size. */
  files: number;
  bytes: number;
}

/** The shim piscina starts each worker thread with: an ES module or CommonJS, whichever DIR is. */
const WORKER_ENTRY = `// Written by sandcodec's copyRuntime: piscina's worker entry, from the copy beside this file.
import('./${BUNDLED_RUNTIME_DIR}/node_modules/piscina/dist/worker.js');
`;

export function copyRuntime(outDir: string, options: CopyRuntimeOptions = {}): CopyRuntimeResult {
  if (typeof outDir !== 'string' || outDir === '') throw new OptionsError('outDir', `must be a folder path, got ${JSON.stringify(outDir)}`);
  const overwrite = options.overwrite ?? false;
  if (typeof overwrite !== 'boolean') throw new OptionsError('overwrite', `must be a boolean, got ${JSON.stringify(overwrite)}`);
  const out = resolve(outDir);
  if (existsSync(out) && !statSync(out).isDirectory()) throw new OptionsError('outDir', `${out} is not a folder`);
  const dir = join(out, BUNDLED_RUNTIME_DIR);
  const workerEntry = join(out, 'worker.js');
  // Only what a copy made is replaced, and only when asked.
  if (existsSync(dir) && !(overwrite && isRuntime(dir))) {
    throw new OptionsError(
      'overwrite',
      overwrite ? `${dir} exists and is not a sandcodec runtime: it is left alone` : `${dir} exists (overwrite: true replaces an earlier copy)`,
    );
  }
  if (existsSync(workerEntry) && !(overwrite && readFileSync(workerEntry, 'utf8') === WORKER_ENTRY)) {
    throw new OptionsError(
      'overwrite',
      overwrite
        ? `${workerEntry} exists and is not sandcodec's worker entry: it is left alone`
        : `${workerEntry} exists (overwrite: true replaces an earlier copy)`,
    );
  }
  const source = runtimeDir();
  const piscina = packageDir(createRequire(join(source, 'package.json')).resolve('piscina'), 'piscina');
  mkdirSync(out, { recursive: true });
  // Staged beside its place and renamed in whole: a failed copy leaves no half runtime.
  const staged = join(out, `.${BUNDLED_RUNTIME_DIR}-${process.pid}-${Date.now()}.part`);
  const count = { files: 0, bytes: 0 };
  try {
    for (const name of ['package.json', 'LICENSE', 'LICENSE.LGPL-2.1']) copyFile(join(source, name), join(staged, name), count);
    copyTree(
      join(source, 'dist'),
      join(staged, 'dist'),
      count,
      (rel) => !rel.startsWith('cjs') && !rel.startsWith('cli') && !rel.endsWith('.map') && !rel.endsWith('.d.ts'),
    );
    copyTree(join(source, 'wasm-build', 'dist'), join(staged, 'wasm-build', 'dist'), count, () => true);
    for (const name of ['package.json', 'LICENSE']) copyFile(join(piscina, name), join(staged, 'node_modules', 'piscina', name), count);
    copyTree(join(piscina, 'dist'), join(staged, 'node_modules', 'piscina', 'dist'), count, (rel) => !rel.endsWith('.map') && !rel.endsWith('.d.ts'));
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(staged, dir);
  } catch (cause) {
    rmSync(staged, { recursive: true, force: true });
    if (cause instanceof OptionsError) throw cause;
    throw new IOError(`copyRuntime: could not copy the runtime into ${dir}: ${(cause as Error).message}`, {}, { cause });
  }
  writeFileSync(workerEntry, WORKER_ENTRY);
  return { dir, workerEntry, files: count.files, bytes: count.bytes };
}

/** The folder of the package `name` that `file` belongs to. */
function packageDir(file: string, name: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === name) return dir;
  }
  throw new IOError(`copyRuntime: no package.json of ${name} above ${file}`);
}

function copyFile(from: string, to: string, count: { files: number; bytes: number }): void {
  if (!existsSync(from)) return;
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to);
  count.files++;
  count.bytes += statSync(from).size;
}

function copyTree(from: string, to: string, count: { files: number; bytes: number }, keep: (rel: string) => boolean, rel = ''): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (!keep(path)) continue;
    if (entry.isDirectory()) copyTree(join(from, entry.name), join(to, entry.name), count, keep, path);
    else if (entry.isFile()) copyFile(join(from, entry.name), join(to, basename(entry.name)), count);
  }
}
