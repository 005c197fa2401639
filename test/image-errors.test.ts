// Bad images: each gives a typed error, and no output file is left behind.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { rawSharp, testPattern } from './helpers/image.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';

let engine: Engine;
let dir: string;
let jpg: Buffer;
let png: Buffer;
beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await makeTempDir('sandcodec-image-bad-');
  jpg = await rawSharp(testPattern(256, 192)).jpeg({ quality: 90 }).toBuffer();
  png = await rawSharp(testPattern(256, 192)).png().toBuffer();
});
afterAll(async () => {
  await engine.close();
  await removeTempDir(dir);
});

async function expectRefused(input: Uint8Array, code: string, extra: Record<string, unknown> = {}) {
  const out = join(dir, 'out.jpg');
  const err = await engine.resize(input, { width: 64, output: out, ...extra }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should fail').toBeDefined();
  expect(err).toMatchObject({ code });
  const set = await engine.imageSet(input, [{ width: 64 }, { width: 32, format: 'png' }], { outputDir: dir, baseName: 'set', ...extra }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(set).toMatchObject({ code });
  expect(await readdir(dir), 'no output, no temporary file').toEqual([]);
  return err as { code: string; message: string; details: Record<string, unknown> };
}

describe('bad images', () => {
  it('zero-length input', async () => {
    await expectRefused(new Uint8Array(0), 'E_INPUT_INVALID');
  });

  it('truncated JPEG, PNG, WebP and GIF', async () => {
    const webp = await rawSharp(testPattern(256, 192)).webp().toBuffer();
    const gif = await readFile(media('image', 'newtonscradle-animated.gif'));
    for (const file of [jpg, png, webp, gif]) {
      const e = await expectRefused(file.subarray(0, Math.floor(file.length * 0.6)), 'E_INPUT_INVALID');
      expect(e.message).toMatch(/truncated/);
    }
  });

  it('corrupted data', async () => {
    // Random bytes over the middle of the PNG's compressed data.
    const bad = Buffer.from(png);
    let seed = 7;
    for (let i = 200; i < bad.length - 200; i += 3) {
      seed = (seed * 1103515245 + 12345) & 0xffff;
      bad[i] = seed & 255;
    }
    await expectRefused(bad, 'E_INPUT_INVALID');
    // Garbage over the middle of a JPEG's entropy-coded data.
    const badJpg = Buffer.from(jpg);
    for (let i = Math.floor(badJpg.length / 3); i < (badJpg.length * 2) / 3; i += 5) badJpg[i] = 0xff;
    await expectRefused(badJpg, 'E_INPUT_INVALID');
    // A JPEG whose header is fine but whose SOF is cut short.
    const noSof = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x04, 0x08, 0x00]), Buffer.from([0xff, 0xd9])]);
    await expectRefused(noSof, 'E_INPUT_INVALID');
  });

  it("damage is told in the user's words; the decoder's own lines stay in details.log", async () => {
    // Garbage over the PNG's first IDAT: once with the chunk's CRC left stale, once made right,
    // so that only the inflater finds it.
    const idat = png.indexOf(Buffer.from('IDAT'));
    const length = png.readUInt32BE(idat - 4);
    const garbled = Buffer.from(png);
    for (let i = idat + 4 + 100; i < idat + 4 + 160; i++) garbled[i]! ^= 0x5a;
    const stale = await expectRefused(garbled, 'E_INPUT_INVALID');
    expect(stale.message).toBe("resize: the PNG image is damaged: a chunk's checksum does not match its data");
    const fixed = Buffer.from(garbled);
    fixed.writeUInt32BE(crc32(fixed.subarray(idat, idat + 4 + length)), idat + 4 + length);
    const inflate = await expectRefused(fixed, 'E_INPUT_INVALID');
    expect(inflate.message).toBe('resize: the PNG image is damaged: its compressed pixel data is corrupt');
    for (const e of [stale, inflate]) {
      expect(e.message).not.toMatch(/Conversion failed|Aborted|inflate returned|CRC mismatch|error -?\d/);
      expect((e.details.log as string[]).join('\n')).toMatch(/png/);
    }
  });

  it('huge declared dimensions are refused from the header, before decoding', async () => {
    // The same small JPEG claiming 30000×30000 (900 MP) in its SOF.
    const huge = Buffer.from(jpg);
    for (let at = 2; at < huge.length; ) {
      const len = huge.readUInt16BE(at + 2);
      if (huge[at + 1] === 0xc0) {
        huge.writeUInt16BE(30000, at + 5);
        huge.writeUInt16BE(30000, at + 7);
        break;
      }
      at += 2 + len;
    }
    const e = await expectRefused(huge, 'E_LIMIT');
    expect(e.details).toMatchObject({ limit: 'maxPixels', max: 24_000_000, actual: 900_000_000 });
    // A PNG whose IHDR says 65535×65535.
    const bigPng = Buffer.from(png);
    bigPng.writeUInt32BE(65535, 16);
    bigPng.writeUInt32BE(65535, 20);
    expect((await expectRefused(bigPng, 'E_LIMIT')).details.limit).toBe('maxPixels');
    // maxPixels is an option: a real 256×192 image over a lower limit.
    expect((await expectRefused(jpg, 'E_LIMIT', { maxPixels: 256 * 191 })).details.actual).toBe(256 * 192);
  });

  it('a header that lies about the size is caught after decoding', async () => {
    const lying = Buffer.from(png);
    lying.writeUInt32BE(300, 16); // IHDR width without fixing the CRC or the data
    await expectRefused(lying, 'E_INPUT_INVALID');
  });

  it('wrong extensions: content decides the input format, the output name must be an image type', async () => {
    // A PNG named .jpg is read as the PNG it is.
    const out = await engine.resize({ data: png, name: 'photo.jpg' }, { width: 64, format: 'png' });
    expect(out.source.format).toBe('png');
    // A text file named .jpg is not an image.
    await expectRefused(Buffer.from('this is not an image, whatever its name says\n'), 'E_INPUT_INVALID');
    await writeFile(join(dir, 'notes.jpg'), 'not a picture');
    await expect(engine.resize({ path: join(dir, 'notes.jpg') }, { width: 64 })).rejects.toMatchObject({ code: 'E_INPUT_INVALID' });
    await import('node:fs/promises').then((fs) => fs.rm(join(dir, 'notes.jpg')));
    // An output extension that is no image format sandcodec writes.
    await expect(engine.resize(jpg, { width: 64, output: join(dir, 'out.gif') })).rejects.toMatchObject({ code: 'E_OPTIONS' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('bad options name the option', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ width: 0 }, 'width'],
      [{ height: 1.5 }, 'height'],
      [{}, 'width'],
      [{ width: 10, fit: 'stretch' }, 'fit'],
      [{ width: 10, kernel: 'bicubic' }, 'kernel'],
      [{ width: 10, quality: 101 }, 'quality'],
      [{ width: 10, background: 'red' }, 'background'],
      [{ width: 10, position: 'middle' }, 'position'],
      [{ width: 10, format: 'gif' }, 'format'],
      [{ width: 10, colour: 'x' }, 'colour'],
    ];
    for (const [options, option] of cases) {
      await expect(engine.resize(jpg, options as never), option).rejects.toMatchObject({ code: 'E_OPTIONS', details: { option } });
    }
    await expect(engine.imageSet(jpg, [])).rejects.toMatchObject({ code: 'E_OPTIONS' });
    await expect(engine.imageSet(jpg, [{ width: 10 }, { width: 0 }])).rejects.toMatchObject({ details: { option: 'targets[1].width' } });
  });

  it('abort and progress', async () => {
    await expect(engine.resize(jpg, { width: 64, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'E_ABORTED' });
    const events: Array<{ phase: string; ratio: number }> = [];
    await engine.imageSet(jpg, [{ width: 64 }, { width: 32 }], { onProgress: (p) => events.push(p) });
    expect(events.at(-1)).toMatchObject({ phase: 'image-set', ratio: 1 });
  });

  it('the engine keeps working after bad images', async () => {
    const out = await engine.resize(await sharp(media('image', 'coffee.png')).toBuffer(), { width: 100, format: 'jpeg' });
    expect([out.width, out.height]).toEqual([100, 67]);
  });
});

/** CRC-32 (ISO 3309, as PNG chunks use it). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
