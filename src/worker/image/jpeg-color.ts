/**
 * Which JPEGs come out of FFmpeg's mjpeg decoder as YCbCr planes (`yuvj420p`, `yuvj422p`,
 * `yuvj444p`, `gray`) for the ycc kernel to convert the way libjpeg does (kernels/ycc.ts). Doing
 * that there instead of in swscale saves the cost of its accurate, full-chroma bicubic path (half
 * the decode time of a shrink-on-load cover upload) and lands on the pixels libjpeg-turbo based
 * decoders produce.
 */
import type { YccLayout } from '../kernels/ycc-common.js';
import type { ImageHeader } from './header.js';

export type JpegLayout = YccLayout;

/** FFmpeg pixel format holding each layout's planes. */
export const LAYOUT_PIX_FMT: Readonly<Record<JpegLayout, string>> = Object.freeze({ '420': 'yuvj420p', '422': 'yuvj422p', '444': 'yuvj444p', gray: 'gray' });

/**
 * The layout of the planes libjpeg-turbo decodes a JPEG of `layout` to at 1/2^lowres
 * (wasm-build/glue/jpeg-decode.c): a scaled 4:2:0 decode has its chroma at the luma's size, made
 * by a larger IDCT on the chroma blocks (jdmaster.c: "scale up the chroma components via IDCT
 * scaling rather than upsampling"). 4:2:2 keeps its halved width (its vertical factors do not
 * allow that) except at 1/8, where libjpeg replicates chroma instead of its fancy upsampling, and
 * the glue does the same into 4:4:4 planes.
 */
export function jpegPlaneLayout(layout: JpegLayout, lowres: number): JpegLayout {
  if (layout === '420' && lowres > 0) return '444';
  if (layout === '422' && lowres === 3) return '444';
  return layout;
}

/**
 * The layout of an 8-bit YCbCr or grayscale JPEG whose planes this module can convert; undefined
 * for everything else (RGB and CMYK JPEGs, 12-bit ones, 4:4:0 or 4:1:1 sampling), which keep the
 * decoder's own conversion. The layout is the ratio of luma's sampling factors to chroma's, as
 * libjpeg's upsampler reads them: Y 1×2 with Cb and Cr 1×2 (FFmpeg's own 4:4:4) is 4:4:4.
 */
export function jpegLayout(header: ImageHeader): JpegLayout | undefined {
  const j = header.jpeg;
  if (j?.precision !== 8) return undefined;
  if (j.components === 1) return 'gray';
  if (j.components !== 3 || j.sampling.length !== 3 || j.adobeTransform === 0) return undefined;
  // FFmpeg treats components named R, G, B as RGB whatever the markers say.
  if (String.fromCharCode(...j.componentIds) === 'RGB') return undefined;
  const [y, cb, cr] = j.sampling as [number, number, number];
  if (cb !== cr) return undefined;
  const across = (y >> 4) / (cb >> 4);
  const down = (y & 15) / (cb & 15);
  if (across === 1 && down === 1) return '444';
  if (across === 2 && down === 1) return '422';
  if (across === 2 && down === 2) return '420';
  return undefined;
}
