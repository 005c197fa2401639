import { defineConfig } from 'vitest/config';

// Tests exercise the built package in dist/ (the worker threads load compiled JS), so `npm test`
// builds first. Worker pools and FFmpeg runs are heavy: keep files serial on a 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
