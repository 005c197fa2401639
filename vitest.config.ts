import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));
const srcKernels = join(root, 'src', 'worker', 'kernels');

/**
 * The kernels tier runs the kernel modules from src/, but their wasm is built by
 * scripts/build-kernels.mjs into dist/worker/kernels/wasm/ and found through
 * `new URL('./wasm/…', import.meta.url)`. Each kernel module is told it lives at its dist/ path,
 * so that lookup lands on the built wasm without a TypeScript build.
 */
const kernelWasmFromDist = {
  name: 'sandcodec:kernel-wasm-from-dist',
  enforce: 'pre' as const,
  transform(code: string, id: string) {
    if (!id.startsWith(`${srcKernels}/`) || !code.includes('import.meta.url')) return null;
    const built = pathToFileURL(join(root, 'dist', relative(join(root, 'src'), id))).href;
    return { code: code.replaceAll('import.meta.url', JSON.stringify(built)), map: null };
  },
};

// Three tiers, one `vitest run`:
// - unit: pure functions imported from src/ — no build, seconds (`npm run test:unit`);
// - kernels: the AssemblyScript kernels from src/, needing only their wasm (`npm run test:kernels`);
// - integration: the built package in dist/ (worker threads load compiled JS), real FFmpeg runs.
// The tiers run in that order (groupOrder from 1: with one worker, vitest puts order-0 files last),
// so a broken pure function shows before the slow tiers start. Worker pools and FFmpeg runs are
// heavy: files run one at a time on a 2-core machine.
export default defineConfig({
  test: {
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 1 } } },
      { extends: true, plugins: [kernelWasmFromDist], test: { name: 'kernels', include: ['test/kernels/**/*.test.ts'], sequence: { groupOrder: 2 } } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/unit/**', 'test/kernels/**'],
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
