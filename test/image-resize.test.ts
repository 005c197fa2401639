// Resizing through the engine: fit modes and exact output sizes on the displayed (EXIF-oriented)
// image, quality against the lanczos3 TypeScript oracle and against libvips, shrink-on-load,
// encoder options, metadata, and the cover-art set from one decode.
import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { resizeRgbaReference } from '../dist/worker/kernels/resize-reference.js';
import { pixel, psnr, quadrants, rawSharp, sharpRgba, ssim, testPattern } from './helpers/image.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';

let engine: Engine;
let dir: string | undefined;
beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir('sandcodec-image-');
});
afterAll(async () => {
  await engine.close();
  await removeTempDir(dir);
});

const MAGENTA = [255, 0, 255, 255];

async function pngOut(input: Uint8Array | { path: string }, options: Parameters<Engine['resize']>[1]) {
  const out = await engine.resize(input, { format: 'png', ...options });
  const img = await sharpRgba(out.bytes!);
  expect([img.width, img.height]).toEqual([out.width, out.height]);
  return { out, img };
}

describe('fit modes and output sizes', () => {
  const wide = quadrants(400, 200);
  let widePng: Uint8Array;
  beforeAll(async () => {
    widePng = await rawSharp(wide).png().toBuffer();
  });

  it('only a width or only a height keeps the aspect ratio, rounded', async () => {
    const coffee = { path: media('image', 'coffee.png') }; // 600×400
    expect((await engine.resize(coffee, { width: 333, format: 'png' })).height).toBe(222);
    expect((await engine.resize(coffee, { height: 101, format: 'png' })).width).toBe(152);
    expect((await engine.resize(coffee, { width: 1, format: 'png' })).height).toBe(1);
  });

  it('fill ignores the aspect ratio', async () => {
    const { out } = await pngOut(widePng, { width: 50, height: 120, fit: 'fill' });
    expect([out.width, out.height]).toEqual([50, 120]);
  });

  it('cover crops at the position', async () => {
    const centre = await pngOut(widePng, { width: 100, height: 100, fit: 'cover' });
    expect(pixel(centre.img, 10, 10).slice(0, 3)).toEqual([255, 0, 0]);
    expect(pixel(centre.img, 90, 10).slice(0, 3)).toEqual([0, 255, 0]);
    const left = await pngOut(widePng, { width: 100, height: 100, fit: 'cover', position: 'left' });
    expect(pixel(left.img, 90, 10).slice(0, 3)).toEqual([255, 0, 0]);
    expect(pixel(left.img, 90, 90).slice(0, 3)).toEqual([0, 0, 255]);
    const right = await pngOut(widePng, { width: 100, height: 100, fit: 'cover', position: 'top right' });
    expect(pixel(right.img, 10, 10).slice(0, 3)).toEqual([0, 255, 0]);
    expect(pixel(right.img, 10, 90).slice(0, 3)).toEqual([255, 255, 255]);
  });

  it('contain letterboxes with the background at the position', async () => {
    const centre = await pngOut(widePng, { width: 200, height: 200, fit: 'contain', background: '#ff00ff' });
    expect([centre.out.width, centre.out.height]).toEqual([200, 200]);
    expect(pixel(centre.img, 100, 10)).toEqual(MAGENTA);
    expect(pixel(centre.img, 100, 190)).toEqual(MAGENTA);
    expect(pixel(centre.img, 20, 70).slice(0, 3)).toEqual([255, 0, 0]);
    const top = await pngOut(widePng, { width: 200, height: 200, fit: 'contain', position: 'top', background: '#ff00ff80' });
    expect(pixel(top.img, 20, 10).slice(0, 3)).toEqual([255, 0, 0]);
    expect(pixel(top.img, 100, 190)).toEqual([255, 0, 255, 128]);
  });

  it('inside and outside return the scaled size; withoutEnlargement never scales up', async () => {
    expect(await engine.resize(widePng, { width: 200, height: 200, fit: 'inside', format: 'png' })).toMatchObject({ width: 200, height: 100 });
    expect(await engine.resize(widePng, { width: 100, height: 100, fit: 'outside', format: 'png' })).toMatchObject({ width: 200, height: 100 });
    expect(await engine.resize(widePng, { width: 1000, withoutEnlargement: true, format: 'png' })).toMatchObject({ width: 400, height: 200 });
    expect(await engine.resize(widePng, { width: 800, height: 800, fit: 'cover', withoutEnlargement: true, format: 'png' })).toMatchObject({
      width: 400,
      height: 200,
    });
    expect(await engine.resize(widePng, { width: 1000, format: 'png' })).toMatchObject({ width: 1000, height: 500 });
  });

  it('sizes are those of the EXIF-oriented image', async () => {
    // Stored 64×32 with orientation 6: displayed 32×64.
    const jpg = await rawSharp(quadrants(64, 32)).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const out = await engine.resize(jpg, { width: 16, format: 'png' });
    expect(out.source).toMatchObject({ width: 32, height: 64, orientation: 6 });
    expect([out.width, out.height]).toEqual([16, 32]);
  });
});

describe('quality', () => {
  it('downscales match the lanczos3 TypeScript oracle (PSNR ≥ 40 dB), alpha compared premultiplied', async () => {
    for (const [name, width, linearLight] of [
      ['coffee.png', 300, false],
      ['astronaut.png', 160, true],
      ['renpy-sylvie-rgba.png', 200, false],
    ] as const) {
      const source = await sharpRgba(media('image', name));
      const { img } = await pngOut({ path: media('image', name) }, { width, linearLight });
      const oracle = resizeRgbaReference(source, { width: img.width, height: img.height, kernel: 'lanczos3', linearLight });
      expect(psnr(img, oracle), name).toBeGreaterThanOrEqual(40);
    }
  });

  it('downscales are close to libvips lanczos3 (numbers recorded in BENCHMARKS.md)', async () => {
    for (const [name, width, minDb] of [
      ['coffee.png', 300, 45],
      ['astronaut.png', 200, 45],
      ['renpy-sylvie-rgba.png', 200, 45],
    ] as const) {
      const { img } = await pngOut({ path: media('image', name) }, { width });
      const vips = await sharpRgba(await sharp(media('image', name)).resize(img.width, img.height, { kernel: 'lanczos3', fit: 'fill' }).png().toBuffer());
      const db = psnr(img, vips);
      const s = ssim(img, vips);
      console.log(`vs libvips ${name} → ${img.width}×${img.height}: PSNR ${db.toFixed(2)} dB, SSIM ${s.toFixed(4)}`);
      expect(db, name).toBeGreaterThan(minDb);
      expect(s, name).toBeGreaterThan(0.98);
    }
  });

  it('JPEG shrink-on-load: the quality rule and the fast rule choose their scales, and stay close to the full decode', async () => {
    const file = { path: media('image', 'renpy-washington.jpg') }; // 1280×720
    const lowres = async (width: number, shrinkOnLoad?: 'fast') =>
      (await engine.resize(file, { width, format: 'png', ...(shrinkOnLoad ? { shrinkOnLoad } : {}) })).lowres;
    // Quality: 1/2 once 10× is left to the kernel, 1/4 once 32× is.
    expect(await lowres(300)).toBe(0);
    expect(await lowres(64)).toBe(1);
    expect(await lowres(8)).toBe(2);
    // Fast (sharp's default): the smallest scale still as large as the target.
    expect(await lowres(700, 'fast')).toBe(0);
    expect(await lowres(640, 'fast')).toBe(1);
    expect(await lowres(320, 'fast')).toBe(2);
    expect(await lowres(160, 'fast')).toBe(3);
    const full = await pngOut(file, { width: 64, shrinkOnLoad: false });
    const quality = await pngOut(file, { width: 64 });
    const fast = await pngOut(file, { width: 64, shrinkOnLoad: 'fast' });
    expect(full.out.lowres).toBe(0);
    const [q, f] = [psnr(quality.img, full.img), psnr(fast.img, full.img)];
    console.log(`shrink-on-load vs full decode, 1280×720 → 64: 1/2 (default) ${q.toFixed(2)} dB, 1/8 (fast) ${f.toFixed(2)} dB`);
    expect(q).toBeGreaterThan(45);
    expect(f).toBeGreaterThan(30);
  });
});

describe('encoders and metadata', () => {
  const src = testPattern(320, 240);
  let png: Uint8Array;
  beforeAll(async () => {
    png = await rawSharp(src).png().toBuffer();
  });

  it('JPEG: quality and chroma subsampling', async () => {
    const q90 = await engine.resize(png, { width: 320, format: 'jpeg', quality: 90 });
    const q30 = await engine.resize(png, { width: 320, format: 'jpeg', quality: 30 });
    const full = await engine.resize(png, { width: 320, format: 'jpeg', quality: 90, chromaSubsampling: '4:4:4' });
    expect(q30.size).toBeLessThan(q90.size);
    // Sampling factors (h << 4 | v) per component from the SOF: luma 2×2 over 1×1 chroma is 4:2:0;
    // all components alike is 4:4:4 (FFmpeg writes 1×2 for each, which libvips misnames 4:2:0).
    expect(sofSampling(q90.bytes!)).toEqual([0x22, 0x11, 0x11]);
    const s444 = sofSampling(full.bytes!);
    expect(s444.every((f) => f === s444[0])).toBe(true);
    // The same quality means about the same fidelity as libjpeg (mozjpeg) in sharp.
    for (const [ours, quality] of [
      [q90, 90],
      [q30, 30],
    ] as const) {
      const theirs = await rawSharp(src).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
      const [a, b] = [psnr(await sharpRgba(ours.bytes!), src), psnr(await sharpRgba(theirs), src)];
      console.log(`JPEG q${quality}: sandcodec ${ours.size} B ${a.toFixed(2)} dB, sharp ${theirs.length} B ${b.toFixed(2)} dB`);
      expect(a).toBeGreaterThan(b - 3);
    }
    // Progressive: the baseline scan transcoded, so libjpeg decodes the very same pixels.
    for (const chromaSubsampling of ['4:2:0', '4:4:4'] as const) {
      const base = await engine.resize({ path: media('image', 'coffee.png') }, { width: 301, format: 'jpeg', quality: 85, chromaSubsampling });
      const prog = await engine.resize(
        { path: media('image', 'coffee.png') },
        { width: 301, format: 'jpeg', quality: 85, chromaSubsampling, progressive: true, keepMetadata: true },
      );
      const meta = await sharp(prog.bytes!).metadata();
      expect([meta.isProgressive, meta.width, meta.height, meta.orientation], chromaSubsampling).toEqual([true, 301, 201, 1]);
      expect((await sharp(base.bytes!).metadata()).isProgressive).toBe(false);
      expect(Buffer.compare(await sharp(base.bytes!).raw().toBuffer(), await sharp(prog.bytes!).raw().toBuffer()), chromaSubsampling).toBe(0);
      // And it reads back through sandcodec's own decoders: libjpeg-turbo decodes the baseline
      // file to libvips' pixels, FFmpeg the progressive one (faster there) to nearly the same.
      const ownDecode = async (jpg: Uint8Array) => sharpRgba((await engine.resize(jpg, { width: 301, format: 'png' })).bytes!);
      const libvips = await sharpRgba(base.bytes!);
      expect(psnr(await ownDecode(base.bytes!), libvips), chromaSubsampling).toBe(Infinity);
      expect(psnr(await ownDecode(prog.bytes!), libvips), chromaSubsampling).toBeGreaterThan(50);
    }
  });

  it('PNG compression level; WebP lossless is exact, lossy quality trades size', async () => {
    const fast = await engine.resize(png, { width: 320, format: 'png', compressionLevel: 0 });
    const small = await engine.resize(png, { width: 320, format: 'png', compressionLevel: 9 });
    expect(small.size).toBeLessThan(fast.size);
    expect(psnr(await sharpRgba(small.bytes!), src)).toBe(Infinity);
    // Lossless WebP (VP8L written by sandcodec) is exact, alpha included, and read by libwebp.
    const lossless = await engine.resize(png, { width: 320, format: 'webp', lossless: true });
    expect((await sharp(lossless.bytes!).metadata()).format).toBe('webp');
    expect(psnr(await sharpRgba(lossless.bytes!), src)).toBe(Infinity);
    const sylvie = await engine.resize({ path: media('image', 'renpy-sylvie-rgba.png') }, { width: 456, format: 'webp', lossless: true });
    const sylviePixels = await sharpRgba(sylvie.bytes!);
    expect(Buffer.compare(Buffer.from(sylviePixels.data), Buffer.from((await sharpRgba(media('image', 'renpy-sylvie-rgba.png'))).data))).toBe(0);
    const hi = await engine.resize(png, { width: 320, format: 'webp', quality: 90 });
    const lo = await engine.resize(png, { width: 320, format: 'webp', quality: 20 });
    expect(lo.size).toBeLessThan(hi.size);
    const theirs = await rawSharp(src).webp({ quality: 90 }).toBuffer();
    const [a, b] = [psnr(await sharpRgba(hi.bytes!), src), psnr(await sharpRgba(theirs), src)];
    console.log(`WebP q90: sandcodec ${hi.size} B ${a.toFixed(2)} dB, sharp ${theirs.length} B ${b.toFixed(2)} dB`);
    expect(a).toBeGreaterThan(b - 3);
  });

  it('metadata is stripped by default and kept (upright, sRGB-tagged) when asked', async () => {
    const jpg = await rawSharp(quadrants(64, 32)).withMetadata({ orientation: 6 }).withIccProfile('p3').jpeg().toBuffer();
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const plain = await engine.resize(jpg, { width: 16, format });
      const meta = await sharp(plain.bytes!).metadata();
      expect(meta.exif, format).toBeUndefined();
      expect(meta.icc, format).toBeUndefined();
      const kept = await engine.resize(jpg, { width: 16, format, keepMetadata: true });
      const keptMeta = await sharp(kept.bytes!).metadata();
      expect([keptMeta.width, keptMeta.height, keptMeta.orientation], format).toEqual([16, 32, 1]);
      expect(keptMeta.icc?.length, format).toBeGreaterThan(0);
      // Our own reader finds the profile is sRGB, and the file reads back upright.
      const again = await engine.resize(kept.bytes!, { width: 16, format: 'png' });
      expect(again.source, format).toMatchObject({ icc: 'srgb', orientation: 1, width: 16, height: 32 });
    }
  });
});

describe('cover-art set', () => {
  it('640, 300 and 64 px JPEG from one decode of a 3000×3000 upload, written to a directory', async () => {
    const upload = await sharp(media('image', 'astronaut.png')).resize(3000, 3000).jpeg({ quality: 92 }).toBuffer();
    const set = await engine.imageSet(
      { data: upload, name: 'album.jpg' },
      [640, 300, 64].map((width) => ({ width, format: 'jpeg' as const })),
      { outputDir: dir! },
    );
    // Decoded whole: 640 px is only 4.7× smaller (the quality rule wants 10× left at 1/2).
    expect(set.lowres).toBe(0);
    expect(set.images.map((i) => [i.width, i.height, i.format])).toEqual([
      [640, 640, 'jpeg'],
      [300, 300, 'jpeg'],
      [64, 64, 'jpeg'],
    ]);
    const files = (await readdir(dir!)).filter((f) => f.startsWith('album-')).sort();
    expect(files).toEqual(['album-300.jpg', 'album-64.jpg', 'album-640.jpg']);
    for (const image of set.images) {
      const meta = await sharp(image.path!).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([image.width, image.height, 'jpeg']);
    }
    const mixed = await engine.imageSet(upload, [
      { width: 640, format: 'jpeg' },
      { width: 300, format: 'webp' },
      { width: 64, height: 32, format: 'png' },
    ]);
    expect(mixed.images.map((i) => [i.format, i.width, i.height])).toEqual([
      ['jpeg', 640, 640],
      ['webp', 300, 300],
      ['png', 64, 32],
    ]);
    expect((await sharp(mixed.images[1]!.bytes!).metadata()).format).toBe('webp');
  });
});

function sofSampling(jpg: Uint8Array): number[] {
  for (let at = 2; at + 4 < jpg.length; ) {
    const marker = jpg[at + 1]!;
    const len = (jpg[at + 2]! << 8) | jpg[at + 3]!;
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      const n = jpg[at + 9]!;
      return Array.from({ length: n }, (_, i) => jpg[at + 11 + i * 3]!);
    }
    at += 2 + len;
  }
  throw new Error('no SOF');
}
