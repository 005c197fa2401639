/**
 * The resize kernels against Pillow's, on real photos: stored references made by
 * scripts/kernel-references.py (Pillow 9.4.0) for every kernel both libraries define, shrinking
 * by whole and fractional factors and enlarging. Nearest samples pixel centres exactly as Pillow
 * steps through them, so it picks the very same pixels; the filters agree to within rounding.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type ResizeKernel } from '../dist/index.js';
import { psnr, sharpRgba } from './helpers/image.js';
import { repoRoot } from './helpers/media.js';

const FIXTURES = join(repoRoot, 'test', 'fixtures');
const SOURCES: Record<string, string> = {
  coffee: join(FIXTURES, 'image', 'coffee.png'),
  astronaut: join(FIXTURES, 'image', 'astronaut.png'),
  'coffee-crop': join(FIXTURES, 'kernels', 'coffee-crop-120x80.png'),
};
/** Measured 52–60 dB: the two compute the same weights, rounding at different steps. */
const FILTER_DB = 50;

const references = readdirSync(join(FIXTURES, 'kernels'))
  .map((file) => /^(.+)-(nearest|box|linear|catmull-rom|lanczos3)-(\d+)x(\d+)\.png$/.exec(file))
  .filter((m) => m !== null)
  .map((m) => ({ file: m[0], source: m[1]!, kernel: m[2] as ResizeKernel, width: Number(m[3]), height: Number(m[4]) }));

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
});
afterAll(() => engine.close());

describe('resize kernels match Pillow’s', () => {
  it('has a reference for every kernel Pillow shares, shrinking and enlarging', () => {
    expect(new Set(references.map((r) => r.kernel))).toEqual(new Set(['nearest', 'box', 'linear', 'catmull-rom', 'lanczos3']));
    expect(references.length).toBe(30);
  });

  it.each(references.map((r) => [r.file, r] as const))('%s', async (_, r) => {
    const out = await engine.resize({ path: SOURCES[r.source]! }, { width: r.width, height: r.height, fit: 'fill', kernel: r.kernel, format: 'png' });
    const ours = await sharpRgba(out.bytes!);
    const reference = await sharpRgba(join(FIXTURES, 'kernels', r.file));
    const db = psnr(ours, reference);
    if (r.kernel === 'nearest') expect(db, 'the same source pixel for every output pixel').toBe(Infinity);
    else expect(db).toBeGreaterThan(FILTER_DB);
  });
});
