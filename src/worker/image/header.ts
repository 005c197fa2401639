/**
 * Image headers, read in TypeScript before anything is decoded: the format, the stored
 * dimensions (so an oversized image is refused before a decode buffer exists), the EXIF block and
 * the ICC profile. Only the bytes before the pixel data are looked at.
 */
import { inflateSync } from 'node:zlib';
import { InputError, UnsupportedError } from '../../errors.js';
import type { ImageFormat } from '../../model/image-spec.js';
import { concatBytes } from '../../util/bytes.js';

export interface ImageHeader {
  format: ImageFormat;
  /** Stored dimensions (before EXIF orientation). */
  width: number;
  height: number;
  /** The TIFF-structured EXIF block (starting at the byte-order mark), when present. */
  exif?: Uint8Array;
  /** The embedded ICC profile, reassembled from its chunks. */
  icc?: Uint8Array;
  /** JPEG only: what shrink-on-load and colour handling need. */
  jpeg?: {
    components: number;
    progressive: boolean;
    /** The APP14 Adobe transform (0 CMYK, 1 YCbCr, 2 YCCK); null without an Adobe marker. */
    adobeTransform: number | null;
    /** Byte offset of the SOF marker, and its type (0xc0…0xcf). */
    sofAt: number;
    sofMarker: number;
    /** Bits per sample, and each component's id and sampling factors (H << 4 | V), from the SOF. */
    precision: number;
    componentIds: number[];
    sampling: number[];
  };
}

const bad = (format: string, why: string) => new InputError(`the ${format} header is invalid: ${why}`);

export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length === 0) throw new InputError('the input is empty (0 bytes)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number, n: number) => (at + n <= bytes.length ? String.fromCharCode(...bytes.subarray(at, at + n)) : '');
  let header: ImageHeader;
  if (bytes[0] === 0xff && bytes[1] === 0xd8) header = readJpeg(bytes, view);
  else if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') header = readPng(bytes, view);
  else if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') header = readWebp(bytes, view);
  else if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') header = readGif(view);
  else if (ascii(0, 2) === 'BM') header = readBmp(view);
  else if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') header = readTiff(bytes, view);
  else throw new InputError('the input is not an image sandcodec reads (JPEG, PNG, WebP, GIF, BMP, TIFF)');
  if (!(header.width > 0 && header.height > 0)) throw bad(header.format, `dimensions ${header.width}×${header.height}`);
  checkComplete(header.format, bytes);
  return header;
}

/**
 * Decoders fill a cut-off picture with grey and report success; the end markers tell a whole
 * file from a truncated one before any decoding.
 */
function checkComplete(format: ImageFormat, bytes: Uint8Array): void {
  let end = bytes.length;
  if (format === 'jpeg') {
    // Some writers pad after EOI.
    while (end > 2 && bytes[end - 1] === 0) end--;
    if (bytes[end - 2] !== 0xff || bytes[end - 1] !== 0xd9) throw new InputError('the JPEG is truncated (no end-of-image marker)');
  } else if (format === 'png') {
    if (bytes.length < 12 || latin(bytes, bytes.length - 8, 4) !== 'IEND') throw new InputError('the PNG is truncated (no IEND chunk at the end)');
  } else if (format === 'webp') {
    const riff = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
    if (riff + 8 > bytes.length) throw new InputError(`the WebP is truncated (RIFF says ${riff + 8} bytes, the file has ${bytes.length})`);
  } else if (format === 'gif') {
    while (end > 1 && bytes[end - 1] === 0) end--;
    if (bytes[end - 1] !== 0x3b) throw new InputError('the GIF is truncated (no trailer)');
  }
}

function need(view: DataView, end: number, format: string): void {
  if (end > view.byteLength) throw new InputError(`the ${format} header is truncated`);
}

/** Markers up to the first SOS: SOF for size, APP1 Exif, APP2 ICC_PROFILE chunks, APP14 Adobe. */
function readJpeg(bytes: Uint8Array, view: DataView): ImageHeader {
  let at = 2;
  let size:
    | {
        width: number;
        height: number;
        components: number;
        progressive: boolean;
        sofAt: number;
        sofMarker: number;
        precision: number;
        componentIds: number[];
        sampling: number[];
      }
    | undefined;
  let exif: Uint8Array | undefined;
  let adobeTransform: number | null = null;
  const iccChunks = new Map<number, Uint8Array>();
  for (;;) {
    need(view, at + 4, 'JPEG');
    if (bytes[at] !== 0xff) throw bad('JPEG', `expected a marker at byte ${at}`);
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9) break;
    const len = view.getUint16(at + 2);
    if (len < 2) throw bad('JPEG', `segment length ${len}`);
    need(view, at + 2 + len, 'JPEG');
    const seg = bytes.subarray(at + 4, at + 2 + len);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (seg.length < 6) throw bad('JPEG', 'short SOF');
      size = {
        height: (seg[1]! << 8) | seg[2]!,
        width: (seg[3]! << 8) | seg[4]!,
        components: seg[5]!,
        progressive: marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce,
        sofAt: at,
        sofMarker: marker,
        precision: seg[0]!,
        componentIds: [],
        sampling: [],
      };
      for (let c = 0; c < size.components && 8 + 3 * c <= seg.length; c++) {
        size.componentIds.push(seg[6 + 3 * c]!);
        size.sampling.push(seg[7 + 3 * c]!);
      }
    } else if (marker === 0xe1 && seg.length > 14 && latin(seg, 0, 6) === 'Exif\0\0') {
      exif ??= seg.subarray(6);
    } else if (marker === 0xe2 && seg.length > 14 && latin(seg, 0, 12) === 'ICC_PROFILE\0') {
      iccChunks.set(seg[12]!, seg.subarray(14));
    } else if (marker === 0xee && seg.length >= 12 && latin(seg, 0, 5) === 'Adobe') {
      adobeTransform = seg[11]!;
    } else if (marker === 0xda) {
      break;
    }
    at += 2 + len;
  }
  if (!size) throw bad('JPEG', 'no SOF segment before the scan');
  const header: ImageHeader = {
    format: 'jpeg',
    width: size.width,
    height: size.height,
    jpeg: {
      components: size.components,
      progressive: size.progressive,
      adobeTransform,
      sofAt: size.sofAt,
      sofMarker: size.sofMarker,
      precision: size.precision,
      componentIds: size.componentIds,
      sampling: size.sampling,
    },
  };
  if (exif) header.exif = exif;
  if (iccChunks.size > 0) header.icc = concatBytes([...iccChunks.keys()].sort((a, b) => a - b).map((k) => iccChunks.get(k)!));
  return header;
}

function readPng(bytes: Uint8Array, view: DataView): ImageHeader {
  need(view, 33, 'PNG');
  if (latin(bytes, 12, 4) !== 'IHDR') throw bad('PNG', 'IHDR is not the first chunk');
  const header: ImageHeader = { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
  let at = 8;
  while (at + 8 <= bytes.length) {
    const len = view.getUint32(at);
    const type = latin(bytes, at + 4, 4);
    if (type === 'IDAT' || type === 'IEND' || at + 12 + len > bytes.length) break;
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === 'iCCP') {
      const nul = data.indexOf(0);
      try {
        if (nul > 0 && data[nul + 1] === 0) header.icc = inflateSync(data.subarray(nul + 2));
      } catch {
        // A damaged profile is ignored, as decoders do: the pixels are still sRGB-ish.
      }
    } else if (type === 'eXIf') {
      header.exif = data;
    }
    at += 12 + len;
  }
  return header;
}

function readWebp(bytes: Uint8Array, view: DataView): ImageHeader {
  need(view, 30, 'WebP');
  const le16 = (at: number) => view.getUint16(at, true);
  const le24 = (at: number) => le16(at) | (bytes[at + 2]! << 16);
  const first = latin(bytes, 12, 4);
  let header: ImageHeader;
  if (first === 'VP8 ') {
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) throw bad('WebP', 'VP8 start code missing');
    header = { format: 'webp', width: le16(26) & 0x3fff, height: le16(28) & 0x3fff };
  } else if (first === 'VP8L') {
    if (bytes[20] !== 0x2f) throw bad('WebP', 'VP8L signature missing');
    const bits = view.getUint32(21, true);
    header = { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  } else if (first === 'VP8X') {
    header = { format: 'webp', width: le24(24) + 1, height: le24(27) + 1 };
  } else {
    throw bad('WebP', `unknown first chunk ${JSON.stringify(first)}`);
  }
  let at = 12;
  while (at + 8 <= bytes.length) {
    const type = latin(bytes, at, 4);
    const len = view.getUint32(at + 4, true);
    if (at + 8 + len > bytes.length) break;
    if (type === 'ICCP') header.icc = bytes.subarray(at + 8, at + 8 + len);
    else if (type === 'EXIF') header.exif = stripExifPrefix(bytes.subarray(at + 8, at + 8 + len));
    at += 8 + len + (len & 1);
  }
  return header;
}

function readGif(view: DataView): ImageHeader {
  need(view, 10, 'GIF');
  return { format: 'gif', width: view.getUint16(6, true), height: view.getUint16(8, true) };
}

function readBmp(view: DataView): ImageHeader {
  need(view, 26, 'BMP');
  const dib = view.getUint32(14, true);
  if (dib === 12) return { format: 'bmp', width: view.getUint16(18, true), height: view.getUint16(20, true) };
  // Negative heights mean top-down rows.
  return { format: 'bmp', width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
}

/** TIFF: the first IFD holds the size, orientation and ICC (tag 34675); EXIF is the file itself. */
function readTiff(bytes: Uint8Array, view: DataView): ImageHeader {
  const le = bytes[0] === 0x49;
  need(view, 8, 'TIFF');
  const u16 = (at: number) => view.getUint16(at, le);
  const u32 = (at: number) => view.getUint32(at, le);
  const ifd = u32(4);
  need(view, ifd + 2, 'TIFF');
  const count = u16(ifd);
  need(view, ifd + 2 + count * 12, 'TIFF');
  let width = 0;
  let height = 0;
  let icc: Uint8Array | undefined;
  let compression = 1;
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    const tag = u16(e);
    const type = u16(e + 2);
    const value = type === 3 ? u16(e + 8) : u32(e + 8);
    if (tag === 256) width = value;
    else if (tag === 257) height = value;
    else if (tag === 259) compression = value;
    else if (tag === 34675) {
      const n = u32(e + 4);
      if (value + n <= bytes.length) icc = bytes.subarray(value, value + n);
    }
  }
  // FFmpeg's TIFF decoder hands JPEG-compressed strips out as YCbCr labelled RGB: wrong colours.
  if (compression === 6 || compression === 7) throw new UnsupportedError('JPEG-compressed TIFF is not decoded (use LZW, Deflate or no compression)');
  const header: ImageHeader = { format: 'tiff', width, height, exif: bytes };
  if (icc) header.icc = icc;
  return header;
}

/** Some writers keep the JPEG-style `Exif\0\0` prefix inside WebP/PNG EXIF chunks. */
function stripExifPrefix(data: Uint8Array): Uint8Array {
  return latin(data, 0, 6) === 'Exif\0\0' ? data.subarray(6) : data;
}

function latin(bytes: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + n));
}

/** Formats FFmpeg cannot decode as a still here are refused up front. */
export function checkDecodable(header: ImageHeader): void {
  const jpeg = header.jpeg;
  if (jpeg && jpeg.components !== 1 && jpeg.components !== 3 && jpeg.components !== 4) {
    throw new UnsupportedError(`JPEG with ${jpeg.components} components`);
  }
  if (jpeg?.components === 4 && jpeg.sofMarker > 0xc2) throw new UnsupportedError('CMYK JPEG other than baseline, extended or progressive DCT');
}
