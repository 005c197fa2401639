/**
 * Lossy WebP with transparency: libwebp in the core compresses alpha with its lossless encoder,
 * which traps ("memory access out of bounds") at 500 px and up, so valid images with alpha failed
 * as if the engine were broken. The colour is lossy (libwebp), the alpha channel lossless
 * (written by sandcodec): libvips reads it back with the source's alpha exactly.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, SandcodecError } from '../dist/index.js';
import { psnr, type Raw, rawSharp, sharpRgba, testPattern } from './helpers/image.js';
import { media } from './helpers/media.js';

let engine: Engine;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
});

afterAll(async () => {
  await engine?.close();
});

function alphaOf(img: Raw): Uint8Array {
  const out = new Uint8Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i * 4 + 3]!;
  return out;
}

/** The alpha channel as a grey picture, to compare with `psnr`. */
function alphaPicture(img: Raw): Raw {
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i += 4) data.set([img.data[i + 3]!, img.data[i + 3]!, img.data[i + 3]!, 255], i);
  return { ...img, data };
}

/** PSNR of the colour where the picture is visible (alpha over half). */
function visiblePsnr(a: Raw, b: Raw): number {
  const mask = (img: Raw) => {
    const data = new Uint8Array(img.data);
    for (let i = 0; i < data.length; i += 4) {
      if (b.data[i + 3]! < 128) data.set([0, 0, 0], i);
      data[i + 3] = 255;
    }
    return { ...img, data };
  };
  return psnr(mask(a), mask(b));
}

describe('lossy WebP with alpha', () => {
  it('a 900×700 picture with a soft alpha edge: lossless alpha, lossy colour, read by libvips', async () => {
    const src = testPattern(900, 700, true);
    const png = await rawSharp(src).png().toBuffer();
    const out = await engine.resize(png, { width: 900, format: 'webp', quality: 85 });
    const meta = await sharp(out.bytes!).metadata();
    expect(meta.format).toBe('webp');
    expect(meta.hasAlpha).toBe(true);
    const back = await sharpRgba(out.bytes!);
    expect(Buffer.compare(Buffer.from(alphaOf(back)), Buffer.from(alphaOf(src)))).toBe(0);
    expect(visiblePsnr(back, src)).toBeGreaterThan(30);
  });

  it('the drawing on transparency, enlarged past 500 px, and with its metadata kept', async () => {
    const path = media('image', 'renpy-sylvie-rgba.png');
    const out = await engine.resize({ path }, { width: 600, format: 'webp', keepMetadata: true });
    expect([out.width, out.height]).toEqual([600, 921]);
    const back = await sharpRgba(out.bytes!);
    const reference = await sharpRgba(await sharp(path).resize(600).png().toBuffer());
    // Alpha resized by another kernel than libvips': close, not equal.
    expect(psnr(alphaPicture(back), alphaPicture(reference))).toBeGreaterThan(30);
    const meta = await sharp(out.bytes!).metadata();
    expect(meta.hasAlpha).toBe(true);
    expect(meta.icc).toBeDefined();
  });

  it('an output taller or wider than WebP can store is E_UNSUPPORTED before decoding, and fine as JPEG', async () => {
    const strip = await sharp({ create: { width: 40, height: 20000, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const err = await engine.resize(strip, { width: 40, format: 'webp' }).catch((e: unknown) => e as SandcodecError);
    expect(err).toBeInstanceOf(SandcodecError);
    expect((err as SandcodecError).code).toBe('E_UNSUPPORTED');
    expect((err as SandcodecError).message).toMatch(/WEBP stores at most 16383 pixels a side; the image would be 40×20000/);
    const jpeg = await engine.resize(strip, { width: 40, format: 'jpeg' });
    expect([jpeg.width, jpeg.height]).toEqual([40, 20000]);
  });
});
