/**
 * The flag each library option comes from, per command: the engine's errors name the option
 * (`video: must be…`, `targets[0].quality: …`); the command line says the flag the user typed
 * (`--ladder: must be…`, `--quality: …`).
 */
import { OptionsError, type SandcodecError } from '../errors.js';
import type { CommandName } from './args.js';

const LIMITS: Record<string, string> = {
  'limits.timeoutMs': '--timeout',
  'limits.maxDurationSeconds': '--max-duration',
  'limits.maxInputBytes': '--max-input-bytes',
  workers: '--workers',
  core: '--core',
  videoThreads: '--video-threads',
};

const IMAGE: Record<string, string> = {
  width: '--width',
  height: '--height',
  fit: '--fit',
  position: '--position',
  kernel: '--kernel',
  quality: '--quality',
  background: '--background',
  withoutEnlargement: '--no-enlarge',
  keepMetadata: '--keep-metadata',
  linearLight: '--linear-light',
  chromaSubsampling: '--chroma-444',
  progressive: '--progressive',
  lossless: '--lossless',
  compressionLevel: '--compression-level',
  maxPixels: '--max-pixels',
  shrinkOnLoad: '--shrink-on-load',
};

const ARTWORK: Record<string, string> = { cover: '--cover', tags: '--tag', stripTags: '--strip-tags' };

const BY_COMMAND: Partial<Record<CommandName, Record<string, string>>> = {
  transcode: {
    preset: '--preset',
    'preset.base': '--preset',
    'preset.codec': '--codec',
    'preset.bitrate': '--bitrate',
    'preset.sampleRate': '--sample-rate',
    'preset.channels': '--channels',
    'preset.videoBitrate': '--video-bitrate',
    'preset.size': '--size',
    start: '--start',
    duration: '--duration',
    fadeIn: '--fade-in',
    fadeOut: '--fade-out',
    ...ARTWORK,
  },
  ladder: { presets: '--presets', ...ARTWORK },
  normalize: { target: '--target', truePeak: '--true-peak', policy: '--policy', preset: '--preset' },
  peaks: { pixelsPerSecond: '--pixels-per-second', samplesPerPixel: '--samples-per-pixel', bits: '--bits', splitChannels: '--split-channels' },
  demo: { seconds: '--seconds' },
  resize: IMAGE,
  cover: { ...IMAGE, format: '--format', targets: '--sizes' },
  package: {
    video: '--ladder',
    audio: '--audio',
    formats: '--format',
    segmentDuration: '--segment-duration',
    chunkSeconds: '--chunk-seconds',
    audioOnly: '--audio-only',
    'encryption.scheme': '--encrypt',
    'encryption.keys.kid': '--key-id',
    'encryption.keys.key': '--key',
    'encryption.clearLead': '--clear-lead',
    'encryption.systems': '--pssh',
    'hlsAes128.key': '--key',
    'hlsAes128.keyUri': '--key-uri',
    initTemplate: '--init-template',
    segmentTemplate: '--segment-template',
    singleFile: '--single-file',
    subtitles: '--subtitles',
    audioLanguage: '--audio-language',
    audioName: '--audio-name',
  },
  thumbnails: { every: '--every', sprite: '--sprite', 'sprite.columns': '--sprite', 'sprite.rows': '--sprite', 'sprite.width': '--width' },
};

/** `error` naming the flag of `command` its option comes from; any other error as it is. */
export function withFlagName(command: CommandName | undefined, error: SandcodecError): SandcodecError {
  const option = error.details.option;
  if (!(error instanceof OptionsError) || typeof option !== 'string' || option.startsWith('-') || !command) return error;
  // `targets[0].quality` is the image call's first target: the flags set every target alike.
  const path = option.replace(/^targets\[\d+\]\./, '').replace(/\[\d+\]/g, '');
  const names = { ...LIMITS, ...BY_COMMAND[command] };
  const flag = names[path] ?? names[path.split('.')[0]!];
  if (!flag || !error.message.startsWith(`${option}: `)) return error;
  return new OptionsError(flag, error.message.slice(option.length + 2));
}
