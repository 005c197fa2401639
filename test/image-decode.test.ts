// Image decoding through the engine: every input format and layout, compared pixel by pixel with
// libvips (sharp) decoding the same bytes. A resize to the source's own size skips the kernel and
// PNG output is lossless, so what comes back is exactly what the pipeline decoded.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { bmp, pixel, psnr, quadrants, type Raw, rawSharp, sharpRgba, testPattern } from './helpers/image.js';
import { media } from './helpers/media.js';

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
});
afterAll(() => engine.close());

/** Decodes through sandcodec (no resize, PNG out) and back to RGBA8 via sharp's PNG reader. */
async function decoded(input: Uint8Array, width: number): Promise<Raw & { source: Awaited<ReturnType<Engine['resize']>>['source'] }> {
  const out = await engine.resize(input, { width, format: 'png', compressionLevel: 1 });
  return { ...(await sharpRgba(out.bytes!)), source: out.source };
}

const pattern = testPattern(320, 240);
const patternAlpha = testPattern(160, 120, true);

describe('image decode: JPEG', () => {
  // YCbCr planes are converted the way libjpeg does it (fancy upsampling, its fixed-point matrix):
  // only the IDCTs differ from libvips' libjpeg-turbo, about 60 dB.
  for (const [label, opts, minDb] of [
    ['baseline 4:2:0', { chromaSubsampling: '4:2:0' }, 55],
    ['baseline 4:4:4', { chromaSubsampling: '4:4:4' }, 55],
    ['progressive 4:2:0', { progressive: true }, 55],
  ] as const) {
    it(`${label} matches libvips' decode`, async () => {
      const jpg = await rawSharp(pattern)
        .jpeg({ quality: 90, ...opts })
        .toBuffer();
      const ours = await decoded(jpg, 320);
      expect(ours.source).toMatchObject({ format: 'jpeg', width: 320, height: 240, orientation: 1, icc: 'none' });
      expect(psnr(ours, await sharpRgba(jpg))).toBeGreaterThan(minDb);
    });
  }

  it('4:2:2 (the corpus photo, progressive) matches libvips', async () => {
    const file = media('image', 'renpy-washington.jpg');
    const ours = await decoded(new Uint8Array(await sharp(file).toBuffer()), 1280);
    expect([ours.width, ours.height]).toEqual([1280, 720]);
    expect(psnr(ours, await sharpRgba(file))).toBeGreaterThan(38);
  });

  it('grayscale', async () => {
    const jpg = await rawSharp(pattern).greyscale().jpeg({ quality: 90 }).toBuffer();
    const ours = await decoded(jpg, 320);
    const px = pixel(ours, 100, 100);
    expect(px[0]).toBe(px[1]);
    expect(px[1]).toBe(px[2]);
    expect(psnr(ours, await sharpRgba(jpg))).toBeGreaterThan(60);
  });

  it('CMYK (Adobe inverted) with a CMYK profile: inks converted through its A2B0 table like libvips does', async () => {
    for (const progressive of [false, true]) {
      const jpg = await rawSharp(pattern).removeAlpha().toColourspace('cmyk').withIccProfile('cmyk').jpeg({ quality: 95, progressive }).toBuffer();
      const ours = await decoded(jpg, 320);
      expect(ours.source.icc).toBe('converted');
      const vips = await sharpRgba(await sharp(jpg).toColourspace('srgb').png().toBuffer());
      expect(psnr(ours, vips), `progressive ${progressive}`).toBeGreaterThan(40);
    }
  });

  it('CMYK without a profile: inks mixed naively, R = (1 − C)(1 − K)', async () => {
    const jpg = await rawSharp(pattern).removeAlpha().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    const ours = await decoded(jpg, 320);
    expect(ours.source.icc).toBe('ignored');
    // libvips falls back to its own CMYK profile: same picture, other colours.
    expect(psnr(ours, await sharpRgba(jpg))).toBeGreaterThan(14);
    // White paper stays white, full black stays dark.
    const paper = await rawSharp({ data: new Uint8Array(64 * 64 * 4).fill(255), width: 64, height: 64 })
      .removeAlpha()
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect(
      pixel(await decoded(paper, 64), 32, 32)
        .slice(0, 3)
        .every((v) => v >= 250),
    ).toBe(true);
  });
});

describe('image decode: PNG, WebP, GIF, BMP, TIFF', () => {
  it('PNG 8-bit RGB, RGBA, grayscale, palette and 16-bit', async () => {
    const cases: Array<[string, Buffer, number]> = [
      ['rgb', await rawSharp(pattern).removeAlpha().png().toBuffer(), 320],
      ['rgba', await rawSharp(patternAlpha).png().toBuffer(), 160],
      ['grey', await rawSharp(pattern).greyscale().png().toBuffer(), 320],
      ['palette', await rawSharp(pattern).png({ palette: true, colours: 64 }).toBuffer(), 320],
      ['16-bit', await rawSharp(pattern).toColourspace('rgb16').png().toBuffer(), 320],
    ];
    for (const [label, png, width] of cases) {
      const ours = await decoded(png, width);
      const db = psnr(ours, await sharpRgba(png));
      expect(db, label).toBeGreaterThan(label === '16-bit' ? 45 : 60);
    }
  });

  it('the corpus PNGs decode exactly', async () => {
    for (const name of ['astronaut.png', 'coffee.png', 'renpy-sylvie-rgba.png']) {
      const file = new Uint8Array(await sharp(media('image', name)).toBuffer());
      const ref = await sharpRgba(media('image', name));
      const ours = await decoded(file, ref.width);
      expect(psnr(ours, ref), name).toBe(Infinity);
    }
  });

  it('WebP lossy, lossless and with alpha', async () => {
    const lossy = await rawSharp(pattern).webp({ quality: 90 }).toBuffer();
    const lossless = await rawSharp(patternAlpha).webp({ lossless: true }).toBuffer();
    const alpha = await rawSharp(patternAlpha).webp({ quality: 90 }).toBuffer();
    expect(psnr(await decoded(lossy, 320), await sharpRgba(lossy))).toBeGreaterThan(35);
    expect(psnr(await decoded(lossless, 160), await sharpRgba(lossless))).toBe(Infinity);
    const a = await decoded(alpha, 160);
    expect(pixel(a, 80, 60)[3]).toBeLessThan(10);
    expect(pixel(a, 0, 0)[3]).toBe(255);
    expect(psnr(a, await sharpRgba(alpha))).toBeGreaterThan(35);
  });

  it('GIF: the first frame of an animation', async () => {
    const file = media('image', 'newtonscradle-animated.gif');
    const ours = await decoded(new Uint8Array(await sharp(file).toBuffer()), 200);
    expect(ours.source.format).toBe('gif');
    expect([ours.width, ours.height]).toEqual([200, 150]);
    expect(psnr(ours, await sharpRgba(file))).toBeGreaterThan(40);
  });

  it('BMP and TIFF', async () => {
    const b = bmp(pattern);
    expect(psnr(await decoded(b, 320), pattern)).toBe(Infinity);
    for (const compression of ['lzw', 'deflate', 'none'] as const) {
      const tiff = await rawSharp(pattern).tiff({ compression }).toBuffer();
      const t = await decoded(tiff, 320);
      expect(t.source.format).toBe('tiff');
      expect(psnr(t, pattern), compression).toBe(Infinity);
    }
    // JPEG-in-TIFF would come out in the wrong colours: refused instead.
    const jpegTiff = await rawSharp(pattern).tiff({ compression: 'jpeg' }).toBuffer();
    await expect(engine.resize(jpegTiff, { width: 32, format: 'png' })).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
  });
});

describe('image decode: EXIF orientation and ICC', () => {
  it('applies all 8 EXIF orientations (displayed size and pixels)', async () => {
    const q = quadrants(64, 32);
    const upright = await rawSharp(q).png().toBuffer();
    for (let o = 1; o <= 8; o++) {
      // sharp writes the tag; the stored pixels are the upright image un-done by orientation o.
      const stored = await sharp(upright)
        .rotate(o >= 5 ? -90 : 0)
        .toBuffer();
      const storedFlipped = await orientStored(stored, o);
      const jpg = await sharp(storedFlipped).withMetadata({ orientation: o }).jpeg({ quality: 95 }).toBuffer();
      expect((await sharp(jpg).metadata()).orientation).toBe(o);
      const ours = await decoded(jpg, 64);
      expect(ours.source.orientation).toBe(o);
      expect([ours.width, ours.height], `orientation ${o}`).toEqual([64, 32]);
      // Quadrant centres: red top-left, green top-right, blue bottom-left, white bottom-right.
      const centres = [pixel(ours, 16, 8), pixel(ours, 48, 8), pixel(ours, 16, 24), pixel(ours, 48, 24)];
      const expected = [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 255],
      ];
      centres.forEach((c, i) => {
        expected[i]!.forEach((v, ch) => {
          expect(Math.abs(c[ch]! - v), `orientation ${o} quadrant ${i}`).toBeLessThan(40);
        });
      });
      expect(psnr(ours, q), `orientation ${o}`).toBeGreaterThan(20);
    }
  });

  it('a Display P3 profile is converted to sRGB like libvips does', async () => {
    const jpg = await rawSharp(pattern).withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
    const ours = await decoded(jpg, 320);
    expect(ours.source.icc).toBe('converted');
    const vips = await sharpRgba(await sharp(jpg).toColourspace('srgb').png().toBuffer());
    const unconverted = await sharpRgba(await sharp(jpg, { ignoreIcc: true }).png().toBuffer());
    expect(psnr(ours, vips)).toBeGreaterThan(33);
    // Converting made a difference: the raw (unconverted) values are further from libvips' sRGB.
    expect(psnr(ours, vips)).toBeGreaterThan(psnr(unconverted, vips) + 3);
  });

  it('an sRGB profile changes nothing', async () => {
    const png = await rawSharp(pattern).withIccProfile('srgb').png().toBuffer();
    const ours = await decoded(png, 320);
    expect(ours.source.icc).toBe('srgb');
    expect(psnr(ours, pattern)).toBe(Infinity);
  });
});

/** The stored pixels for orientation o, given the upright picture rotated 90° CCW for 5–8. */
async function orientStored(img: Buffer, o: number): Promise<Buffer> {
  // Inverse of the display transform: 2 flop, 3 rotate 180, 4 flip; 5–8 from a -90° rotation.
  switch (o) {
    case 2:
      return sharp(img).flop().toBuffer();
    case 3:
      return sharp(img).rotate(180).toBuffer();
    case 4:
      return sharp(img).flip().toBuffer();
    case 5:
      return sharp(img).flip().toBuffer(); // transpose of upright = rotate -90 then flip
    case 6:
      return Promise.resolve(img);
    case 7:
      return sharp(img).flop().toBuffer();
    case 8:
      return sharp(img).rotate(180).toBuffer();
    default:
      return Promise.resolve(img);
  }
}
