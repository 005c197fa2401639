/**
 * Kept metadata (`keepMetadata`): the source's EXIF with Orientation reset to 1 (pixels are
 * written upright) and an sRGB ICC profile (pixels are written in sRGB), spliced into the encoded
 * file: JPEG APP1/APP2 after SOI, PNG eXIf/iCCP after IHDR, WebP EXIF/ICCP with a VP8X header.
 */
import { deflateSync } from 'node:zlib';
import type { OutputFormat } from '../../model/image-spec.js';
import { concatBytes } from '../../util/bytes.js';
import { minimalExif, uprightExif } from './exif.js';
import { srgbProfile } from './icc-srgb.js';

export function addMetadata(format: OutputFormat, file: Uint8Array, exif: Uint8Array | undefined): Uint8Array {
  const tiff = exif ? uprightExif(exif) : minimalExif();
  const icc = srgbProfile();
  if (format === 'jpeg') return jpegWith(file, tiff, icc);
  if (format === 'png') return pngWith(file, tiff, icc);
  return webpWith(file, tiff, icc);
}

const cat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const be16 = (n: number) => Uint8Array.of(n >> 8, n & 255);
const be32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
const le32 = (n: number) => Uint8Array.of(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24);
const le24 = (n: number) => Uint8Array.of(n & 255, (n >>> 8) & 255, (n >>> 16) & 255);

function jpegWith(file: Uint8Array, tiff: Uint8Array, icc: Uint8Array): Uint8Array {
  const segments: Uint8Array[] = [];
  if (tiff.length + 8 <= 0xffff) segments.push(Uint8Array.of(0xff, 0xe1), be16(tiff.length + 8), ascii('Exif\0\0'), tiff);
  // ICC_PROFILE chunks of at most 65519 bytes, numbered from 1.
  const max = 0xffff - 16;
  const count = Math.ceil(icc.length / max);
  for (let i = 0; i < count; i++) {
    const part = icc.subarray(i * max, (i + 1) * max);
    segments.push(Uint8Array.of(0xff, 0xe2), be16(part.length + 16), ascii('ICC_PROFILE\0'), Uint8Array.of(i + 1, count), part);
  }
  // After SOI and the encoder's JFIF APP0, where readers look for them.
  let at = 2;
  if (file[2] === 0xff && file[3] === 0xe0) at = 4 + ((file[4]! << 8) | file[5]!);
  return cat(file.subarray(0, at), ...segments, file.subarray(at));
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = cat(ascii(type), data);
  return cat(be32(data.length), body, be32(crc32(body)));
}

function pngWith(file: Uint8Array, tiff: Uint8Array, icc: Uint8Array): Uint8Array {
  const ihdrEnd = 8 + 12 + 13;
  const iccp = pngChunk('iCCP', cat(ascii('sRGB\0'), Uint8Array.of(0), deflateSync(icc)));
  return cat(file.subarray(0, ihdrEnd), iccp, pngChunk('eXIf', tiff), file.subarray(ihdrEnd));
}

function riffChunk(type: string, data: Uint8Array): Uint8Array {
  return cat(ascii(type), le32(data.length), data, data.length & 1 ? Uint8Array.of(0) : new Uint8Array(0));
}

/** Rebuilds the RIFF as VP8X + ICCP + (ALPH +) image + EXIF, as the container spec orders them. */
function webpWith(file: Uint8Array, tiff: Uint8Array, icc: Uint8Array): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const chunks: Array<{ type: string; data: Uint8Array }> = [];
  for (let at = 12; at + 8 <= file.length; ) {
    const type = String.fromCharCode(...file.subarray(at, at + 4));
    const len = view.getUint32(at + 4, true);
    chunks.push({ type, data: file.subarray(at + 8, at + 8 + len) });
    at += 8 + len + (len & 1);
  }
  let width = 0;
  let height = 0;
  let flags = 0x20 | 0x08; // ICC, EXIF
  const vp8x = chunks.find((c) => c.type === 'VP8X');
  if (vp8x) {
    flags |= vp8x.data[0]!;
    width = (vp8x.data[4]! | (vp8x.data[5]! << 8) | (vp8x.data[6]! << 16)) + 1;
    height = (vp8x.data[7]! | (vp8x.data[8]! << 8) | (vp8x.data[9]! << 16)) + 1;
  } else {
    const image = chunks.find((c) => c.type === 'VP8 ' || c.type === 'VP8L')!;
    const d = image.data;
    if (image.type === 'VP8 ') {
      width = (d[6]! | (d[7]! << 8)) & 0x3fff;
      height = (d[8]! | (d[9]! << 8)) & 0x3fff;
    } else {
      const bits = d[1]! | (d[2]! << 8) | (d[3]! << 16) | (d[4]! << 24);
      width = (bits & 0x3fff) + 1;
      height = ((bits >>> 14) & 0x3fff) + 1;
      if ((bits >>> 28) & 1) flags |= 0x10;
    }
  }
  const header = cat(Uint8Array.of(flags, 0, 0, 0), le24(width - 1), le24(height - 1));
  const rest = chunks.filter((c) => !['VP8X', 'ICCP', 'EXIF'].includes(c.type)).map((c) => riffChunk(c.type, c.data));
  const body = cat(ascii('WEBP'), riffChunk('VP8X', header), riffChunk('ICCP', icc), ...rest, riffChunk('EXIF', tiff));
  return cat(ascii('RIFF'), le32(body.length), body);
}
