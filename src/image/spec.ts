/**
 * What an image job does, as plain data shared by the plan (main thread) and the pipeline
 * (worker): one decoded source, any number of sized and encoded outputs.
 */
import type { ResizeKernel } from '../kernels/resize-filters.js';
import type { FitMode, Position } from './fit.js';
import type { ImageFormat } from './header.js';

export const OUTPUT_FORMATS = Object.freeze(['jpeg', 'png', 'webp'] as const);
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

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
  shrinkOnLoad: boolean;
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
  };
  /** The JPEG decoder's `lowres` level used (0: full size). */
  lowres: number;
  decodeMs: number;
  resizeMs: number;
  encodeMs: number;
  outputs: Array<{ width: number; height: number; format: OutputFormat }>;
}
