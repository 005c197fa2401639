/**
 * Baseline YCbCr and grayscale JPEGs are decoded by libjpeg-turbo inside the built cores
 * (wasm-build/glue/jpeg-decode.c), whole or at 1/2, 1/4, 1/8 (shrink-on-load) as libvips decodes
 * them: a picture passed through unresized carries libvips' pixels exactly, 4:2:0, 4:2:2, 4:4:4
 * and grayscale. Progressive files, and every JPEG on the stock core (no libjpeg-turbo), are
 * decoded by FFmpeg: close to libvips, not the same. A damaged file is still invalid input; a
 * file whose decoding needs more than the heap cap is a limit.
 */
import { readFileSync } from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Vips from 'wasm-vips';
import { createEngine, type Engine } from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { psnr, type Raw, sharpRgba } from './helpers/image.js';
import { repoRoot } from './helpers/media.js';

// A photo cut to a multiple of 8 on both sides, so that every scale's size is exact (so is the 4:2:2 file's).
const PHOTO = `${repoRoot}/test/fixtures/photos/photo-09-paint-brushes.jpg`;
const WIDTH = 1360;
const HEIGHT = 1072;
const VARIANTS = {
  'baseline 4:2:0': (s: Sharp) => s.jpeg({ quality: 92, chromaSubsampling: '4:2:0' }),
  'baseline 4:4:4': (s: Sharp) => s.jpeg({ quality: 92, chromaSubsampling: '4:4:4' }),
  grayscale: (s: Sharp) => s.toColourspace('b-w').jpeg({ quality: 92 }),
  'progressive 4:2:0': (s: Sharp) => s.jpeg({ quality: 92, chromaSubsampling: '4:2:0', progressive: true }),
} as const;
const BASELINE = ['baseline 4:2:0', 'baseline 4:4:4', 'grayscale', 'baseline 4:2:2'];

let engine: Engine;
let stock: Engine;
let vips: Awaited<ReturnType<typeof Vips>>;
const files: Record<string, Uint8Array> = {};

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  stock = await createEngine({ workers: 1, core: 'stock' });
  vips = await Vips();
  const photo = sharp(PHOTO).extract({ left: 0, top: 0, width: WIDTH, height: HEIGHT });
  for (const [name, encode] of Object.entries(VARIANTS)) files[name] = new Uint8Array(await encode(photo.clone()).toBuffer());
  // 4:2:2 (luma sampled 2×1): sharp writes only 4:2:0 and 4:4:4 (see test/fixtures/made/README.md).
  files['baseline 4:2:2'] = new Uint8Array(readFileSync(`${repoRoot}/test/fixtures/made/jpeg-coffee-240-422.jpg`));
});

afterAll(async () => {
  await engine?.close();
  await stock?.close();
});

/** libvips' decode at 1/`shrink` (libjpeg-turbo's scaled IDCT, as its shrink-on-load uses), RGBA. */
async function vipsDecode(jpeg: Uint8Array, shrink: number): Promise<Raw> {
  const img = vips.Image.jpegloadBuffer(jpeg, { shrink });
  try {
    return await sharpRgba(img.writeToBuffer('.png', { compression: 0 }));
  } finally {
    img.delete();
  }
}

/** The engine's decode at 1/2^level, passed through unresized as PNG. */
async function decodeAt(e: Engine, jpeg: Uint8Array, level: number): Promise<{ raw: Raw; decoder: string; lowres: number }> {
  const size = await sharp(jpeg).metadata();
  const width = size.width! >> level;
  const height = size.height! >> level;
  const out = await e.resize(jpeg, { width, height, fit: 'fill', format: 'png', compressionLevel: 0, shrinkOnLoad: level ? 'fast' : false });
  return { raw: await sharpRgba(out.bytes!), decoder: out.source.decoder, lowres: out.lowres };
}

function worstDifference(a: Raw, b: Raw): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
  return worst;
}

describe('JPEG decoded by libjpeg-turbo', () => {
  it.each(BASELINE)('%s: libvips’ pixels, whole and at 1/2, 1/4, 1/8', async (name) => {
    const jpeg = files[name]!;
    for (const level of [0, 1, 2, 3]) {
      const ours = await decodeAt(engine, jpeg, level);
      expect(ours.lowres).toBe(level);
      expect(ours.decoder).toBe('libjpeg-turbo');
      expect(worstDifference(ours.raw, await vipsDecode(jpeg, 1 << level)), `${name} at 1/${1 << level}`).toBe(0);
    }
  });

  it('progressive files, and the stock core, decode through FFmpeg: close to libvips, not the same', async () => {
    const cases: Array<[string, Engine, string]> = [
      ['baseline 4:2:0', stock, 'stock core'],
      ['progressive 4:2:0', engine, 'gpl core'],
    ];
    for (const [name, e, core] of cases) {
      const jpeg = files[name]!;
      for (const level of [0, 1]) {
        const viaFfmpeg = await decodeAt(e, jpeg, level);
        expect(viaFfmpeg.decoder).toBe('ffmpeg');
        const db = psnr(viaFfmpeg.raw, await vipsDecode(jpeg, 1 << level));
        console.log(`${name} at 1/${1 << level}, FFmpeg (${core}): ${db.toFixed(1)} dB from libvips`);
        expect(db).toBeGreaterThan(level ? 30 : 45);
      }
    }
  });

  it('a damaged file is invalid input, and the worker serves the next job', async () => {
    const jpeg = files['baseline 4:2:0']!;
    const garbled = jpeg.slice();
    // Scramble the entropy-coded data after the headers (the scan starts within the first 700
    // bytes), making no marker: 0xFF bytes and the stuffed bytes after them stay.
    for (let i = 2000; i < garbled.length - 2; i += 5) {
      const scrambled = garbled[i]! ^ 0x35;
      if (garbled[i] !== 0xff && garbled[i - 1] !== 0xff && scrambled !== 0xff) garbled[i] = scrambled;
    }
    const err = await failure(engine.resize(garbled, { width: 100, format: 'jpeg' }));
    expect(err.code).toBe('E_INPUT_INVALID');
    expect(err.message).toMatch(/JPEG image is damaged/);
    const after = await engine.resize(jpeg, { width: 100, format: 'jpeg' });
    expect(after.source.decoder).toBe('libjpeg-turbo');
  });

  it("decodes a picture whose planes are larger than the core's heap: rows leave the heap strip by strip", async () => {
    // 8000×6000 of one colour: a few KB of JPEG and 72 MB of 4:2:0 planes decoded whole, with a
    // 64 MiB heap (32 MiB of it the core's own): held whole in the heap, the planes would not fit.
    const flat = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#336699' } })
      .jpeg({ chromaSubsampling: '4:2:0' })
      .toBuffer();
    const out = await engine.resize(new Uint8Array(flat), {
      width: 100,
      format: 'png',
      shrinkOnLoad: false,
      maxPixels: 50_000_000,
      limits: { maxHeapBytes: 64 * 1024 * 1024 },
    });
    expect(out.source.decoder).toBe('libjpeg-turbo');
    expect(out.lowres).toBe(0);
    const { data, info } = await sharp(out.bytes!).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([100, 75]);
    const want = [0x33, 0x66, 0x99];
    let worst = 0;
    for (let i = 0; i < data.length; i += info.channels) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(data[i + c]! - want[c]!));
    expect(worst).toBeLessThanOrEqual(2);
  });
});
