/** sandcodec: an in-process media codec engine. FFmpeg in WebAssembly, in a worker pool. */

export type {
  AnalyzeOptions,
  CallOptions,
  GenerateResult,
  LadderOptions,
  LadderResult,
  ProbeOptions,
  Rendition,
  TranscodeOptions,
  TranscodeResult,
} from './engine.js';
export { createEngine, Engine } from './engine.js';
export * from './errors.js';
export type { FitMode, Position } from './image/fit.js';
export { FIT_MODES, POSITIONS } from './image/fit.js';
export type { OutputFormat } from './image/spec.js';
export { OUTPUT_FORMATS } from './image/spec.js';
export type { MediaInput } from './io/input.js';
export type { ResizeKernel } from './kernels/resize-filters.js';
export { RESIZE_KERNELS } from './kernels/resize-filters.js';
export type { AnalysisResult } from './ops/analyze.js';
export type { GenerateOptions } from './ops/generate.js';
export { SIGNALS } from './ops/generate.js';
export type { GenerateVideoOptions } from './ops/generate-video.js';
export type { ImageJobOptions, ImageTarget } from './ops/image.js';
export type { ImageOutput, ImageSetOptions, ImageSetResult, ImageSource, ResizeImageOptions, ResizeResult } from './ops/image-call.js';
export { COVER_SIZES } from './ops/image-call.js';
export type { Loudness } from './ops/loudness.js';
export type { AlbumNormalizeOptions, AlbumNormalizeResult, NormalizeOptions, NormalizePolicy, NormalizeResult } from './ops/normalize.js';
export type { PackageFormat, PackageOptions, PackageResult } from './ops/package.js';
export type { ProbeResult, StreamInfo } from './ops/probe-result.js';
export type { SpriteOptions, ThumbnailOptions, ThumbnailResult } from './ops/thumbnails.js';
export type { PeaksOptions, Waveform } from './ops/waveform.js';
export type { EngineOptions, Limits } from './options.js';
export { DEFAULT_LIMITS } from './options.js';
export type { PackageAudioPreset, VideoRung } from './packaging/presets.js';
export { PACKAGE_AUDIO, PACKAGE_AUDIO_NAMES, VIDEO_LADDER, VIDEO_RUNG_NAMES } from './packaging/presets.js';
export type { PackagedTrack } from './packaging/track.js';
export type { AudioPreset } from './presets/audio.js';
export { AUDIO_PRESET_NAMES, AUDIO_PRESETS } from './presets/audio.js';
export type { Progress, ProgressListener } from './progress.js';
