/**
 * WebP stills are decoded by libwebp inside the built cores (wasm-build/glue/webp-decode.c), as
 * libvips decodes them: an image passed through unresized carries libvips' pixels, lossy and
 * lossless, with and without alpha. The stock core (no libwebp decoder) still decodes through
 * FFmpeg. A damaged or cut file is invalid input in the user's words, and the worker goes on.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { psnr, type Raw, sharpRgba } from './helpers/image.js';
import { media } from './helpers/media.js';

let engine: Engine;
let stock: Engine;
const cases: Record<string, Uint8Array> = {};

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  stock = await createEngine({ workers: 1, core: 'stock' });
  const photo = sharp(media('image', 'renpy-washington.jpg')).resize(1000);
  cases.lossy = new Uint8Array(await photo.clone().webp({ quality: 80 }).toBuffer());
  cases.lossless = new Uint8Array(await photo.clone().webp({ lossless: true }).toBuffer());
  cases['lossy with alpha'] = new Uint8Array(await sharp(media('image', 'renpy-sylvie-rgba.png')).webp({ quality: 75 }).toBuffer());
});

afterAll(async () => {
  await engine?.close();
  await stock?.close();
});

/** The picture through the engine unresized, as PNG, read back by libvips. */
async function passedThrough(e: Engine, webp: Uint8Array): Promise<Raw> {
  const { width } = await sharp(webp).metadata();
  const out = await e.resize(webp, { width: width!, format: 'png' });
  return sharpRgba(out.bytes!);
}

describe('WebP decoded by libwebp', () => {
  it.each(['lossy', 'lossless', 'lossy with alpha'])('%s: the pixels libvips decodes', async (name) => {
    const webp = cases[name]!;
    const want = await sharpRgba(webp);
    const ours = await passedThrough(engine, webp);
    expect([ours.width, ours.height]).toEqual([want.width, want.height]);
    let worst = 0;
    for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - want.data[i]!));
    expect(worst, `${name}: largest difference from libvips`).toBeLessThanOrEqual(1);
    // The stock core decodes through FFmpeg (its VP8 decoder and swscale): close, not the same.
    const viaFfmpeg = await passedThrough(stock, webp);
    console.log(
      `${name} WebP, PSNR against libvips: libwebp in the core ${psnr(ours, want).toFixed(1)} dB (worst ${worst}), FFmpeg (stock core) ${psnr(viaFfmpeg, want).toFixed(1)} dB`,
    );
    expect(psnr(viaFfmpeg, want)).toBeGreaterThan(35);
  });

  it('a cut or damaged file is invalid input in the user’s words, and the worker serves the next job', async () => {
    const lossy = cases.lossy!;
    const cut = lossy.slice(0, Math.floor(lossy.length * 0.6));
    // The RIFF and chunk sizes say the file is whole: only the bitstream ends early.
    new DataView(cut.buffer).setUint32(4, cut.length - 8, true);
    new DataView(cut.buffer).setUint32(16, cut.length - 20, true);
    const cutErr = await failure(engine.resize(cut, { width: 100, format: 'jpeg' }));
    expect(cutErr.code).toBe('E_INPUT_INVALID');
    expect(cutErr.message).toMatch(/WebP image is damaged: its pixel data ends early/);
    expect(JSON.stringify(cutErr.details)).toMatch(/libwebp: not enough data/);

    const garbled = lossy.slice();
    for (let i = 40; i < garbled.length; i += 7) garbled[i] = garbled[i]! ^ 0x5a;
    const garbledErr = await failure(engine.resize(garbled, { width: 100, format: 'jpeg' }));
    expect(garbledErr.code).toBe('E_INPUT_INVALID');
    expect(garbledErr.message).toMatch(/WebP image is damaged/);

    const after = await engine.resize(lossy, { width: 100, format: 'jpeg' });
    expect(after.width).toBe(100);
  });

  it('a picture whose pixels do not fit the heap cap is a limit', async () => {
    // 4000×4000 of one colour: a few hundred bytes of WebP, 64 MB of RGBA, in a 64 MiB heap the core already uses 32 MiB of.
    const flat = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: '#336699' } })
      .webp({ lossless: true })
      .toBuffer();
    const err = await failure(engine.resize(new Uint8Array(flat), { width: 100, format: 'jpeg', limits: { maxHeapBytes: 64 * 1024 * 1024 } }));
    expect(err.code).toBe('E_LIMIT');
    expect(err.message).toMatch(/maxHeapBytes/);
  });
});
