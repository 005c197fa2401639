/**
 * A single-thread built core keeps the heap of the instance a job used for the next instance of
 * the same budget: zeroed first up to the last run's high-water mark (its break: Emscripten's
 * heap only grows, and the data and the stack lie below it), so the next run starts as in fresh
 * memory and reads nothing the last one left; a heap made for another budget is not reused.
 */
import { describe, expect, it } from 'vitest';
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';

/** The instance (a private field: what the test looks at is the reuse itself). */
type Current = { memory: WebAssembly.Memory; module: { _sbrk(increment: number): number } };
const currentOf = (core: object): Current => (core as unknown as { current: Current }).current;
const memoryOf = (core: object): WebAssembly.Memory => currentOf(core).memory;

async function tone(core: Awaited<ReturnType<typeof FFmpegCore.create>>): Promise<number> {
  const exit = await core.exec(['-hide_banner', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.5:sample_rate=8000', '-f', 'wav', '/out.wav']);
  expect(exit.code).toBe(0);
  return core.FS.readFile('/out.wav').length;
}

describe('built core heap reuse', () => {
  it('the next instance gets the last heap, zeroed, and runs as on fresh memory; another budget gets a new heap', async () => {
    const files = resolveCore('gpl');
    const budget = 256 * 1024 * 1024;
    const core = await FFmpegCore.create(await compileCore(files), { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: budget, core: files });
    const size = await tone(core);
    expect(size).toBeGreaterThan(8000); // 0.5 s of 16-bit mono at 8 kHz, and its header
    const heap = memoryOf(core);
    // What a job could leave behind: everything below its break written over.
    const brk = currentOf(core).module._sbrk(0);
    expect(brk).toBeGreaterThan(1024 * 1024);
    expect(brk).toBeLessThan(heap.buffer.byteLength);
    new Uint8Array(heap.buffer, 0, brk).fill(0xa5);
    core.endJob();
    core.setHeapBudget(budget);
    expect(await tone(core)).toBe(size);
    expect(memoryOf(core)).toBe(heap);
    // Below the module's data and the run's allocations, nothing of the pattern is left.
    const bytes = new Uint8Array(heap.buffer);
    const top = bytes.subarray(bytes.length - 1024 * 1024);
    expect(top.every((b) => b === 0)).toBe(true);
    let pattern = 0;
    for (let i = 0; i + 4 <= bytes.length; i += 4) if (bytes[i] === 0xa5 && bytes[i + 1] === 0xa5 && bytes[i + 2] === 0xa5 && bytes[i + 3] === 0xa5) pattern++;
    expect(pattern).toBe(0);

    core.endJob();
    core.setHeapBudget(budget / 2);
    expect(await tone(core)).toBe(size);
    expect(memoryOf(core)).not.toBe(heap);
  });
});
