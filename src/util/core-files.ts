/** Where the FFmpeg core's files are: the Emscripten glue script and its wasm beside it. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function coreScriptPath(): string {
  return require.resolve('@ffmpeg/core');
}

export function coreWasmPath(): string {
  return coreScriptPath().replace(/\.js$/, '.wasm');
}
