/**
 * An FFmpeg core, whichever build it is: the stock `@ffmpeg/core` 0.12.10 (stock-core.ts) or one of
 * the cores built from Debian's sources in wasm-build/ (built-core.ts). `FFmpegCore.create` picks
 * the implementation from the core's files; the interface and shared types are in core-api.ts.
 */
import { resolveCore } from '../../util/core-files.js';
import { BuiltCore } from './built-core.js';
import type { FFmpegCore as CoreApi, CoreOptions } from './core-api.js';
import { StockCore } from './stock-core.js';

export * from './core-api.js';

export type FFmpegCore = CoreApi;

export const FFmpegCore = {
  /** Instantiates `module`, compiled from `options.core` (default: the engine's default core). */
  async create(module: WebAssembly.Module, options: CoreOptions): Promise<FFmpegCore> {
    const files = options.core ?? resolveCore(undefined);
    return files.kind === 'stock' ? StockCore.create(module, options, files) : BuiltCore.create(module, options, files);
  },
};
