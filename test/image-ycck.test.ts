// YCCK JPEGs (APP14 Adobe transform 2) against the same inks stored as plain Adobe CMYK
// (transform 0), both written by test/helpers/jpeg-writer.ts from one set of CMYK pixels, and
// against libvips (sharp, through libjpeg) decoding the YCCK file itself.
// Measured (320×240, quality 95): YCCK vs CMYK through sandcodec 51.3 dB without a profile and
// 48.4 dB with one; sandcodec vs libvips on the YCCK file 43.0 dB (43.2 dB on the CMYK file, so
// YCCK costs nothing against libvips); libvips' own YCCK vs CMYK 50.6 dB.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { toProgressive } from '../dist/worker/image/jpeg-progressive.js';
import { psnr, type Raw, rawSharp, sharpRgba, testPattern } from './helpers/image.js';
import { type CmykPicture, writeCmykJpeg } from './helpers/jpeg-writer.js';

let engine: Engine;
let inks: CmykPicture;
let profile: Uint8Array;
beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  const cmyk = rawSharp(testPattern(320, 240)).removeAlpha().toColourspace('cmyk');
  const { data, info } = await cmyk.clone().raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(4);
  inks = { inks: new Uint8Array(data), width: info.width, height: info.height };
  // libvips' built-in CMYK profile, as it embeds it in the CMYK test files of image-decode.
  profile = new Uint8Array((await sharp(await cmyk.clone().withIccProfile('cmyk').jpeg().toBuffer()).metadata()).icc!);
});
afterAll(() => engine.close());

async function decoded(input: Uint8Array): Promise<Raw & { icc: string }> {
  const out = await engine.resize(input, { width: inks.width, format: 'png', compressionLevel: 1 });
  return { ...(await sharpRgba(out.bytes!)), icc: out.source.icc };
}

async function vips(input: Uint8Array): Promise<Raw> {
  return sharpRgba(await sharp(input).toColourspace('srgb').png().toBuffer());
}

/** The file with its APP14 transform byte replaced. */
function withTransform(jpeg: Uint8Array, transform: number): Uint8Array {
  const out = jpeg.slice();
  for (let at = 2; ; at += 2 + ((out[at + 2]! << 8) | out[at + 3]!)) {
    if (out[at + 1] === 0xee) {
      out[at + 4 + 11] = transform;
      return out;
    }
  }
}

describe('image decode: YCCK JPEG', () => {
  it('without a profile: the same pixels as the plain CMYK file of the same inks', async () => {
    const plain = await decoded(writeCmykJpeg(inks, { transform: 0 }));
    const ycckFile = writeCmykJpeg(inks, { transform: 2 });
    const ycck = await decoded(ycckFile);
    expect([plain.icc, ycck.icc]).toEqual(['ignored', 'ignored']);
    expect(psnr(ycck, plain)).toBeGreaterThan(45);
    // The same scan read as inks is another picture: the match comes from undoing the transform.
    expect(psnr(await decoded(withTransform(ycckFile, 0)), plain)).toBeLessThan(20);
  });

  it('with a CMYK profile: matches the plain CMYK file and libvips decoding the YCCK file', async () => {
    const plainFile = writeCmykJpeg(inks, { transform: 0, icc: profile });
    const ycckFile = writeCmykJpeg(inks, { transform: 2, icc: profile });
    const plain = await decoded(plainFile);
    const ycck = await decoded(ycckFile);
    expect([plain.icc, ycck.icc]).toEqual(['converted', 'converted']);
    expect(psnr(ycck, plain)).toBeGreaterThan(42);
    const vipsYcck = await vips(ycckFile);
    // libvips agrees the two files hold the same picture: the writer's YCCK is libjpeg's.
    expect(psnr(vipsYcck, await vips(plainFile))).toBeGreaterThan(45);
    expect(psnr(ycck, vipsYcck)).toBeGreaterThan(40);
  });

  it('progressive YCCK (the baseline file transcoded, coefficients unchanged) decodes the same', async () => {
    const baseline = writeCmykJpeg(inks, { transform: 2, icc: profile });
    const progressive = toProgressive(baseline);
    expect((await sharp(progressive).metadata()).isProgressive).toBe(true);
    const ours = await decoded(progressive);
    expect(ours.icc).toBe('converted');
    expect(psnr(ours, await decoded(baseline))).toBe(Infinity);
    expect(psnr(ours, await vips(progressive))).toBeGreaterThan(40);
  });
});
