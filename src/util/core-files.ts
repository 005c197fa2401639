/**
 * Which FFmpeg core a process runs, and where its files are. A core is an Emscripten glue script
 * with its wasm beside it: the stock `@ffmpeg/core` 0.12.10 (a browser build, GPL, 32 MB), or one
 * of the cores built from Debian's sources by wasm-build/ and shipped in the package under
 * `wasm-build/dist/<profile>-<variant>/`, or such a folder named by path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { OptionsError } from '../errors.js';
import { moduleUrl, runtimeDir } from './runtime-dir.js';

const require = createRequire(moduleUrl());

/** The cores the package ships, by the name the `core` option takes. */
export const CORE_NAMES = ['stock', 'gpl', 'lgpl'] as const;
export type CoreName = (typeof CORE_NAMES)[number];

/** The core the engine runs when the caller names none (README "FFmpeg cores" says why). */
export const DEFAULT_CORE: CoreName = 'gpl';

export interface CoreFiles {
  /** `stock` is @ffmpeg/core's browser build; `built` is a core of wasm-build/. */
  kind: 'stock' | 'built';
  /** As the caller named it: `stock`, `gpl`, `lgpl` or the folder's path. */
  name: string;
  /** The Emscripten glue script (CommonJS). */
  script: string;
  wasm: string;
  /** FFmpeg's licence with this build's components: GPL-2.0-or-later or LGPL-2.1-or-later. */
  licence: string;
  /** The core's H.264 encoder (what `package` encodes video with); null: it has none. */
  h264Encoder: H264Encoder | null;
  /** An `-mt` build: FFmpeg runs on threads of its own (its folder holds the threads' script). */
  threaded: boolean;
}

/** x264 (stock and gpl cores) or Cisco's OpenH264 (lgpl cores). */
export type H264Encoder = 'libx264' | 'libopenh264';

/** The folder the built cores are committed in, inside the package. */
export function builtCoresDir(): string {
  return join(runtimeDir(), 'wasm-build', 'dist');
}

/** The core's files for the `core` option (undefined: the default core). */
export function resolveCore(core: string | undefined): CoreFiles {
  const name = core ?? DEFAULT_CORE;
  if (typeof name !== 'string' || name === '') {
    throw new OptionsError('core', `must be one of ${CORE_NAMES.join(', ')} or the path of a core's folder, got ${JSON.stringify(name)}`);
  }
  if (name === 'stock') {
    const script = stockScript();
    return { kind: 'stock', name, script, wasm: script.replace(/\.js$/, '.wasm'), licence: 'GPL-2.0-or-later', h264Encoder: 'libx264', threaded: false };
  }
  // A profile's name is its single-thread core; the multithreaded one is named in full (gpl-mt).
  const dir = /^(gpl|lgpl)(-st|-mt)?$/.test(name) ? join(builtCoresDir(), name.includes('-') ? name : `${name}-st`) : pathOnly(name);
  const script = join(dir, 'ffmpeg-core.cjs');
  const wasm = join(dir, 'ffmpeg-core.wasm');
  if (!existsSync(script) || !existsSync(wasm)) {
    throw new OptionsError('core', `no FFmpeg core in ${dir} (it needs ffmpeg-core.cjs and ffmpeg-core.wasm; names: ${CORE_NAMES.join(', ')})`);
  }
  const record = buildRecord(dir);
  const threaded = existsSync(join(dir, THREAD_SCRIPT));
  return { kind: 'built', name, script, wasm, licence: licenceOf(record), h264Encoder: h264EncoderOf(record), threaded };
}

/** The version of @ffmpeg/core the stock core's loader is written for (stock-core.ts). */
export const STOCK_CORE_VERSION = '0.12.10';

/**
 * @ffmpeg/core is an optional peer dependency: its 31 MB wasm comes twice (ESM and UMD builds) and
 * only `core: 'stock'` needs it, so an install has it only when the user adds it.
 */
function stockScript(): string {
  const install = `install it beside sandcodec: npm install @ffmpeg/core@${STOCK_CORE_VERSION}`;
  let script: string;
  try {
    script = require.resolve('@ffmpeg/core');
  } catch {
    throw new OptionsError('core', `"stock" is @ffmpeg/core ${STOCK_CORE_VERSION}, an optional dependency that is not installed; ${install}`);
  }
  // Its package.json is not in its exports: found by walking up from the script.
  let version: unknown;
  for (let dir = dirname(script); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
    if (pkg.name !== '@ffmpeg/core') continue;
    version = pkg.version;
    break;
  }
  if (version !== STOCK_CORE_VERSION) {
    throw new OptionsError(
      'core',
      `"stock" needs @ffmpeg/core ${STOCK_CORE_VERSION} exactly (its loader is written for that build), found ${String(version)}; ${install}`,
    );
  }
  return script;
}

/** What the threads of a multithreaded core run (CommonJS by its name: the package is ESM). */
export const THREAD_SCRIPT = 'ffmpeg-core.worker.cjs';

/**
 * The multithreaded core that runs video for `core` when a caller allows threads: the core itself
 * when it is one, else its profile's `-mt` build where the package ships it; null when neither.
 */
export function threadedCoreFor(core: CoreFiles): CoreFiles | null {
  if (core.threaded) return core;
  const profile = /^(gpl|lgpl)(-st)?$/.exec(core.name)?.[1];
  if (!profile || !existsSync(join(builtCoresDir(), `${profile}-mt`, THREAD_SCRIPT))) return null;
  return resolveCore(`${profile}-mt`);
}

function pathOnly(name: string): string {
  if (!isAbsolute(name) && !name.startsWith('.')) {
    throw new OptionsError('core', `must be one of ${CORE_NAMES.join(', ')} or the path of a core's folder (./… or absolute), got ${JSON.stringify(name)}`);
  }
  return resolve(name);
}

/** The core's BUILD_ENV.txt, or null for a folder without its build record. */
function buildRecord(dir: string): string | null {
  try {
    return readFileSync(join(dir, 'BUILD_ENV.txt'), 'utf8');
  } catch {
    return null;
  }
}

/** The licence BUILD_ENV.txt states for the build (`license: …`, as `ffmpeg -L` reports it). */
function licenceOf(record: string | null): string {
  const m = record === null ? null : /^licen[cs]e:\s*(.+)$/m.exec(record);
  // A folder without its build record: say nothing we cannot back.
  return m ? m[1]!.trim() : 'unknown';
}

/**
 * The H.264 encoder the build enabled. A core without its build record is taken to have x264,
 * as every @ffmpeg/core build does: if it has not, FFmpeg names the missing encoder.
 */
function h264EncoderOf(record: string | null): H264Encoder | null {
  if (record === null) return 'libx264';
  const encoders = /^encoders \(\d+\): (.*)$/m.exec(record)?.[1]?.split(' ') ?? [];
  return encoders.includes('libx264') ? 'libx264' : encoders.includes('libopenh264') ? 'libopenh264' : null;
}

export interface CoreDescription {
  name: string;
  kind: CoreFiles['kind'];
  licence: string;
  /** FFmpeg's version as the build states it. */
  ffmpeg: string;
  /** Where the core's files are. */
  dir: string;
  /** Enabled FFmpeg components by kind (decoders, encoders, …), as the build recorded them; undefined for the stock core. */
  components?: Record<string, string[]>;
}

/** What a core is, from its files alone (nothing is instantiated): for `sandcodec version`. */
export function describeCore(files: CoreFiles): CoreDescription {
  const dir = dirname(files.wasm);
  if (files.kind === 'stock') {
    const pkg = JSON.parse(readFileSync(join(dirname(dirname(dir)), 'package.json'), 'utf8')) as { version?: string };
    return { name: files.name, kind: files.kind, licence: files.licence, ffmpeg: `5.1.4 (@ffmpeg/core ${pkg.version ?? '?'})`, dir };
  }
  // A folder without its build record: report what the files alone say.
  const text = buildRecord(dir) ?? '';
  const components: Record<string, string[]> = {};
  for (const m of text.matchAll(/^(\w+) \(\d+\): (.*)$/gm)) components[m[1]!] = m[2]!.split(' ').filter(Boolean);
  const ffmpeg = /^ffmpeg: (.+)$/m.exec(text)?.[1]?.trim() ?? 'unknown';
  return { name: files.name, kind: files.kind, licence: files.licence, ffmpeg, dir, components };
}
