/**
 * Image headers, read in TypeScript before anything is decoded: the format, the size FFmpeg's
 * decoder will produce (so an oversized image is refused before a decode buffer exists), the EXIF
 * block, the ICC profile, and the parts of the file the decoder needs. Every read is a bounded
 * positional read (source.ts): no file is ever loaded whole, and every metadata piece has a cap
 * (IMAGE_INPUT_CAPS). Formats with their own readers: header-jpeg.ts, header-png.ts,
 * header-webp.ts, header-tiff.ts.
 */
import { InputError, UnsupportedError } from '../../errors.js';
import type { ImageFormat } from '../../model/image-spec.js';
import { readAvif } from './header-avif.js';
import { bad, type ImageHeader, truncated } from './header-common.js';
import { readJpeg } from './header-jpeg.js';
import { readPng } from './header-png.js';
import { readTiff } from './header-tiff.js';
import { readWebp } from './header-webp.js';
import { unsupportedFormat } from './sniff.js';

export type { ImageHeader, JpegInfo } from './header-common.js';

import { type ImageBytes, latin, u16, u32, WINDOW } from './source.js';

export function readImageHeader(src: ImageBytes): ImageHeader {
  if (src.size === 0) throw new InputError('the input is empty (0 bytes)');
  const head = src.peek(0, 16).slice();
  const sig = (n: number) => String.fromCharCode(...head.subarray(0, n));
  const other = unsupportedFormat(src);
  if (other?.format === 'avif') return sized(readAvif(src));
  if (other) {
    throw new UnsupportedError(`the input is a ${other.name} image, which sandcodec does not decode (it reads JPEG, PNG, WebP, GIF, BMP, TIFF and AVIF)`, {
      format: other.format,
    });
  }
  let format: ImageFormat;
  if (head[0] === 0xff && head[1] === 0xd8) format = 'jpeg';
  else if (sig(8) === '\x89PNG\r\n\x1a\n') format = 'png';
  else if (sig(4) === 'RIFF' && latin(src, 8, 4) === 'WEBP') format = 'webp';
  else if (sig(6) === 'GIF87a' || sig(6) === 'GIF89a') format = 'gif';
  else if (sig(2) === 'BM') format = 'bmp';
  else if (sig(4) === 'II*\0' || sig(4) === 'MM\0*') format = 'tiff';
  else throw new InputError('the input is not an image sandcodec reads (JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF)');
  checkComplete(format, src);
  return sized(READERS[format](src));
}

function sized(header: ImageHeader): ImageHeader {
  if (!(header.width > 0 && header.height > 0)) throw bad(header.format, `dimensions ${header.width}×${header.height}`);
  return header;
}

const READERS: Record<Exclude<ImageFormat, 'avif'>, (src: ImageBytes) => ImageHeader> = {
  jpeg: readJpeg,
  png: readPng,
  webp: readWebp,
  gif: readGif,
  bmp: readBmp,
  tiff: readTiff,
};

/**
 * Decoders fill a cut-off picture with grey and report success; the end of the file tells a
 * whole file from a truncated one before any decoding. Only the tail is read.
 */
function checkComplete(format: ImageFormat, src: ImageBytes): void {
  if (format === 'jpeg') {
    // Some writers pad after EOI.
    const end = lastNonZero(src);
    if (end < 2 || u16(src, end - 2) !== 0xffd9) throw truncated('JPEG', 'no end-of-image marker');
  } else if (format === 'png') {
    if (src.size < 12 || latin(src, src.size - 8, 4) !== 'IEND') throw truncated('PNG', 'no IEND chunk at the end');
  } else if (format === 'webp') {
    const riff = u32(src, 4, true) ?? 0;
    if (riff + 8 > src.size) throw truncated('WebP', `RIFF says ${riff + 8} bytes, the file has ${src.size}`);
  } else if (format === 'gif') {
    const end = lastNonZero(src);
    if (end < 1 || src.peek(end - 1, 1)[0] !== 0x3b) throw truncated('GIF', 'no trailer');
  }
}

/** The file's length without trailing zero bytes, read backwards a window at a time. */
function lastNonZero(src: ImageBytes): number {
  let end = src.size;
  while (end > 0) {
    const from = Math.max(0, end - WINDOW);
    const tail = src.peek(from, end - from);
    let i = tail.length;
    while (i > 0 && tail[i - 1] === 0) i--;
    if (i > 0) return from + i;
    end = from;
  }
  return 0;
}

function readGif(src: ImageBytes): ImageHeader {
  const width = u16(src, 6, true);
  const height = u16(src, 8, true);
  if (width === undefined || height === undefined) throw truncated('GIF', 'no logical screen descriptor');
  // FFmpeg's decoder outputs the logical screen: frames larger than it are clipped to it.
  return { format: 'gif', width, height };
}

function readBmp(src: ImageBytes): ImageHeader {
  const dib = u32(src, 14, true);
  const head = src.peek(18, 8);
  if (dib === undefined || head.length < 8) throw truncated('BMP', 'no bitmap header');
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (dib === 12) return { format: 'bmp', width: view.getUint16(0, true), height: view.getUint16(2, true) };
  // Negative heights mean top-down rows.
  return { format: 'bmp', width: Math.abs(view.getInt32(0, true)), height: Math.abs(view.getInt32(4, true)) };
}

/** Formats FFmpeg cannot decode as a still here are refused up front. */
export function checkDecodable(header: ImageHeader): void {
  const jpeg = header.jpeg;
  if (jpeg && jpeg.components !== 1 && jpeg.components !== 3 && jpeg.components !== 4) {
    throw new UnsupportedError(`JPEG with ${jpeg.components} components`);
  }
  if (jpeg?.components === 4 && jpeg.sofMarker > 0xc2) throw new UnsupportedError('CMYK JPEG other than baseline, extended or progressive DCT');
}
