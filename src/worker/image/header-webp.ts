/**
 * The WebP reader: a walk over the RIFF chunks (8-byte headers, bodies skipped unless needed).
 * The size is the bitstream's (VP8 or VP8L), which is what FFmpeg decodes; a VP8X canvas that
 * disagrees with it is a damaged file, as libwebp holds. ICCP and EXIF are read under their caps.
 * The decoder's view is a RIFF of VP8X, ALPH and the bitstream only.
 */
import { UnsupportedError } from '../../errors.js';
import { IMAGE_INPUT_CAPS } from '../../model/image-spec.js';
import type { InputPiece } from '../../model/plan.js';
import { addRange, bad, type ImageHeader, stripExifPrefix, truncated } from './header-common.js';
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
  const kept: Array<{ at: number; end: number; type: string }> = [];
  for (let at = 12; at + 8 <= riffEnd; ) {
    const type = latin(src, at, 4);
    const len = u32(src, at + 4, true)!;
    const end = at + 8 + len + (len & 1);
    if (at + 8 + len > riffEnd) throw truncated('WebP', `the ${JSON.stringify(type)} chunk runs past the end of the file`);
    const body = at + 8;
    if (KEPT.has(type)) kept.push({ at, end: Math.min(end, riffEnd), type });
    if (type === 'VP8X') {
      const b = src.peek(body, 10);
      if (b.length < 10) throw bad('WebP', 'short VP8X chunk');
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
  const keptBytes = kept.reduce((n, k) => n + k.end - k.at, 0);
  if (12 + keptBytes < src.size) {
    const pieces = view(src, kept, keptBytes);
    if (pieces.length <= IMAGE_INPUT_CAPS.viewPieces) header.view = pieces;
  }
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

/** A RIFF header of the kept chunks' size, then the chunks (VP8X with its metadata flags cleared). */
function view(src: ImageBytes, kept: Array<{ at: number; end: number; type: string }>, keptBytes: number): InputPiece[] {
  const head = new Uint8Array(12);
  head.set([0x52, 0x49, 0x46, 0x46]); // RIFF
  new DataView(head.buffer).setUint32(4, 4 + keptBytes, true);
  head.set([0x57, 0x45, 0x42, 0x50], 8); // WEBP
  const pieces: InputPiece[] = [{ bytes: head }];
  for (const k of kept) {
    if (k.type === 'VP8X') {
      const chunk = src.copy(k.at, k.end - k.at);
      chunk[8] = chunk[8]! & ~METADATA_FLAGS;
      pieces.push({ bytes: chunk });
    } else {
      addRange(pieces, k.at, k.end);
    }
  }
  return pieces;
}
