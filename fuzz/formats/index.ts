/** Format sniffing by content, the walker for each format, and the checksum repairs. */
import { isBmff, walkBmff } from './bmff.js';
import { isEbml, walkEbml } from './ebml.js';
import { isFlac, walkFlac } from './flac.js';
import { isGif, walkGif } from './gif.js';
import { isJpeg, walkJpeg } from './jpeg.js';
import type { Layout } from './layout.js';
import { isMp3, walkMp3 } from './mp3.js';
import { fixOggCrcs, isOgg, walkOgg } from './ogg.js';
import { fixPngCrcs, isPng, walkPng } from './png.js';
import { isRiff, walkRiff } from './riff.js';

export type { Field, Layout, Role, Span } from './layout.js';
export { readField, writeField } from './layout.js';

const WALKERS: Array<[(b: Uint8Array) => boolean, (b: Uint8Array) => Layout]> = [
  [isPng, walkPng],
  [isJpeg, walkJpeg],
  [isGif, walkGif],
  [isOgg, walkOgg],
  [isFlac, walkFlac],
  [isRiff, walkRiff],
  [isEbml, walkEbml],
  [isBmff, walkBmff],
  [isMp3, walkMp3],
];

/** The file's structure, or an empty layout of format 'unknown' when no walker knows it. */
export function walk(bytes: Uint8Array): Layout {
  for (const [is, walker] of WALKERS) if (is(bytes)) return walker(bytes);
  return { format: 'unknown', spans: [], fields: [] };
}

/** Which checksums a format has that a mutation can repair. */
export function hasChecksums(format: string): boolean {
  return format === 'png' || format === 'ogg';
}

/** Recomputes PNG chunk CRCs and Ogg page CRCs in place. */
export function fixChecksums(format: string, bytes: Uint8Array): void {
  if (format === 'png') fixPngCrcs(bytes);
  else if (format === 'ogg') fixOggCrcs(bytes);
}
