/**
 * What a decoder's complaint means, said for the person whose file it is: "the PNG image is
 * damaged: a chunk's checksum does not match its data", not FFmpeg's "CRC mismatch in chunk,
 * quitting" or "Conversion failed!". The decoder's own lines stay in `details.log`.
 */
import { InputError } from '../../errors.js';
import type { ImageFormat } from '../../model/image-spec.js';

const NAMES: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', gif: 'GIF', bmp: 'BMP', tiff: 'TIFF', avif: 'AVIF' };

/** Decoder log patterns, most specific first, and what they mean. */
const MEANINGS: ReadonlyArray<[RegExp, string]> = [
  [/CRC mismatch|checksum/i, "a chunk's checksum does not match its data"],
  [/inflate|zlib|deflate/i, 'its compressed pixel data is corrupt'],
  [/overread|Incomplete|truncat|end of file|EOF|too short|not enough data/i, 'its pixel data ends early'],
  [/huffman|vlc|marker|scan|bitstream/i, 'its compressed pixel data is corrupt'],
  [/OBU|sequence header|tile/i, 'its AV1 picture data is corrupt'],
];

/** The sentence for a decode that failed, or decoded with errors, on these log lines. */
export function damageMessage(phase: string, format: ImageFormat, log: readonly string[]): string {
  const text = log.join('\n');
  const meaning = MEANINGS.find(([re]) => re.test(text))?.[1] ?? 'the decoder could not read its pixels';
  return `${phase}: the ${NAMES[format]} image is damaged: ${meaning}`;
}

/** A decode failure as the input's fault, in the user's words; the decoder's lines in `details.log`. */
export function damaged(phase: string, format: ImageFormat, log: readonly string[], cause?: unknown): InputError {
  return new InputError(damageMessage(phase, format, log), { log: log.slice(-12) }, cause === undefined ? undefined : { cause });
}
