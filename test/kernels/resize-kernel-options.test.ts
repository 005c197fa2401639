// Resize options: every bad input is refused up front with an error naming the option (or the
// limit) and the expected shape. Kernels tier: needs the wasm of `node scripts/build-kernels.mjs`.
import { describe, expect, it } from 'vitest';
import { LimitError, OptionsError } from '../../src/errors.js';
import { DEFAULT_MAX_PIXELS, type ResizeOptions, Resizer, resizeRgba } from '../../src/worker/kernels/resize.js';

const src = { data: new Uint8Array(8 * 6 * 4).fill(200), width: 8, height: 6 };

function optionsError(fn: () => unknown): OptionsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OptionsError);
    return err as OptionsError;
  }
  throw new Error('expected an OptionsError');
}

describe('resize options', () => {
  it.each([
    ['width', { width: 0, height: 4 }, 'width: must be a positive integer, got 0'],
    ['width', { width: -3, height: 4 }, 'width: must be a positive integer, got -3'],
    ['width', { width: 2.5, height: 4 }, 'width: must be a positive integer, got 2.5'],
    ['height', { width: 4, height: Number.NaN }, 'height: must be a positive integer, got NaN'],
    ['width', {}, 'width: width or height (or both) is required'],
    ['kernel', { width: 4, kernel: 'bicubic' }, 'kernel: must be one of nearest, box, linear, catmull-rom, mitchell, lanczos2, lanczos3, got bicubic'],
    ['linearLight', { width: 4, linearLight: 'yes' }, 'linearLight: must be a boolean, got yes'],
    ['passOrder', { width: 4, passOrder: 'diagonal' }, 'passOrder: must be one of auto, horizontal-first, vertical-first, got diagonal'],
    ['maxPixels', { width: 4, maxPixels: 0 }, 'maxPixels: must be a positive integer, got 0'],
    ['variant', { width: 4, variant: 'gpu' }, 'variant: must be one of auto, simd, scalar, got gpu'],
  ])('rejects a bad %s', (option, options, message) => {
    const err = optionsError(() => resizeRgba(src, options as unknown as ResizeOptions));
    expect(err.code).toBe('E_OPTIONS');
    expect(err.details.option).toBe(option);
    expect(err.message).toBe(message);
  });

  it('checks the source image', () => {
    expect(optionsError(() => new Resizer(null as never)).details.option).toBe('src');
    expect(optionsError(() => new Resizer({ ...src, width: 0 })).message).toBe('src.width: must be a positive integer, got 0');
    expect(optionsError(() => new Resizer({ ...src, data: [1, 2, 3] as never })).details.option).toBe('src.data');
    expect(optionsError(() => new Resizer({ ...src, data: new Uint8Array(10) })).message).toBe('src.data: must hold width × height × 4 = 192 bytes, got 10');
  });

  it('accepts a Uint8ClampedArray source', () => {
    const clamped = new Uint8ClampedArray(src.data);
    expect(resizeRgba({ ...src, data: clamped as unknown as Uint8Array }, { width: 4 }).data).toHaveLength(4 * 3 * 4);
  });

  it('enforces maxPixels on the source and the output with a LimitError', () => {
    // One default for the kernel and the image calls (model/image-spec.ts).
    expect(DEFAULT_MAX_PIXELS).toBe(24_000_000);
    for (const run of [() => new Resizer(src, { maxPixels: 47 }), () => resizeRgba(src, { width: 100, height: 100, maxPixels: 9999 })]) {
      try {
        run();
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(LimitError);
        expect((err as LimitError).limit).toBe('maxPixels');
        expect((err as LimitError).code).toBe('E_LIMIT');
      }
    }
  });

  it('validates before doing any work: a refused call leaves the Resizer usable', () => {
    const r = new Resizer(src);
    optionsError(() => r.resize({ width: -1 }));
    expect(r.resize({ width: 4, height: 3 })).toMatchObject({ width: 4, height: 3 });
  });
});
