/**
 * JPEG shrink-on-load keeps quality: on real photos (test/fixtures/photos), as baseline and
 * progressive JPEGs, 4:2:0, 4:4:4 and grayscale, resized to 1024, 640, 300, 64 and 8 px wide,
 * what sandcodec returns is compared with an independent reference: the photo decoded at full
 * size (no shrink-on-load, no resize) and resized by the TypeScript oracle kernel. Every case
 * must stay above 45 dB, whichever decode scale the rule chose. The 'fast' rule (sharp's: the
 * smallest scale still as large as the target) is checked to shrink more.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { resizeRgbaReference } from '../dist/worker/kernels/resize-reference.js';
import { psnr, type Raw, sharpRgba } from './helpers/image.js';
import { repoRoot } from './helpers/media.js';

const PHOTOS = join(repoRoot, 'test', 'fixtures', 'photos');
/** Ten photos of the corpus, every subject kind: people's dogs, landscapes, textures, night, grayscale, detail. */
const NAMES = readdirSync(PHOTOS)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .slice(0, 10);
const WIDTHS = [1024, 640, 300, 64, 8];
const VARIANTS = {
  'baseline 4:2:0': (s: Sharp) => s.jpeg({ quality: 92, chromaSubsampling: '4:2:0' }),
  'progressive 4:2:0': (s: Sharp) => s.jpeg({ quality: 92, chromaSubsampling: '4:2:0', progressive: true }),
  'baseline 4:4:4': (s: Sharp) => s.jpeg({ quality: 92, chromaSubsampling: '4:4:4' }),
  grayscale: (s: Sharp) => s.greyscale().jpeg({ quality: 92 }),
} as const;
const MIN_DB = 45;

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
});
afterAll(() => engine.close());

/** Sandcodec's full-size decode of `jpeg`: no shrink-on-load, and a resize to its own size copies. */
async function fullDecode(jpeg: Uint8Array): Promise<Raw> {
  const { width } = await sharp(jpeg).metadata();
  const out = await engine.resize(jpeg, { width: width!, format: 'png', compressionLevel: 0, shrinkOnLoad: false });
  expect(out.lowres).toBe(0);
  return sharpRgba(out.bytes!);
}

const levels: Record<string, number[]> = {};

describe('JPEG shrink-on-load stays within 45 dB of a full decode and the oracle kernel', () => {
  it.each(NAMES)('%s', async (name) => {
    const photo = sharp(join(PHOTOS, name));
    for (const [variant, encode] of Object.entries(VARIANTS)) {
      const jpeg = new Uint8Array(await encode(photo.clone()).toBuffer());
      const full = await fullDecode(jpeg);
      for (const width of WIDTHS) {
        if (width >= full.width) continue;
        const out = await engine.resize(jpeg, { width, format: 'png', compressionLevel: 0 });
        const ours = await sharpRgba(out.bytes!);
        const oracle = resizeRgbaReference(full, { width: ours.width, height: ours.height, kernel: 'lanczos3' });
        const db = psnr(ours, oracle);
        const scale = `1/${2 ** out.lowres}`;
        levels[scale] = [...(levels[scale] ?? []), db];
        expect(db, `${name} ${variant} → ${width} px, decoded at 1/${2 ** out.lowres}`).toBeGreaterThan(MIN_DB);
      }
    }
  });

  it('shrinks on load where it keeps that quality, and the fast rule where sharp would', async () => {
    // Every scale was used by the matrix above (1/8 only for the 12 px thumbnails of the widest photos).
    expect(Object.keys(levels).sort()).toEqual(['1/1', '1/2', '1/4', '1/8']);
    console.log(
      `shrink-on-load, PSNR against full decode + oracle: ${Object.entries(levels)
        .sort()
        .map(([scale, dbs]) => `${scale} ${dbs.length} cases, min ${Math.min(...dbs.filter(Number.isFinite)).toFixed(1)} dB`)
        .join('; ')}`,
    );
    const file = { path: join(PHOTOS, NAMES[1]!) }; // 1600×1200: 300 px is 5.3× smaller
    const quality = await engine.resize(file, { width: 300, format: 'png' });
    const fast = await engine.resize(file, { width: 300, format: 'png', shrinkOnLoad: 'fast' });
    const off = await engine.resize(file, { width: 300, format: 'png', shrinkOnLoad: false });
    expect(fast.lowres).toBeGreaterThan(quality.lowres);
    expect(off.lowres).toBe(0);
    const e = await engine.resize(file, { width: 300, shrinkOnLoad: 'yes' as never }).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'E_OPTIONS', details: { option: 'shrinkOnLoad' } });
  });
});
