/**
 * The PNG reader: a walk over the chunk headers (8 bytes each, chunk bodies skipped unread), taking
 * IHDR, the iCCP profile (inflated under IMAGE_INPUT_CAPS.iccBytes) and the eXIf block. The
 * decoder's view keeps only what decoding needs — signature, IHDR, PLTE, tRNS, the IDAT run, IEND —
 * so FFmpeg never inflates a text or profile chunk (its iCCP and zTXt inflates have no cap but the
 * wasm heap) nor reads private chunks of any size.
 */
import { inflateSync } from 'node:zlib';
import { IMAGE_INPUT_CAPS } from '../../model/image-spec.js';
import { bad, type ImageHeader, stripExifPrefix, truncated, ViewBuilder } from './header-common.js';
import { type ImageBytes, latin, u32 } from './source.js';

/** Chunks the decoder is given besides IHDR and the image data. */
const KEPT = new Set(['PLTE', 'tRNS']);

export function readPng(src: ImageBytes): ImageHeader {
  if (src.size < 33) throw truncated('PNG', 'no IHDR');
  if (u32(src, 8) !== 13 || latin(src, 12, 4) !== 'IHDR') throw bad('PNG', 'IHDR is not the first chunk');
  const ihdr = src.peek(24, 2);
  const [bitDepth, colorType] = [ihdr[0]!, ihdr[1]!];
  let transparency = false;
  const header: ImageHeader = { format: 'png', width: u32(src, 16)!, height: u32(src, 20)! };
  const view = new ViewBuilder();
  view.range(0, 33);
  let idat: 'before' | 'in' | 'after' = 'before';
  let at = 33;
  for (;;) {
    const len = u32(src, at);
    if (len === undefined || at + 8 > src.size) throw truncated('PNG', 'the file ends before IEND');
    if (len > 0x7fffffff) throw bad('PNG', `chunk length ${len} at byte ${at}`);
    const type = latin(src, at + 4, 4);
    const end = at + 12 + len;
    if (end > src.size) throw truncated('PNG', `the ${JSON.stringify(type)} chunk at byte ${at} runs past the end of the file`);
    if (type === 'IDAT') {
      // The image data is one run of IDAT chunks (PNG spec 5.6); a split run is a damaged file.
      if (idat === 'after') throw bad('PNG', `IDAT chunks are not consecutive (another one at byte ${at})`);
      idat = 'in';
      view.range(at, end);
    } else {
      if (idat === 'in') idat = 'after';
      if (type === 'IEND') {
        view.range(at, end);
        break;
      }
      if (type === 'tRNS') transparency = true;
      if (idat === 'before' && KEPT.has(type)) view.range(at, end);
      else if (idat === 'before' && type === 'iCCP' && header.icc === undefined && header.iccDropped === undefined) readIccp(src, at + 8, len, header);
      else if (type === 'eXIf' && header.exif === undefined) readExif(src, at + 8, len, header);
    }
    at = end;
  }
  if (idat === 'before') throw bad('PNG', 'no IDAT chunk');
  if (bitDepth === 16) header.sampleBytes = 2;
  // 8-bit RGB, grey and grey + alpha; with tRNS, FFmpeg's decoder adds an alpha channel itself.
  if (bitDepth === 8 && !transparency) {
    const native = ({ 2: 'rgb24', 0: 'gray', 4: 'ya8' } as const)[colorType as 0 | 2 | 4];
    if (native) header.native = native;
  }
  if (view.view) header.view = view.view;
  return header;
}

/** iCCP: a profile name (1–79 bytes, NUL-terminated), compression method 0, the zlib stream. */
function readIccp(src: ImageBytes, at: number, len: number, header: ImageHeader): void {
  const cap = IMAGE_INPUT_CAPS.iccBytes;
  // The compressed stream is never longer than the profile it holds (plus zlib's few bytes).
  if (len > cap + 1024) {
    header.iccDropped = `the iCCP chunk is ${len} bytes, over the ${cap}-byte cap on profiles`;
    return;
  }
  const data = src.copy(at, len);
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79 || data[nul + 1] !== 0) {
    header.iccDropped = 'the iCCP chunk is malformed';
    return;
  }
  try {
    header.icc = new Uint8Array(inflateSync(data.subarray(nul + 2), { maxOutputLength: cap }));
  } catch (err) {
    header.iccDropped =
      (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
        ? `the iCCP profile inflates to more than the ${cap}-byte cap`
        : `the iCCP profile does not inflate: ${(err as Error).message}`;
  }
}

function readExif(src: ImageBytes, at: number, len: number, header: ImageHeader): void {
  // Over the cap, the EXIF block is ignored: the orientation is then 1, as with no EXIF at all.
  if (len > IMAGE_INPUT_CAPS.exifBytes) return;
  const data = src.copy(at, len);
  header.exif = stripExifPrefix(data);
}
