/** sandcodec: an in-process media codec engine. FFmpeg in WebAssembly, in a worker pool. */

export type { MediaInput } from './call/input.js';
export type { CallOptions } from './call/run-call.js';
export type { SweepOptions } from './call/staging.js';
export { sweepStaging } from './call/staging.js';
export { createEngine, Engine, type Observed } from './engine.js';
export * from './errors.js';
export type { PackagedText, PackagedTrack } from './manifests/track.js';
export type { FitMode, OutputFormat, Position, ResizeKernel } from './model/image-spec.js';
export { COVER_SIZES, FIT_MODES, IMAGE_OUTPUTS, OUTPUT_FORMATS, POSITIONS, RESIZE_KERNELS } from './model/image-spec.js';
export type { AudioCodec, AudioPreset, PackageAudioPreset, Preset, VideoPreset, VideoRung } from './model/presets.js';
export {
  AUDIO_PRESET_NAMES,
  AUDIO_PRESETS,
  PACKAGE_AUDIO,
  PACKAGE_AUDIO_NAMES,
  PRESET_NAMES,
  PRESETS,
  VIDEO_LADDER,
  VIDEO_PRESET_NAMES,
  VIDEO_PRESETS,
  VIDEO_RUNG_NAMES,
} from './model/presets.js';
export type { ProbeResult, StreamInfo } from './model/probe-result.js';
export type { CallErrorMessage, CallFinishMessage, CallInfo, CallStartMessage, EngineStats, Logger, LogLevel } from './observe.js';
export { DIAGNOSTICS_CHANNELS, LOG_LEVELS } from './observe.js';
export type { AnalysisResult, AnalyzeOptions } from './ops/analyze.js';
export type { PresetOption, PresetSettings } from './ops/custom-preset.js';
export type { EditOptions } from './ops/edit.js';
export type { GenerateOptions, GenerateResult } from './ops/generate.js';
export { SIGNALS } from './ops/generate.js';
export type { GenerateVideoOptions } from './ops/generate-video.js';
export type { ImageJobOptions, ImageTarget } from './ops/image.js';
export type { ImageOutput, ImageSetOptions, ImageSetResult, ImageSource, ResizeImageOptions, ResizeResult } from './ops/image-call.js';
export type { LadderOptions, LadderResult, Rendition } from './ops/ladder.js';
export type { Loudness } from './ops/loudness.js';
export type { AlbumNormalizeOptions, AlbumNormalizeResult, NormalizeOptions, NormalizePolicy, NormalizeResult } from './ops/normalize.js';
export type {
  ChunkResult,
  PackageFormat,
  PackageJob,
  PackageOptions,
  PackagePlan,
  PackageResult,
  PlanOptions,
  RunChunkOptions,
  StitchOptions,
  VideoTarget,
} from './ops/package.js';
export type { EncryptionKeyOption, EncryptionOptions, HlsAes128Options } from './ops/package-encryption.js';
export type { SubtitleOption } from './ops/package-text.js';
export type { PeaksOptions, Waveform } from './ops/peaks.js';
export type { ProbeOptions } from './ops/probe.js';
export type { SpriteOptions, ThumbnailOptions, ThumbnailResult } from './ops/thumbnails.js';
export type { TranscodeOptions, TranscodeResult } from './ops/transcode.js';
export type { EngineOptions, Limits } from './options.js';
export { DEFAULT_LIMITS } from './options.js';
export type { Progress, ProgressListener } from './progress.js';
export type { CopyRuntimeOptions, CopyRuntimeResult } from './util/copy-runtime.js';
export { copyRuntime } from './util/copy-runtime.js';
