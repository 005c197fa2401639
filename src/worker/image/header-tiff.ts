/**
 * The TIFF reader. Its size must be the one FFmpeg's decoder (libavcodec/tiff.c, 5.1) produces,
 * so it follows the IFDs the way the decoder does: from the first IFD, while the IFD is marked a
 * reduced image (NewSubfileType ≠ 0) and names SubIFDs, on to its first SubIFD — how DNG-style
 * files keep a thumbnail first and the picture in a SubIFD. Later pages are not followed (the
 * decoder decodes page one). Tag values are read with the decoder's rules: a single BYTE, SHORT
 * or LONG is its value, a single value of another type counts as 0xFFFFFFFF, several count as 0;
 * width and height carry over from IFD to IFD. The decoder's view is the file up to the last
 * byte the decoded IFDs refer to, so nothing after that page (other pages, trailing data) is
 * handed over.
 */
import { UnsupportedError } from '../../errors.js';
import { IMAGE_INPUT_CAPS } from '../../model/image-spec.js';
import { minimalExif } from './exif.js';
import type { NativeFormat } from './expand.js';
import { bad, type ImageHeader, truncated } from './header-common.js';
import { type ImageBytes, u16, u32 } from './source.js';

const TYPE_SIZES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];
const BYTE = 1;
const SHORT = 3;
const LONG = 4;

const T = {
  subfileType: 254,
  photometric: 262,
  samplesPerPixel: 277,
  planarConfig: 284,
  colorMap: 320,
  extraSamples: 338,
  width: 256,
  height: 257,
  bitsPerSample: 258,
  compression: 259,
  stripOffsets: 273,
  orientation: 274,
  stripByteCounts: 279,
  subIfds: 330,
  tileOffsets: 324,
  tileByteCounts: 325,
  icc: 34675,
} as const;

/** Strip or tile arrays longer than this are not read; the decoder then gets the whole file. */
const MAX_STRIPS = 65536;

interface Entry {
  type: number;
  count: number;
  /** Where the values are: in the entry itself, or where its offset points. */
  at: number;
  /** The decoder's `value` for the entry (see the module comment). */
  value: number;
}

export function readTiff(src: ImageBytes): ImageHeader {
  const le = src.peek(0, 1)[0] === 0x49;
  const first = u32(src, 4, le);
  if (first === undefined) throw truncated('TIFF', 'no IFD offset');
  let off = first;
  let lastOff = 0;
  let width = 0;
  let height = 0;
  let orientation: number | undefined;
  let icc: { at: number; count: number } | undefined;
  let needEnd = 8;
  let decoded: Map<number, Entry> | undefined;
  for (let hop = 0; ; hop++) {
    if (hop >= IMAGE_INPUT_CAPS.tiffIfds) throw bad('TIFF', `more than ${IMAGE_INPUT_CAPS.tiffIfds} SubIFD hops to the image`);
    const { entries, end } = readIfd(src, off, le);
    needEnd = Math.max(needEnd, end);
    for (const e of entries.values()) needEnd = Math.max(needEnd, Math.min(src.size, e.at + e.count * (TYPE_SIZES[e.type] ?? 1)));
    const value = (tag: number) => entries.get(tag)?.value;
    width = value(T.width) ?? width;
    height = value(T.height) ?? height;
    orientation = value(T.orientation) ?? orientation;
    const profile = entries.get(T.icc);
    if (profile) icc = { at: profile.at, count: profile.count };
    const sub = entries.get(T.subIfds);
    const subIfd = !sub ? 0 : sub.count === 1 ? sub.value : sub.count > 1 ? (u32(src, sub.at, le) ?? 0) : 0;
    const thumbnail = (value(T.subfileType) ?? 0) !== 0;
    if (!(subIfd && thumbnail)) {
      decoded = entries;
      break;
    }
    if (subIfd <= lastOff || subIfd + 14 > src.size) throw bad('TIFF', `SubIFD offset ${subIfd}`);
    lastOff = subIfd;
    off = subIfd;
  }
  const compression = decoded.get(T.compression)?.value;
  // FFmpeg's TIFF decoder hands JPEG-compressed strips out as YCbCr labelled RGB: wrong colours.
  if (compression === 6 || compression === 7) throw new UnsupportedError('JPEG-compressed TIFF is not decoded (use LZW, Deflate or no compression)');
  if (width > 0x7fffffff || height > 0x7fffffff) throw bad('TIFF', `dimensions ${width}×${height}`);
  const header: ImageHeader = { format: 'tiff', width, height };
  const bits = sampleBits(src, decoded.get(T.bitsPerSample), le);
  if (bits > 16) header.sampleBytes = 4;
  else if (bits > 8) header.sampleBytes = 2;
  const native = nativeFormat(decoded, bits);
  if (native) header.native = native;
  // Only the orientation of the TIFF's own tags matters; kept metadata gets just that.
  if (orientation !== undefined && orientation >= 1 && orientation <= 8) header.exif = minimalExif(orientation);
  if (icc) {
    if (icc.count > IMAGE_INPUT_CAPS.iccBytes) header.iccDropped = `the ICC profile is ${icc.count} bytes, over the ${IMAGE_INPUT_CAPS.iccBytes}-byte cap`;
    else if (icc.at + icc.count <= src.size) header.icc = src.copy(icc.at, icc.count);
  }
  const dataEnd = imageDataEnd(src, decoded, le);
  if (dataEnd !== undefined && Math.max(needEnd, dataEnd) < src.size) header.view = [{ from: 0, to: Math.max(needEnd, dataEnd) }];
  return header;
}

function readIfd(src: ImageBytes, off: number, le: boolean): { entries: Map<number, Entry>; end: number } {
  const count = u16(src, off, le);
  if (count === undefined) throw truncated('TIFF', `the IFD at byte ${off} is past the end of the file`);
  const end = off + 2 + count * 12 + 4;
  if (end - 4 > src.size) throw truncated('TIFF', `the IFD at byte ${off} runs past the end of the file`);
  const entries = new Map<number, Entry>();
  for (let i = 0; i < count; i++) {
    const e = src.peek(off + 2 + i * 12, 12).slice();
    const v = new DataView(e.buffer);
    const tag = v.getUint16(0, le);
    const type = v.getUint16(2, le);
    const n = v.getUint32(4, le);
    const size = TYPE_SIZES[type];
    // The decoder stops at an unknown type; nothing after it is read.
    if (size === undefined || size === 0) break;
    const inline = n <= 4 && size * n <= 4;
    const at = inline ? off + 2 + i * 12 + 8 : v.getUint32(8, le);
    let value = 0;
    if (n === 1) {
      if (type === BYTE) value = e[8]!;
      else if (type === SHORT) value = v.getUint16(8, le);
      else if (type === LONG) value = v.getUint32(8, le);
      else value = 0xffffffff;
    }
    entries.set(tag, { type, count: n, at, value });
  }
  return { entries, end };
}

/**
 * The decoder's pixel format for chunky 8-bit RGB (RGB24) and grey (GRAY8, WhiteIsZero inverted
 * by the decoder) without a colour map or extra samples.
 */
function nativeFormat(entries: Map<number, Entry>, bits: number): NativeFormat | undefined {
  const value = (tag: number) => entries.get(tag)?.value;
  if (bits !== 8 || entries.has(T.colorMap) || entries.has(T.extraSamples) || value(T.planarConfig) === 2) return undefined;
  const samples = value(T.samplesPerPixel) ?? 1;
  const photometric = value(T.photometric);
  if (photometric === 2 && samples === 3) return 'rgb24';
  if ((photometric === 0 || photometric === 1) && samples === 1) return 'gray';
  return undefined;
}

/** The widest of the BitsPerSample values (1 when the tag is absent, as the decoder assumes). */
function sampleBits(src: ImageBytes, e: Entry | undefined, le: boolean): number {
  if (!e) return 1;
  if (e.count === 1) return e.value;
  if (e.type !== SHORT || e.count > 8) return 8;
  let widest = 0;
  for (let i = 0; i < e.count; i++) widest = Math.max(widest, u16(src, e.at + 2 * i, le) ?? 0);
  return widest;
}

/** The end of the decoded image's strips or tiles, or undefined when it cannot be told cheaply. */
function imageDataEnd(src: ImageBytes, entries: Map<number, Entry>, le: boolean): number | undefined {
  const offsets = entries.get(T.stripOffsets) ?? entries.get(T.tileOffsets);
  const counts = entries.get(entries.has(T.stripOffsets) ? T.stripByteCounts : T.tileByteCounts);
  // Without byte counts the decoder reads to the end of the file.
  if (!offsets || !counts || offsets.count !== counts.count || offsets.count > MAX_STRIPS) return undefined;
  const read = (e: Entry): number[] | undefined => {
    const size = TYPE_SIZES[e.type]!;
    if (e.type !== SHORT && e.type !== LONG) return undefined;
    const bytes = src.copy(e.at, e.count * size);
    if (bytes.length < e.count * size) return undefined;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: e.count }, (_, i) => (size === 2 ? v.getUint16(i * 2, le) : v.getUint32(i * 4, le)));
  };
  const starts = read(offsets);
  const lengths = read(counts);
  if (!starts || !lengths) return undefined;
  return starts.reduce((end, s, i) => Math.max(end, s + lengths[i]!), 0);
}
