/** What the header readers of every format share: the header they return and their errors. */
import { InputError } from '../../errors.js';
import type { ImageFormat } from '../../model/image-spec.js';
import { IMAGE_INPUT_CAPS } from '../../model/image-spec.js';
import type { InputPiece } from '../../model/plan.js';
import type { Orientation } from './exif.js';
import type { NativeFormat } from './expand.js';

export interface JpegInfo {
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
  /** Scans (SOS markers) in the image. */
  scans: number;
}

/** An AVIF item the decoder is given: a minimal AVIF around its extents (header-avif.ts), and its size. */
export interface AvifItem {
  view: InputPiece[];
  width: number;
  height: number;
}

export interface AvifInfo {
  /** Bits per sample of the primary item (8, 10 or 12). */
  depth: number;
  /** The alpha plane's item, when the picture has one. */
  alpha?: AvifItem;
}

export interface ImageHeader {
  format: ImageFormat;
  /** Stored dimensions (before EXIF orientation): the frame FFmpeg's decoder produces. */
  width: number;
  height: number;
  /** The TIFF-structured EXIF block (starting at the byte-order mark), when present. */
  exif?: Uint8Array;
  /** The embedded ICC profile, reassembled from its chunks. */
  icc?: Uint8Array;
  /** Why an embedded profile was not read (too large, undecodable): the pixels are shown as they are. */
  iccDropped?: string;
  /**
   * The parts of the file the decoder is given, when not all of it: the chunks it decodes,
   * without metadata it does not need or anything after the image.
   */
  view?: InputPiece[];
  /** JPEG only: what shrink-on-load and colour handling need. */
  jpeg?: JpegInfo;
  /**
   * Bytes per sample the decoder works in, when more than one: 16-bit PNG and TIFF, 12-bit and
   * CMYK JPEG (decoded at 16 bits) are 2, 32-bit float TIFF 4. The decode costs that many times
   * the memory of an 8-bit picture of the same size, so the image counts that many times against
   * maxPixels.
   */
  sampleBytes?: 2 | 4;
  /**
   * The decoder's own pixel format when it is a narrow 8-bit one (expand.ts): asked for as it is,
   * it comes out without the decoder's RGBA conversion.
   */
  native?: NativeFormat;
  /** How to turn the stored picture upright when the format says so itself (AVIF's irot/imir); else EXIF's. */
  orientation?: Orientation;
  /** AVIF only: the primary item's bit depth, and its alpha plane's own view when it has one. */
  avif?: AvifInfo;
}

export const bad = (format: string, why: string) => new InputError(`the ${format} header is invalid: ${why}`);

export const truncated = (format: string, why: string) => new InputError(`the ${format} is truncated (${why})`);

/**
 * The decoder's view as a reader lays it out: ranges merged when they touch, literal bytes as
 * they are. A file that would need more than IMAGE_INPUT_CAPS.viewPieces pieces gets no view (the
 * decoder reads it as it is), so a walk holds at most that many whatever the file contains.
 */
export class ViewBuilder {
  private pieces: InputPiece[] = [];
  private overflow = false;

  range(from: number, to: number): void {
    const last = this.pieces.at(-1);
    if (last && !('bytes' in last) && last.to === from) last.to = to;
    else if (to > from) this.push({ from, to });
  }

  bytes(bytes: Uint8Array): void {
    this.push({ bytes });
  }

  /** The pieces, or undefined when there were too many. */
  get view(): InputPiece[] | undefined {
    return this.overflow ? undefined : this.pieces;
  }

  private push(piece: InputPiece): void {
    if (this.overflow) return;
    this.pieces.push(piece);
    if (this.pieces.length > IMAGE_INPUT_CAPS.viewPieces) {
      this.overflow = true;
      this.pieces = [];
    }
  }
}

/** Some writers keep the JPEG-style `Exif\0\0` prefix inside PNG and WebP EXIF chunks. */
export function stripExifPrefix(data: Uint8Array): Uint8Array {
  return String.fromCharCode(...data.subarray(0, 6)) === 'Exif\0\0' ? data.subarray(6) : data;
}
