/** The FFmpeg core's wasm, compiled once per process on the main thread and posted to every worker. */
import { readFileSync } from 'node:fs';
import { InternalError } from '../errors.js';
import { coreWasmPath } from '../util/core-files.js';

let compiled: Promise<WebAssembly.Module> | undefined;

/** Compiles the core's wasm once per process (~0.2 s); the Module can be posted to workers. */
export function compileCore(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(readFileSync(coreWasmPath())).catch((err: unknown) => {
    compiled = undefined;
    throw new InternalError(`cannot compile the FFmpeg core: ${(err as Error).message}`, {}, { cause: err });
  });
  return compiled;
}
