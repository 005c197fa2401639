/** sandcodec: an in-process media codec engine. FFmpeg in WebAssembly, in a worker pool. */
export { createEngine, Engine } from './engine.js';
export type { CallOptions, ProbeOptions, TranscodeOptions, LadderOptions, LadderResult, Rendition, TranscodeResult, GenerateResult } from './engine.js';
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
