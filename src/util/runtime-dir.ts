/**
 * Where sandcodec's files are at run time: the folder holding its `package.json`, `dist/` (the
 * worker threads' modules and the kernels) and `wasm-build/dist/` (the FFmpeg cores). That is the
 * installed package; in an app bundled with esbuild, whose bundle holds the main thread's side,
 * it is the copy `copyRuntime` (`sandcodec copy-runtime`) made in a `sandcodec/` folder beside
 * the bundle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InternalError } from '../errors.js';

/** The folder `copyRuntime` makes beside a bundle. */
export const BUNDLED_RUNTIME_DIR = 'sandcodec';

/** What marks a runtime folder: the module the worker threads start with. */
export const WORKER_MODULE = join('dist', 'worker', 'index.js');

/**
 * This module's URL. Bundled to CommonJS by esbuild, `import.meta` is empty and the bundle's own
 * file (`__filename`) stands in; sandcodec's own CommonJS build (scripts/build-cjs.mjs) writes
 * each module's URL in for it.
 */
export function moduleUrl(): string {
  const url = import.meta.url as string | undefined;
  if (url) return url;
  if (typeof __filename === 'string') return pathToFileURL(__filename).href;
  throw new InternalError('sandcodec cannot tell where its files are: this module has neither import.meta.url nor __filename');
}

let found: string | undefined;

export function runtimeDir(): string {
  if (found !== undefined) return found;
  const here = dirname(fileURLToPath(moduleUrl()));
  // Bundled: `here` is the bundle's folder, with the copy in it. Installed: this module is
  // dist/util/runtime-dir.js in the package.
  const beside = join(here, BUNDLED_RUNTIME_DIR);
  const installed = join(here, '..', '..');
  found = isRuntime(beside) ? beside : installed;
  return found;
}

/** A folder holding sandcodec's package.json and its worker module. */
export function isRuntime(dir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return pkg.name === 'sandcodec' && existsSync(join(dir, WORKER_MODULE));
  } catch {
    return false;
  }
}
