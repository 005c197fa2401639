/**
 * The WebP reader: a walk over the RIFF chunks (8-byte headers, bodies skipped unless needed).
 * The size is the bitstream's (VP8 or VP8L), which is what FFmpeg decodes; a VP8X canvas that
 * disagrees with it is a damaged file, as libwebp holds. ICCP and EXIF are read under their caps.
 * The decoder's view is a RIFF of VP8X, ALPH and the bitstream only.
 */
import { UnsupportedError } from '../../errors.js';
import { IMAGE_INPUT_CAPS } from '../../model/image-spec.js';
import { bad, type ImageHeader, stripExifPrefix, truncated, ViewBuilder } from './header-common.js';
import { type ImageBytes, latin, u32 } from './source.js';

/** Chunks the decoder is given. */
const KEPT = new Set(['VP8X', 'ALPH', 'VP8 ', 'VP8L']);

/** VP8X flags of the chunks the view leaves out: ICC profile, EXIF, XMP. */
const METADATA_FLAGS = 0x20 | 0x08 | 0x04;

export function readWebp(src: ImageBytes): ImageHeader {
  const riffEnd = Math.min(src.size, 8 + (u32(src, 4, true) ?? 0));
  let canvas: { width: number; height: number } | undefined;
  let image: { width: number; height: number } | undefined;
  let animated = false;
  let icc: Uint8Array | undefined;
  let iccDropped: string | undefined;
  let exif: Uint8Array | undefined;
  // The view: a RIFF header (its size set once the kept chunks are counted), then those chunks.
  const riff = Uint8Array.of(0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50);
  const view = new ViewBuilder();
  view.bytes(riff);
  let keptBytes = 0;
  for (let at = 12; at + 8 <= riffEnd; ) {
    const type = latin(src, at, 4);
    const len = u32(src, at + 4, true)!;
    const end = at + 8 + len + (len & 1);
    if (at + 8 + len > riffEnd) throw truncated('WebP', `the ${JSON.stringify(type)} chunk runs past the end of the file`);
    const body = at + 8;
    // The extended header is the first chunk and holds exactly 10 bytes (libwebp refuses any other).
    if (type === 'VP8X' && (at !== 12 || len !== 10)) throw bad('WebP', `a VP8X chunk of ${len} bytes at byte ${at}`);
    if (KEPT.has(type)) {
      const chunkEnd = Math.min(end, riffEnd);
      keptBytes += chunkEnd - at;
      if (type === 'VP8X') {
        const chunk = src.copy(at, chunkEnd - at);
        chunk[8] = chunk[8]! & ~METADATA_FLAGS;
        view.bytes(chunk);
      } else {
        view.range(at, chunkEnd);
      }
    }
    if (type === 'VP8X') {
      const b = src.peek(body, 10);
      canvas = { width: (b[4]! | (b[5]! << 8) | (b[6]! << 16)) + 1, height: (b[7]! | (b[8]! << 8) | (b[9]! << 16)) + 1 };
    } else if ((type === 'VP8 ' || type === 'VP8L') && !image) {
      image = bitstreamSize(src.peek(body, 10), type);
    } else if (type === 'ANIM' || type === 'ANMF') {
      animated = true;
    } else if (type === 'ICCP' && !icc && !iccDropped) {
      if (len > IMAGE_INPUT_CAPS.iccBytes) iccDropped = `the ICCP chunk is ${len} bytes, over the ${IMAGE_INPUT_CAPS.iccBytes}-byte cap on profiles`;
      else icc = src.copy(body, len);
    } else if (type === 'EXIF' && !exif && len <= IMAGE_INPUT_CAPS.exifBytes) {
      exif = stripExifPrefix(src.copy(body, len));
    }
    at = end;
  }
  if (!image) {
    if (animated) throw new UnsupportedError('animated WebP is not decoded (no still image in the file)');
    throw bad('WebP', 'no VP8 or VP8L image data');
  }
  if (canvas && (canvas.width !== image.width || canvas.height !== image.height)) {
    throw bad('WebP', `the canvas is ${canvas.width}×${canvas.height} but the image is ${image.width}×${image.height}`);
  }
  const header: ImageHeader = { format: 'webp', ...image };
  if (icc) header.icc = icc;
  if (iccDropped) header.iccDropped = iccDropped;
  if (exif) header.exif = exif;
  new DataView(riff.buffer).setUint32(4, 4 + keptBytes, true);
  if (12 + keptBytes < src.size && view.view) header.view = view.view;
  return header;
}

function bitstreamSize(b: Uint8Array, type: string): { width: number; height: number } {
  if (b.length < 10) throw truncated('WebP', 'the image data is cut short');
  const le16 = (at: number) => b[at]! | (b[at + 1]! << 8);
  if (type === 'VP8 ') {
    if (b[3] !== 0x9d || b[4] !== 0x01 || b[5] !== 0x2a) throw bad('WebP', 'VP8 start code missing');
    return { width: le16(6) & 0x3fff, height: le16(8) & 0x3fff };
  }
  if (b[0] !== 0x2f) throw bad('WebP', 'VP8L signature missing');
  const bits = (b[1]! | (b[2]! << 8) | (b[3]! << 16) | (b[4]! << 24)) >>> 0;
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
}
