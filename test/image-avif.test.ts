/**
 * AVIF stills through the image pipeline: the primary item decoded by dav1d from a view of the
 * file the demuxer can read, compared pixel by pixel with libheif's decode of the same bytes
 * (sharp); 10-bit pictures; an alpha plane (an item of its own); irot/imir turned upright; the
 * item layouts other writers use (two extents, idat); and the files it cannot decode, refused
 * with a typed error that names them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { isoBox as box, concatBytes as concat, u32be as u32 } from '../dist/util/bytes.js';
import { failure } from './helpers/failure.js';
import { psnr, type Raw, sharpRgba } from './helpers/image.js';
import { repoRoot } from './helpers/media.js';

const made = (name: string) => new Uint8Array(readFileSync(`${repoRoot}/test/fixtures/made/${name}`));
const COFFEE = made('avif-coffee-320.avif');

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
});
afterAll(() => engine.close());

/** Decoded by sandcodec at the displayed size (no resize), PNG out, back to RGBA8. */
async function decoded(input: Uint8Array, width: number) {
  const out = await engine.resize(input, { width, format: 'png', compressionLevel: 1 });
  return { ...(await sharpRgba(out.bytes!)), source: out.source };
}

/** Alpha bytes of an RGBA8 picture. */
const alphaOf = (img: Raw) => img.data.filter((_, i) => i % 4 === 3);

describe('AVIF stills', () => {
  // libheif (in sharp) and FFmpeg's swscale turn YUV into RGB with other chroma filters: about
  // 42 dB apart on this photo. (Measured once against libavif's avifdec: 48 dB; and against the
  // PNG the file was encoded from, sandcodec 34.0 dB, libheif 33.4 dB, avifdec 33.8 dB.)
  const SAME_PICTURE_DB = 40;

  it('an 8-bit 4:2:0 picture decodes to libheif’s pixels', async () => {
    const ours = await decoded(COFFEE, 320);
    expect(ours.source).toMatchObject({ format: 'avif', width: 320, height: 214, orientation: 1, icc: 'none' });
    expect(psnr(ours, await sharpRgba(COFFEE))).toBeGreaterThan(SAME_PICTURE_DB);
  });

  it('a 10-bit picture decodes, and counts twice against maxPixels', async () => {
    const file = made('avif-coffee-320-10bit.avif');
    const ours = await decoded(file, 320);
    expect(psnr(ours, await sharpRgba(file))).toBeGreaterThan(SAME_PICTURE_DB);
    // 320 × 214 = 68,480 pixels at two bytes per sample.
    const e = await failure(engine.resize(file, { width: 32, maxPixels: 100_000 }));
    expect(e).toMatchObject({ code: 'E_LIMIT', details: { limit: 'maxPixels', actual: 136_960 } });
    // The same size in 8 bits fits.
    expect((await engine.resize(COFFEE, { width: 32, maxPixels: 100_000 })).width).toBe(32);
  });

  it('the alpha plane (an auxiliary item) comes back exactly, and the colour under it', async () => {
    const file = made('avif-sylvie-200-alpha.avif');
    const ours = await decoded(file, 200);
    const ref = await sharpRgba(file);
    expect([ours.width, ours.height]).toEqual([200, 308]);
    expect(alphaOf(ours)).toEqual(alphaOf(ref));
    // Transparent and opaque pixels both: the drawing sits on a transparent background.
    expect(alphaOf(ours).some((a) => a === 0)).toBe(true);
    expect(alphaOf(ours).some((a) => a === 255)).toBe(true);
    expect(psnr(ours, ref)).toBeGreaterThan(SAME_PICTURE_DB);
    // Resized with its alpha: WebP keeps it.
    const small = await engine.resize(file, { width: 100, format: 'webp', lossless: true });
    expect(alphaOf(await sharpRgba(small.bytes!)).some((a) => a === 0)).toBe(true);
  });

  it('irot and imir turn the picture upright, as libheif shows it', async () => {
    const file = made('avif-coffee-320-irot1-imir1.avif');
    const ours = await decoded(file, 214);
    // A quarter turn anticlockwise, then left-right: EXIF's orientation 7 (transverse).
    expect(ours.source).toMatchObject({ width: 214, height: 320, orientation: 7 });
    const ref = await sharpRgba(file);
    expect([ref.width, ref.height]).toEqual([214, 320]);
    expect(psnr(ours, ref)).toBeGreaterThan(SAME_PICTURE_DB);
  });

  it('an item in two extents, and an item in idat, decode to the same pixels', async () => {
    const whole = await decoded(COFFEE, 320);
    for (const layout of ['two extents', 'idat'] as const) {
      const file = relaid(COFFEE, layout);
      const ours = await decoded(file, 320);
      expect(psnr(ours, whole), layout).toBe(Infinity);
    }
  });

  it('resizes like any other input: cover art sizes from one decode', async () => {
    const set = await engine.resize(COFFEE, { width: 64, height: 64, fit: 'cover', format: 'jpeg' });
    expect([set.width, set.height]).toEqual([64, 64]);
    expect(set.source.format).toBe('avif');
  });
});

describe('AVIF files sandcodec does not decode, or that are broken', () => {
  it('a tiled (grid) picture is E_UNSUPPORTED, named', async () => {
    const e = await failure(engine.resize(made('avif-coffee-grid-2x2.avif'), { width: 32 }));
    expect(e).toMatchObject({ code: 'E_UNSUPPORTED', details: { format: 'avif' } });
    expect(e.message).toContain('tiled (grid) AVIF');
  });

  it('an HEVC primary item is E_UNSUPPORTED as HEIC', async () => {
    const heic = COFFEE.slice();
    const at = indexOf(heic, 'av01', indexOf(heic, 'infe'));
    heic.set(ascii('hvc1'), at);
    const e = await failure(engine.resize(heic, { width: 32 }));
    expect(e).toMatchObject({ code: 'E_UNSUPPORTED', details: { format: 'heic' } });
    expect(e.message).toContain('HEIC');
  });

  it('a cut-off file, a file without items, and a primary item without a size are the input’s fault', async () => {
    const cut = await failure(engine.resize(COFFEE.subarray(0, COFFEE.length - 100), { width: 32 }));
    expect(cut.code).toBe('E_INPUT_INVALID');
    expect(cut.message).toMatch(/AVIF is truncated/);
    const bare = await failure(engine.resize(COFFEE.subarray(0, indexOf(COFFEE, 'meta') - 4), { width: 32 }));
    expect(bare.code).toBe('E_INPUT_INVALID');
    expect(bare.message).toMatch(/no meta box/);
    const noSize = COFFEE.slice();
    noSize.set(ascii('ispf'), indexOf(noSize, 'ispe'));
    const e = await failure(engine.resize(noSize, { width: 32 }));
    expect(e.code).toBe('E_INPUT_INVALID');
    expect(e.message).toMatch(/has no size \(ispe\)/);
  });

  it('on a core without an AV1 decoder (stock), E_UNSUPPORTED says so', async () => {
    const stock = await createEngine({ workers: 1, core: 'stock' });
    try {
      const e = await failure(stock.resize(COFFEE, { width: 32 }));
      expect(e).toMatchObject({ code: 'E_UNSUPPORTED', details: { format: 'avif' } });
      expect(e.message).toMatch(/AVIF image, and this FFmpeg core has no AV1 decoder/);
    } finally {
      await stock.close();
    }
  });

  it('the worker still serves', async () => {
    expect((await engine.resize(COFFEE, { width: 16 })).width).toBe(16);
  });
});

// --- AVIF rewriting: the other item layouts a writer may choose -------------------------------

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function indexOf(bytes: Uint8Array, text: string, from = 0): number {
  const needle = ascii(text);
  for (let i = from; i + needle.length <= bytes.length; i++) if (needle.every((b, k) => bytes[i + k] === b)) return i;
  throw new Error(`no ${text}`);
}

interface Box {
  type: string;
  start: number;
  end: number;
  payload: number;
}

function boxes(bytes: Uint8Array, from: number, to: number): Box[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const out: Box[] = [];
  for (let at = from; at + 8 <= to; ) {
    const size = view.getUint32(at);
    out.push({ type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), start: at, end: at + size, payload: at + 8 });
    at += size;
  }
  return out;
}

const u16 = (...values: number[]) => {
  const out = new Uint8Array(values.length * 2);
  for (const [i, v] of values.entries()) new DataView(out.buffer).setUint16(i * 2, v);
  return out;
};

/**
 * The single-item AVIF `file` (as avifenc writes it: iloc version 0, the item in one extent of
 * the mdat) rewritten with its item in two extents stored in reverse order, or in an idat box
 * (construction method 1), with iloc version 1. Everything else of the meta box is kept.
 */
function relaid(file: Uint8Array, layout: 'two extents' | 'idat'): Uint8Array {
  const top = boxes(file, 0, file.length);
  const meta = top.find((b) => b.type === 'meta')!;
  const inner = boxes(file, meta.payload + 4, meta.end);
  const iloc = inner.find((b) => b.type === 'iloc')!;
  const view = new DataView(file.buffer, file.byteOffset);
  expect(file[iloc.payload]).toBe(0);
  expect(view.getUint16(iloc.payload + 6)).toBe(1);
  expect(file[iloc.payload + 4]).toBe(0x44);
  expect(file[iloc.payload + 5]! >> 4).toBe(0);
  const id = view.getUint16(iloc.payload + 8);
  // v0 entry: id, data reference index, (no base offset), extent count, offset, length.
  const offset = view.getUint32(iloc.payload + 14);
  const length = view.getUint32(iloc.payload + 18);
  const data = file.subarray(offset, offset + length);
  const kept = inner.filter((b) => b.type !== 'iloc').map((b) => file.subarray(b.start, b.end));
  const ftyp = file.subarray(top[0]!.start, top[0]!.end);
  const half = length >> 1;
  const build = (mdatPayloadAt: number) => {
    // iloc v1: offset, length and base offset of 4 bytes; method in the low 4 bits.
    const head = [u32(0x01000000), Uint8Array.of(0x44, 0x40), u16(1)];
    const entry =
      layout === 'idat'
        ? [u16(id, 1, 0), u32(0), u16(1), u32(0, length)]
        : [u16(id, 0, 0), u32(mdatPayloadAt), u16(2), u32(length - half, half, 0, length - half)];
    const ilocBox = box('iloc', ...head, ...entry);
    const extra = layout === 'idat' ? [box('idat', data)] : [];
    return box('meta', u32(0), ...kept, ilocBox, ...extra);
  };
  const metaSize = build(0).length;
  if (layout === 'idat') return concat([ftyp, build(0)]);
  const mdatPayloadAt = ftyp.length + metaSize + 8;
  // The item's second half first, then its first half: the extents say the order.
  return concat([ftyp, build(mdatPayloadAt), box('mdat', data.subarray(half), data.subarray(0, half))]);
}
