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
 * The layout of an 8-bit YCbCr or grayscale JPEG whose planes this module can convert; undefined
 * for everything else (RGB and CMYK JPEGs, 12-bit ones, 4:4:0 or 4:1:1 sampling), which keep the
 * decoder's own conversion.
 */
export function jpegLayout(header: ImageHeader): JpegLayout | undefined {
  const j = header.jpeg;
  if (j?.precision !== 8) return undefined;
  if (j.components === 1) return 'gray';
  if (j.components !== 3 || j.sampling.length !== 3 || j.adobeTransform === 0) return undefined;
  // FFmpeg treats components named R, G, B as RGB whatever the markers say.
  if (String.fromCharCode(...j.componentIds) === 'RGB') return undefined;
  const [y, cb, cr] = j.sampling;
  if (cb !== 0x11 || cr !== 0x11) return undefined;
  return y === 0x22 ? '420' : y === 0x21 ? '422' : y === 0x11 ? '444' : undefined;
}
