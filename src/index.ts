/** sandcodec: an in-process media codec engine. FFmpeg in WebAssembly, in a worker pool. */
export { createEngine, Engine } from './engine.js';
export type { AnalyzeOptions, CallOptions, ProbeOptions, TranscodeOptions, LadderOptions, LadderResult, Rendition, TranscodeResult, GenerateResult } from './engine.js';
export * from './errors.js';
export { DEFAULT_LIMITS } from './options.js';
export type { EngineOptions, Limits } from './options.js';
export { AUDIO_PRESETS, AUDIO_PRESET_NAMES } from './presets/audio.js';
export type { AudioPreset } from './presets/audio.js';
export type { ProbeResult, StreamInfo } from './ops/probe-result.js';
export { SIGNALS } from './ops/generate.js';
export type { GenerateOptions } from './ops/generate.js';
export type { MediaInput } from './io/input.js';
export type { Progress, ProgressListener } from './progress.js';
export type { AnalysisResult } from './ops/analyze.js';
export type { Loudness } from './ops/loudness.js';
export type { NormalizeOptions, NormalizeResult, AlbumNormalizeOptions, AlbumNormalizeResult, NormalizePolicy } from './ops/normalize.js';
export type { PeaksOptions, Waveform } from './ops/waveform.js';
