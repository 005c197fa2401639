/** An FFmpeg core's wasm, compiled once per process on the main thread and posted to every worker. */
import { readFileSync } from 'node:fs';
import { InternalError } from '../errors.js';
import { type CoreFiles, resolveCore } from '../util/core-files.js';

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Compiles a core's wasm once per process (default: the default core); the Module can be posted to workers. */
export function compileCore(core: CoreFiles = resolveCore(undefined)): Promise<WebAssembly.Module> {
  let module = compiled.get(core.wasm);
  if (!module) {
    module = WebAssembly.compile(readFileSync(core.wasm)).catch((err: unknown) => {
      compiled.delete(core.wasm);
      throw new InternalError(`cannot compile the FFmpeg core ${core.name}: ${(err as Error).message}`, {}, { cause: err });
    });
    compiled.set(core.wasm, module);
  }
  return module;
}
