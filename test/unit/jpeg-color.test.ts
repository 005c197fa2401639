/**
 * Which JPEGs leave the decoder as planes for the ycc kernel, and in which layout: the ratio of
 * luma's sampling factors to chroma's, as libjpeg's upsampler reads it; and the layout of the
 * planes libjpeg-turbo's scaled decodes come out in (wasm-build/glue/jpeg-decode.c).
 */
import { describe, expect, it } from 'vitest';
import type { ImageHeader } from '../../src/worker/image/header.js';
import { jpegLayout, jpegPlaneLayout } from '../../src/worker/image/jpeg-color.js';

function header(sampling: number[], extra: Partial<NonNullable<ImageHeader['jpeg']>> = {}): ImageHeader {
  return {
    format: 'jpeg',
    width: 64,
    height: 48,
    jpeg: {
      components: sampling.length,
      progressive: false,
      adobeTransform: null,
      sofAt: 2,
      sofMarker: 0xc0,
      precision: 8,
      componentIds: sampling.map((_, i) => i + 1),
      sampling,
      scans: 1,
      ...extra,
    },
  };
}

describe('jpegLayout', () => {
  it.each([
    [[0x11, 0x11, 0x11], '444'],
    [[0x22, 0x22, 0x22], '444'],
    // FFmpeg's mjpeg encoder writes 4:4:4 this way.
    [[0x12, 0x12, 0x12], '444'],
    [[0x21, 0x11, 0x11], '422'],
    [[0x22, 0x12, 0x12], '422'],
    [[0x22, 0x11, 0x11], '420'],
    [[0x11], 'gray'],
  ])('sampling %j is %s', (sampling, layout) => {
    expect(jpegLayout(header(sampling))).toBe(layout);
  });

  it.each([
    // 4:4:0 and 4:1:1 keep FFmpeg's conversion, and so do chroma planes sampled unlike each other.
    [[0x12, 0x11, 0x11]],
    [[0x41, 0x11, 0x11]],
    [[0x22, 0x21, 0x11]],
    [[0x23, 0x11, 0x11]],
  ])('sampling %j has no layout of its own', (sampling) => {
    expect(jpegLayout(header(sampling))).toBeUndefined();
  });

  it('RGB, CMYK and 12-bit JPEGs keep the decoder’s conversion', () => {
    expect(jpegLayout(header([0x11, 0x11, 0x11], { adobeTransform: 0 }))).toBeUndefined();
    expect(jpegLayout(header([0x11, 0x11, 0x11], { componentIds: [0x52, 0x47, 0x42] }))).toBeUndefined();
    expect(jpegLayout(header([0x11, 0x11, 0x11, 0x11]))).toBeUndefined();
    expect(jpegLayout(header([0x22, 0x11, 0x11], { precision: 12 }))).toBeUndefined();
  });
});

describe('jpegPlaneLayout', () => {
  it('scaled 4:2:0 comes out with full-size chroma; 4:2:2 only at 1/8; the rest as they are', () => {
    expect([0, 1, 2, 3].map((l) => jpegPlaneLayout('420', l))).toEqual(['420', '444', '444', '444']);
    expect([0, 1, 2, 3].map((l) => jpegPlaneLayout('422', l))).toEqual(['422', '422', '422', '444']);
    expect([0, 1, 2, 3].map((l) => jpegPlaneLayout('444', l))).toEqual(['444', '444', '444', '444']);
    expect([0, 1, 2, 3].map((l) => jpegPlaneLayout('gray', l))).toEqual(['gray', 'gray', 'gray', 'gray']);
  });
});
