/**
 * What an image job does, as plain data shared by the plan (main thread) and the pipeline
 * (worker): one decoded source, any number of sized and encoded outputs.
 */
import { OptionsError } from '../errors.js';

/** The library that decoded an image job's source (`ImageJobInfo.source.decoder`). */
export type ImageDecoder = 'ffmpeg' | 'libjpeg-turbo' | 'libwebp';

/**
 * The default `maxPixels`: the largest stored width × height an image call decodes (counted twice
 * for images decoded at 16 bits per sample), and the bound on each output and its letterbox
 * canvas. Chosen so one job at the defaults stays near 512 MB of process memory for any input
 * format: the FFmpeg decode (its frame and the raw frame it writes, in the wasm heap, which keeps
 * its high-water mark), the decoded source in the resize kernel's memory, one frame per target
 * and the encoder's input. Measured peak RSS of a one-worker engine (idle: ~115 MB) at 24 MP:
 * downscales to 640 px 156–480 MB (JPEG with shrink-on-load to WebP with alpha), full-size
 * conversions 360–480 MB, a 600×400 → 6000×4000 enlargement to PNG 522 MB. 24 MP is a
 * 6000 × 4000 camera photo.
 */
export const DEFAULT_MAX_PIXELS = 24_000_000;

/**
 * Fixed bounds on what an image file can make the header readers hold or do, whatever the
 * options. Each is far above what real files carry; a file past one is refused or the piece is
 * ignored, as each entry says.
 */
export const IMAGE_INPUT_CAPS = Object.freeze({
  /**
   * ICC profile bytes (after inflating a PNG iCCP, or joining JPEG APP2 chunks): a JPEG can carry
   * at most 255 × 65,519 bytes. A larger or undecodable profile is ignored (`icc: 'ignored'`),
   * as libpng and browsers ignore a bad one: the pixels are still there to show.
   */
  iccBytes: 16 * 1024 * 1024,
  /** EXIF block bytes (PNG eXIf, WebP EXIF; a JPEG APP1 holds at most 65,527). Larger: ignored. */
  exifBytes: 1024 * 1024,
  /**
   * JPEG scans (SOS markers) in the first image. libjpeg-turbo's fuzzers use the same bound
   * (TJPARAM_SCANLIMIT 500); encoders write 1 (baseline) to ~10 (progressive, libjpeg's default
   * script) and every scan makes the decoder pass over the whole picture again. More: refused.
   */
  jpegScans: 500,
  /** TIFF IFDs followed from the first one to the image FFmpeg decodes (SubIFD hops). More: refused. */
  tiffIfds: 16,
  /** Pieces the decoder's view of a JPEG or PNG may have; beyond it the decoder gets the file as is. */
  viewPieces: 64,
});

/** Image formats sandcodec decodes. */
export const IMAGE_FORMATS = Object.freeze(['jpeg', 'png', 'webp', 'gif', 'bmp', 'tiff', 'avif'] as const);
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** Fit modes (see worker/image/fit.ts for what each does). */
export const FIT_MODES = Object.freeze(['fill', 'contain', 'cover', 'inside', 'outside'] as const);
export type FitMode = (typeof FIT_MODES)[number];

export const POSITIONS = Object.freeze(['centre', 'top', 'right', 'bottom', 'left', 'top-left', 'top-right', 'bottom-left', 'bottom-right'] as const);
export type Position = (typeof POSITIONS)[number];

export const RESIZE_KERNELS = Object.freeze(['nearest', 'box', 'linear', 'catmull-rom', 'mitchell', 'lanczos2', 'lanczos3'] as const);

export type ResizeKernel = (typeof RESIZE_KERNELS)[number];

export const DEFAULT_RESIZE_KERNEL: ResizeKernel = 'lanczos3';

/** Accepts `center` and the two-word forms (`top left`, `left-top`) too. */
export function normalizePosition(value: unknown): Position {
  if (value === undefined) return 'centre';
  if (typeof value !== 'string') throw new OptionsError('position', `must be one of ${POSITIONS.join(', ')}`);
  const words = value
    .toLowerCase()
    .replace(/center/g, 'centre')
    .split(/[\s_-]+/)
    .filter(Boolean);
  const v = words.includes('top') ? 'top' : words.includes('bottom') ? 'bottom' : '';
  const h = words.includes('left') ? 'left' : words.includes('right') ? 'right' : '';
  const known = words.every((w) => ['top', 'bottom', 'left', 'right', 'centre'].includes(w));
  const name = v && h ? `${v}-${h}` : v || h || (words.length === 1 && words[0] === 'centre' ? 'centre' : '');
  if (!known || !name) throw new OptionsError('position', `must be one of ${POSITIONS.join(', ')}, got ${JSON.stringify(value)}`);
  return name as Position;
}

export const OUTPUT_FORMATS = Object.freeze(['jpeg', 'png', 'webp'] as const);
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What each image output format is made with, and its settings when none are given. */
export const IMAGE_OUTPUTS: Readonly<Record<OutputFormat, { extension: string; encoder: string; defaults: string }>> = Object.freeze({
  jpeg: { extension: 'jpg', encoder: 'mjpeg', defaults: 'quality 80, 4:2:0 chroma, optimal Huffman tables' },
  png: { extension: 'png', encoder: 'png', defaults: 'compression level 6, RGB or RGBA at 8 bits' },
  webp: { extension: 'webp', encoder: 'libwebp', defaults: 'lossy, quality 80 (lossless with --lossless)' },
});

/** The square sizes of a cover-art set when none are given, pixels. */
export const COVER_SIZES: readonly number[] = Object.freeze([640, 300, 64]);

export interface ImageTargetSpec {
  /** The plan output this target is written to. */
  output: string;
  width?: number;
  height?: number;
  fit: FitMode;
  position: Position;
  withoutEnlargement: boolean;
  kernel: ResizeKernel;
  linearLight: boolean;
  format: OutputFormat;
  /** JPEG and lossy WebP quality, 1–100. */
  quality: number;
  /** JPEG: progressive scans (transcoded losslessly from the encoder's baseline output). */
  progressive: boolean;
  /** JPEG chroma subsampling. */
  chroma: '4:2:0' | '4:4:4';
  /** PNG zlib level, 0–9. */
  compressionLevel: number;
  /** WebP lossless. */
  lossless: boolean;
  /** RGBA 0–255: letterbox colour, and what alpha is flattened onto for JPEG. */
  background: [number, number, number, number];
  /** Keep EXIF (orientation reset to 1) and tag the output with an sRGB ICC profile. */
  keepMetadata: boolean;
}

export interface ImageSpec {
  /** Largest stored width × height decoded (checked on the header, before decoding). */
  maxPixels: number;
  /** JPEG shrink-on-load through the decoder's `lowres` when every target allows it. */
  shrinkOnLoad: boolean | 'fast';
  targets: ImageTargetSpec[];
}

/** What the worker reports about an image job. */
export interface ImageJobInfo {
  source: {
    format: ImageFormat;
    /** Displayed (EXIF-oriented) size. */
    width: number;
    height: number;
    orientation: number;
    /** What was done about colour: none embedded, an sRGB-equivalent one, or converted. */
    icc: 'none' | 'srgb' | 'converted' | 'ignored';
    /**
     * What decoded it: libjpeg-turbo (YCbCr and grayscale JPEGs) and libwebp (WebP) on the cores
     * built here; FFmpeg for everything else, for a file those two refuse, and on the stock core.
     */
    decoder: ImageDecoder;
  };
  /** The JPEG decoder's `lowres` level used (0: full size). */
  lowres: number;
  decodeMs: number;
  resizeMs: number;
  encodeMs: number;
  outputs: Array<{ width: number; height: number; format: OutputFormat }>;
}
