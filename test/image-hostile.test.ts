// Hostile images, each built here byte by byte: every one fails with the right typed error or
// decodes within bounds, and the worker keeps serving. Each case was a real defect: a profile
// inflated without a cap, an ICC table allocated from its declared size, a default that let one
// job take 2 GB, inputs read whole, outputs of any size, a TIFF decoded past its header, scans
// without end, and valid formats reported as garbage.
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { toProgressive } from '../dist/worker/image/jpeg-progressive.js';
import { rawSharp, sharpRgba, testPattern } from './helpers/image.js';
import {
  ascii,
  concat,
  ftyp,
  greyImageEntries,
  greyStrip,
  iccProfile,
  iccpChunk,
  jpegScans,
  mabHead,
  mft1Head,
  mft2Head,
  pngChunk,
  pngFile,
  rampRows,
  tiffFile,
  zlibRepeated,
} from './helpers/image-writers.js';
import { writeCmykJpeg } from './helpers/jpeg-writer.js';
import { makeTempDir, removeTempDir } from './helpers/media.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let engine: Engine;
let dir: string;
beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await makeTempDir('sandcodec-image-hostile-');
});
afterAll(async () => {
  await engine.close();
  await removeTempDir(dir);
});

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should fail').toBeDefined();
  return err as { code: string; message: string; details: Record<string, unknown> };
}

describe('metadata bombs: every piece of metadata has a cap', () => {
  let p3: Uint8Array;
  beforeAll(async () => {
    const tagged = await rawSharp(testPattern(8, 8)).withIccProfile('p3').png().toBuffer();
    p3 = new Uint8Array((await sharp(tagged).metadata()).icc!);
  });

  it('a PNG whose iCCP inflates to 1 GiB decodes, its profile ignored, in bounded memory', async () => {
    // ~1 MB of file: 1024 copies of a deflated MiB of zeros.
    const bomb = pngFile({ width: 64, height: 48, before: [iccpChunk(zlibRepeated(new Uint8Array(MiB), 1024))] });
    expect(bomb.length).toBeLessThan(2 * MiB);
    // FFmpeg's PNG decoder would inflate it too, into the wasm heap: it never sees the chunk.
    const out = await engine.resize(bomb, { width: 32, format: 'png', limits: { maxHeapBytes: 128 * MiB } });
    expect(out).toMatchObject({ width: 32, height: 24, source: { format: 'png', icc: 'ignored' } });
  });

  it('a real profile is used; the same profile padded past the 16 MiB cap is ignored', async () => {
    const used = await engine.resize(pngFile({ width: 16, height: 16, before: [iccpChunk(zlibRepeated(p3, 1))] }), { width: 8, format: 'png' });
    expect(used.source.icc).toBe('converted');
    const padded = zlibRepeated(new Uint8Array(MiB), 17, p3);
    const out = await engine.resize(pngFile({ width: 16, height: 16, before: [iccpChunk(padded)] }), { width: 8, format: 'png' });
    expect(out.source.icc).toBe('ignored');
  });

  it('zTXt bombs and huge private chunks are never handed to the decoder', async () => {
    const ztxt = pngChunk('zTXt', concat([ascii('Comment\0'), Uint8Array.of(0), zlibRepeated(new Uint8Array(MiB), 1024)]));
    const junk = pngChunk('prVt', new Uint8Array(8 * MiB));
    const out = await engine.resize(pngFile({ width: 20, height: 10, before: [ztxt, junk], after: [junk] }), {
      width: 10,
      format: 'png',
      limits: { maxHeapBytes: 64 * MiB },
    });
    expect(out).toMatchObject({ width: 10, height: 5, source: { icc: 'none' } });
  });
});

describe('ICC tables: declared sizes are checked against the data before anything is allocated', () => {
  const inks = { inks: new Uint8Array(8 * 8 * 4).fill(60), width: 8, height: 8 };

  it('a CMYK JPEG of under 1 KB whose lut8 claims a 100-point grid: profile ignored, inks mixed', async () => {
    // 100⁴ × 3 values would be 1.2 GB of floats; the tag holds 4 bytes of table.
    const icc = iccProfile('CMYK', [['A2B0', mft1Head(100, 4)]]);
    const file = writeCmykJpeg(inks, { transform: 0, icc, quality: 50 });
    expect(file.length).toBeLessThan(1024);
    const out = await engine.resize(file, { width: 8, format: 'png' });
    expect(out.source.icc).toBe('ignored');
  });

  it('mAB CLUTs and a lut16 claiming 100⁴ points with no table: ignored', async () => {
    for (const a2b0 of [mabHead(100, 8, 1), mabHead(100, 8, 2), mft2Head(100, 4)]) {
      const file = writeCmykJpeg(inks, { transform: 0, icc: iccProfile('CMYK', [['A2B0', a2b0]]) });
      expect((await engine.resize(file, { width: 8, format: 'png' })).source.icc).toBe('ignored');
    }
  });

  it('a lut16 that holds the table it declares is used', async () => {
    // 2 points per input, tables of 2 entries: the identity curves and a CLUT of Lab values.
    const grid = 2;
    const clut = grid ** 4 * 3;
    const tag = mft2Head(grid, (4 * 2 + clut + 3 * 2) * 2);
    const v = new DataView(tag.buffer);
    let at = 52;
    for (let c = 0; c < 4; c++) {
      v.setUint16(at, 0);
      v.setUint16(at + 2, 65535);
      at += 4;
    }
    for (let i = 0; i < clut; i += 3) {
      const inked = i / 3 > 0 ? 0.4 : 1; // white without ink, a dark grey with any
      v.setUint16(at, Math.round(inked * 65280));
      v.setUint16(at + 2, 32768);
      v.setUint16(at + 4, 32768);
      at += 6;
    }
    for (let c = 0; c < 3; c++) {
      v.setUint16(at, 0);
      v.setUint16(at + 2, 65535);
      at += 4;
    }
    const file = writeCmykJpeg(inks, { transform: 0, icc: iccProfile('CMYK', [['A2B0', tag]]) });
    expect((await engine.resize(file, { width: 8, format: 'png' })).source.icc).toBe('converted');
  });
});

describe('the default maxPixels bounds one job', () => {
  it('an image decoded at 16 bits per sample counts twice', async () => {
    const deep = pngFile({ width: 200, height: 100, colorType: 6, bitDepth: 16 });
    const e = await refusal(engine.resize(deep, { width: 50, maxPixels: 30_000 }));
    expect(e).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', max: 30_000, actual: 40_000, pixels: 20_000 } });
    expect(e.message).toMatch(/at 16 bits per sample, counted as 40000/);
    // The same picture at 8 bits is within the limit, and 16 bits within twice it.
    expect((await engine.resize(pngFile({ width: 200, height: 100, colorType: 6 }), { width: 50, maxPixels: 30_000 })).width).toBe(50);
    expect((await engine.resize(deep, { width: 50, maxPixels: 40_000, format: 'png' })).width).toBe(50);
  });

  it('a 100-megapixel PNG of a few hundred KB is refused at the defaults, from its header', async () => {
    const png = pngFile({ width: 10000, height: 10000 });
    expect(png.length).toBeLessThan(2 * MiB);
    const e = await refusal(engine.resize(png, { width: 64 }));
    expect(e).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', max: 24_000_000, actual: 100_000_000 } });
  });
});

/** A sparse host file: `parts` written at their offsets, the rest holes of zeros. */
function sparseFile(name: string, size: number, parts: Array<[number, Uint8Array]>): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    for (const [at, bytes] of parts) writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The CRC-32 of `type` followed by `length` zero bytes, computed without holding them. */
function zeroChunkCrc(type: string, length: number): number {
  const zeros = new Uint8Array(16 * MiB);
  let crc = crc32(ascii(type));
  for (let left = length; left > 0; left -= zeros.length) crc = crc32(zeros.subarray(0, Math.min(left, zeros.length)), crc);
  return crc;
}

describe('path inputs are read in bounded pieces, never whole', () => {
  it('a 1×1 PNG carrying 3 GiB of private chunks', async () => {
    const chunk = 1.5 * GiB;
    const head = pngFile({ width: 1, height: 1 }).subarray(0, 33);
    const tail = pngFile({ width: 1, height: 1 }).subarray(33);
    const crc = new Uint8Array(4);
    new DataView(crc.buffer).setUint32(0, zeroChunkCrc('prVt', chunk));
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(0, chunk);
    header.set(ascii('prVt'), 4);
    const second = 33 + 12 + chunk;
    const path = sparseFile('huge-chunks.png', second + 12 + chunk + tail.length, [
      [0, head],
      [33, header],
      [33 + 8 + chunk, crc],
      [second, header],
      [second + 8 + chunk, crc],
      [second + 12 + chunk, tail],
    ]);
    const out = await engine.resize({ path }, { width: 4, format: 'png', limits: { maxInputBytes: 4 * GiB, maxHeapBytes: 64 * MiB } });
    expect(out).toMatchObject({ width: 4, height: 4, source: { format: 'png', width: 1, height: 1 } });
  });

  it('a JPEG followed by 2.5 GiB of other data ending in an EOI: only the image reaches the decoder', async () => {
    const jpg = new Uint8Array(await rawSharp(testPattern(32, 24)).jpeg().toBuffer());
    const size = jpg.length + 2.5 * GiB;
    const path = sparseFile('trailing.jpg', size, [
      [0, jpg],
      [size - 2, Uint8Array.of(0xff, 0xd9)],
    ]);
    const out = await engine.resize({ path }, { width: 16, format: 'png', limits: { maxInputBytes: 3 * GiB, maxHeapBytes: 64 * MiB } });
    expect(out).toMatchObject({ width: 16, height: 12, source: { format: 'jpeg' } });
  });
});

describe('outputs and their intermediates are bounded by maxPixels', () => {
  let small: Uint8Array;
  beforeAll(async () => {
    small = new Uint8Array(await rawSharp(testPattern(100, 100)).png().toBuffer());
  });

  it('a 65535×65535 target is refused before anything is allocated', async () => {
    const e = await refusal(engine.resize(small, { width: 65535, height: 65535, fit: 'fill', format: 'png' }));
    expect(e).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', max: 24_000_000, actual: 65535 * 65535 } });
  });

  it('an enlargement and a letterbox canvas over maxPixels are refused', async () => {
    const enlarged = await refusal(engine.resize(small, { width: 8000, format: 'png' }));
    expect(enlarged).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', actual: 64_000_000 } });
    // The image itself is resized to 80×8000, only the canvas is large.
    const tall = new Uint8Array(await rawSharp(testPattern(10, 1000)).png().toBuffer());
    const canvas = await refusal(engine.resize(tall, { width: 8000, height: 8000, fit: 'contain', format: 'png' }));
    expect(canvas).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', actual: 64_000_000 } });
    expect(canvas.message).toMatch(/letterbox canvas would be 8000×8000/);
  });

  it('many targets are encoded in batches of at most maxPixels', async () => {
    // 40 000 source pixels, each target 62 500: every one within maxPixels, together 6 times it.
    const targets = [250, 250, 250, 250, 250, 250].map((width, i) => ({ width, format: i % 2 ? ('png' as const) : ('jpeg' as const) }));
    const set = await engine.imageSet(small, targets, { maxPixels: 100_000 });
    expect(set.images.map((i) => [i.width, i.height, i.format])).toEqual(targets.map((t) => [250, 250, t.format]));
    for (const image of set.images) expect((await sharpRgba(image.bytes!)).width).toBe(250);
  });
});

describe('TIFF: the header follows the IFDs the decoder decodes', () => {
  function thumbnailAndSubIfd(thumb: number, width: number, height: number): Uint8Array {
    const t = greyStrip(thumb, thumb, 200);
    const big = greyStrip(width, height, 60);
    return tiffFile(
      [
        { entries: [...greyImageEntries(thumb, thumb, 0, t.length), { tag: 254, type: 4, values: [1] }, { tag: 330, type: 4, values: [{ ifd: 1 }] }] },
        { entries: greyImageEntries(width, height, 1, big.length) },
      ],
      [t, big],
    );
  }

  it('a 1×1 reduced image whose SubIFD is 3000×3000 is checked at 3000×3000', async () => {
    const e = await refusal(engine.resize(thumbnailAndSubIfd(1, 3000, 3000), { width: 16, maxPixels: 1_000_000 }));
    expect(e).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', actual: 9_000_000 } });
  });

  it('a thumbnail-first file decodes its full-size SubIFD, reported at its size', async () => {
    const out = await engine.resize(thumbnailAndSubIfd(2, 64, 48), { width: 32, format: 'png' });
    expect(out).toMatchObject({ width: 32, height: 24, source: { format: 'tiff', width: 64, height: 48 } });
    const img = await sharpRgba(out.bytes!);
    expect(img.data[0]).toBeLessThan(100); // the grey-60 picture, not the white thumbnail
  });

  it('a multi-page TIFF decodes page one; the pages after it never reach the decoder', async () => {
    const first = greyStrip(16, 16, 90);
    const page = 20000 * 20000; // 400 MB of uncompressed grey on page two
    const ifds = tiffFile(
      [
        { entries: greyImageEntries(16, 16, 0, first.length), next: 1 },
        {
          entries: [
            { tag: 256, type: 4, values: [20000] },
            { tag: 257, type: 4, values: [20000] },
            { tag: 258, type: 3, values: [8] },
            { tag: 259, type: 3, values: [1] },
            { tag: 262, type: 3, values: [1] },
            { tag: 273, type: 4, values: [0] },
            { tag: 277, type: 3, values: [1] },
            { tag: 278, type: 4, values: [20000] },
            { tag: 279, type: 4, values: [page] },
          ],
        },
      ],
      [first],
    );
    // Page two's strip is the hole after the IFDs.
    const stripAt = ifds.length;
    const patched = ifds.slice();
    const v = new DataView(patched.buffer);
    for (let at = v.getUint32(4, true); ; ) {
      const next = v.getUint32(at + 2 + v.getUint16(at, true) * 12, true);
      if (next === 0) {
        for (let e = 0; e < v.getUint16(at, true); e++) if (v.getUint16(at + 2 + e * 12, true) === 273) v.setUint32(at + 2 + e * 12 + 8, stripAt, true);
        break;
      }
      at = next;
    }
    const path = sparseFile('pages.tiff', stripAt + page, [[0, patched]]);
    const out = await engine.resize({ path }, { width: 8, format: 'png', limits: { maxHeapBytes: 64 * MiB } });
    expect(out).toMatchObject({ width: 8, height: 8, source: { width: 16, height: 16 } });
  });
});

describe('JPEG scans are counted and capped at 500', () => {
  let parts: ReturnType<typeof jpegScans>;
  beforeAll(async () => {
    const baseline = new Uint8Array(await rawSharp(testPattern(64, 48)).jpeg({ quality: 90 }).toBuffer());
    parts = jpegScans(toProgressive(baseline));
    expect(parts.scans.length).toBeGreaterThan(2);
  });

  /** The progressive file with its last AC scan (coefficients rewritten to the same values) repeated. */
  const withScans = (total: number) => concat([parts.head, ...parts.scans, ...Array(total - parts.scans.length).fill(parts.scans.at(-1)!), parts.tail]);

  it('500 scans decode; 501 are refused before decoding', async () => {
    const ok = await engine.resize(withScans(500), { width: 32, format: 'png' });
    expect(ok).toMatchObject({ width: 32, height: 24 });
    const e = await refusal(engine.resize(withScans(501), { width: 32, format: 'png' }));
    expect(e).toMatchObject({ code: 'E_INPUT_INVALID', details: { maxScans: 500 } });
    expect(e.message).toMatch(/more than 500 scans/);
  });

  it('a frame header after the first scan is refused', async () => {
    const sof = parts.head.subarray(parts.head.findIndex((b, i) => b === 0xff && parts.head[i + 1] === 0xc2));
    const len = (sof[2]! << 8) | sof[3]!;
    const second = concat([parts.head, parts.scans[0]!, sof.subarray(0, 2 + len), ...parts.scans.slice(1), parts.tail]);
    const e = await refusal(engine.resize(second, { width: 16, format: 'png' }));
    expect(e).toMatchObject({ code: 'E_INPUT_INVALID' });
    expect(e.message).toMatch(/second frame header/);
  });
});

describe('valid formats without a decoder are E_UNSUPPORTED, named', () => {
  const body = new Uint8Array(64);
  const cases: Array<[string, Uint8Array, string]> = [
    ['HEIC', concat([ftyp('heic', ['mif1', 'heic']), body]), 'heic'],
    ['HEIF', concat([ftyp('mif1', ['mif1']), body]), 'heif'],
    ['JPEG XL', concat([Uint8Array.of(0xff, 0x0a, 0xfa, 0x1f), body]), 'jpeg-xl'],
    ['JPEG XL', concat([Uint8Array.of(0, 0, 0, 12), ascii('JXL '), Uint8Array.of(0x0d, 0x0a, 0x87, 0x0a), body]), 'jpeg-xl'],
    ['JPEG 2000', concat([Uint8Array.of(0, 0, 0, 12), ascii('jP  '), Uint8Array.of(0x0d, 0x0a, 0x87, 0x0a), body]), 'jpeg-2000'],
    ['JPEG 2000', concat([Uint8Array.of(0xff, 0x4f, 0xff, 0x51), body]), 'jpeg-2000'],
  ];

  it.each(cases)('%s', async (name, file, format) => {
    const e = await refusal(engine.resize(file, { width: 16 }));
    expect(e).toMatchObject({ code: 'E_UNSUPPORTED', details: { format } });
    expect(e.message).toContain(`a ${name} image`);
  });

  it('an AVIF brand with no items behind it is not a valid AVIF (image-avif.test.ts decodes real ones)', async () => {
    for (const file of [concat([ftyp('avif', ['avif', 'mif1', 'miaf']), body]), concat([ftyp('mif1', ['mif1', 'avif']), body])]) {
      const e = await refusal(engine.resize(file, { width: 16 }));
      expect(e.code).toBe('E_INPUT_INVALID');
      expect(e.message).toMatch(/AVIF header is invalid: no meta box/);
    }
  });

  it('other ISO BMFF files (an MP4) are still not images', async () => {
    const e = await refusal(engine.resize(concat([ftyp('isom', ['isom', 'iso2', 'mp41']), body]), { width: 16 }));
    expect(e.code).toBe('E_INPUT_INVALID');
  });

  it('the worker still serves after every hostile file', async () => {
    const out = await engine.resize(pngFile({ width: 8, height: 8, idat: rampRows(8, 8, 3) }), { width: 4, format: 'png' });
    expect([out.width, out.height]).toEqual([4, 4]);
  });
});
