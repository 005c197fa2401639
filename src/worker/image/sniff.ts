/**
 * Image formats told by their signatures before their own readers: AVIF, which header-avif.ts
 * reads, and valid media sandcodec does not decode (HEIC and other HEIF: FFmpeg 5.1 reads no
 * HEVC items; JPEG XL: no decoder; JPEG 2000: not an input of the image pipeline). Such a file
 * is `E_UNSUPPORTED` naming its format, not "not an image".
 */
import { type ImageBytes, latin, u32 } from './source.js';

export interface OtherFormat {
  /** Stable id for `details.format`. */
  format: 'avif' | 'heic' | 'heif' | 'jpeg-xl' | 'jpeg-2000';
  /** For messages. */
  name: string;
}

/** ISO BMFF brands (ISO/IEC 23008-12, AV1 image file format), most specific first. */
const BRANDS: ReadonlyArray<[string[], OtherFormat]> = [
  [['avif', 'avis'], { format: 'avif', name: 'AVIF' }],
  [['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs'], { format: 'heic', name: 'HEIC' }],
  [['mif1', 'msf1', 'mif2'], { format: 'heif', name: 'HEIF' }],
];

/** The brands an `ftyp` box lists are read up to this many bytes. */
const MAX_FTYP = 1024;

export function unsupportedFormat(src: ImageBytes): OtherFormat | undefined {
  const head = src.peek(0, 12);
  const hex = Array.from(head, (b) => b.toString(16).padStart(2, '0')).join('');
  if (hex.startsWith('ff0a') || hex === '0000000c4a584c200d0a870a') return { format: 'jpeg-xl', name: 'JPEG XL' };
  if (hex.startsWith('ff4fff51') || hex === '0000000c6a5020200d0a870a') return { format: 'jpeg-2000', name: 'JPEG 2000' };
  if (latin(src, 4, 4) !== 'ftyp') return undefined;
  const size = Math.min(u32(src, 0) ?? 0, MAX_FTYP, src.size);
  const brands = new Set<string>();
  // The major brand, then the compatible brands after the minor version.
  for (let at = 8; at + 4 <= size; at += at === 8 ? 8 : 4) brands.add(latin(src, at, 4));
  return BRANDS.find(([names]) => names.some((b) => brands.has(b)))?.[1];
}
