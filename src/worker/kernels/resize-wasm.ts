/**
 * Loads the resize kernel: each variant's `WebAssembly.Module` is compiled once per process and
 * instantiated per `Resizer`. The SIMD build is picked when the runtime validates a v128 probe;
 * the scalar build is the fallback and the cross-check.
 */
/// <reference path="../../types/webassembly.d.ts" />
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InternalError, UnsupportedError } from '../../errors.js';

export type ResizeVariant = 'simd' | 'scalar';

// WebAssembly's typings (the repo's `lib` has no DOM): one declaration for the whole source.
type WasmMemory = WebAssembly.Memory;
type WasmModule = WebAssembly.Module;

/** The kernel's exports (assembly/resize/index.ts). Pointers are byte offsets into `memory`. */
export interface ResizeExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  /** Produces destination rows [y0, y1) as described by the descriptor at `desc`. */
  run(desc: number, y0: number, y1: number): void;
  /** JPEG planes to RGBA8, rows [y0, y1) (assembly/resize/ycc.ts; see kernels/ycc.ts). */
  yccToRgba(planes: number, layout: number, width: number, height: number, out: number, scratch: number, y0: number, y1: number): void;
}

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — the wasm-feature-detect probe.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

let simd: boolean | undefined;

export function simdSupported(): boolean {
  if (simd === undefined) simd = WebAssembly.validate(SIMD_PROBE);
  return simd;
}

/** 'auto' (or nothing) picks SIMD when available; forcing 'simd' without support is an error. */
export function resolveVariant(requested: ResizeVariant | 'auto' | undefined): ResizeVariant {
  if (requested === 'scalar') return 'scalar';
  if (requested === 'simd' && !simdSupported()) {
    throw new UnsupportedError('variant: this runtime has no WebAssembly SIMD; use "scalar" or "auto"');
  }
  return simdSupported() ? 'simd' : 'scalar';
}

const modules = new Map<ResizeVariant, WasmModule>();

function wasmUrl(variant: ResizeVariant): URL {
  // Literal URLs, one per file, so bundlers that rewrite `new URL(…, import.meta.url)` see both.
  return variant === 'simd' ? new URL('./wasm/resize.simd.wasm', import.meta.url) : new URL('./wasm/resize.scalar.wasm', import.meta.url);
}

export function resizeModule(variant: ResizeVariant): WasmModule {
  let mod = modules.get(variant);
  if (!mod) {
    const url = wasmUrl(variant);
    try {
      mod = new WebAssembly.Module(readFileSync(fileURLToPath(url)));
    } catch (cause) {
      throw new InternalError(`resize kernel ${url.pathname} did not load; run scripts/build-kernels.mjs`, {}, { cause });
    }
    modules.set(variant, mod);
  }
  return mod;
}

/**
 * Kernel memory a thread keeps between image jobs, at most. A fresh instance's memory costs a page
 * fault per 4 KiB on first touch: on the machines measured, touching the 48 MB source of a 12 MP
 * picture took 170 ms, more than converting it. A kept instance's pages are already there.
 */
export const KEEP_BYTES = 128 * 1024 * 1024;

/** One released instance per variant, on this thread. */
const kept = new Map<ResizeVariant, ResizeExports>();

/** An instance of its own for the caller: the one kept on this thread, else a new one. */
export function instantiateResize(variant: ResizeVariant): ResizeExports {
  const wasm = kept.get(variant);
  if (wasm) {
    kept.delete(variant);
    return wasm;
  }
  return new WebAssembly.Instance(resizeModule(variant), {}).exports as unknown as ResizeExports;
}

/**
 * Hands an instance back when its caller is done with it. It is kept for the next caller on this
 * thread when its memory is within KEEP_BYTES, every byte past the module's own data zeroed: no
 * picture outlives its job.
 */
export function releaseResize(variant: ResizeVariant, wasm: ResizeExports): void {
  const buffer = wasm.memory.buffer;
  if (buffer.byteLength > KEEP_BYTES || kept.has(variant)) return;
  new Uint8Array(buffer, wasm.heapBase()).fill(0);
  kept.set(variant, wasm);
}
