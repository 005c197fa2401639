/**
 * Every preset table in one place, frozen and exported so callers can list them: the audio presets
 * of a music service's ladder (each knows its encoder, container and how FFmpeg should be told to
 * make it), and the renditions a package can make: the H.264 video ladder (sizes by the short side
 * of the picture, so portrait sources get the same ladder turned) and the CMAF audio tracks.
 */
import { OptionsError } from '../errors.js';
import type { StreamInfo } from './probe-result.js';

/**
 * How the bitrate is held: `cbr` exactly; `abr` on average (managed, so the nominal rate is
 * what a listener actually gets); `cvbr` constrained VBR, close to nominal; `lossless` none.
 */
export type RateControl = 'cbr' | 'abr' | 'cvbr' | 'lossless';

export interface AudioPreset {
  readonly name: string;
  readonly codec: 'vorbis' | 'opus' | 'aac' | 'mp3' | 'flac' | 'pcm';
  /** FFmpeg encoder name. */
  readonly encoder: string;
  /** FFmpeg muxer and file extension of the rendition. */
  readonly format: string;
  readonly extension: string;
  /** Nominal bitrate in bit/s for lossy presets. */
  readonly bitrate?: number;
  readonly rateControl: RateControl;
  /** Lossy presets are delivered as stereo at most. */
  readonly maxChannels?: number;
  /** Fixed output rate (Opus only runs at 48 kHz). */
  readonly sampleRate?: number;
}

const lossy = (
  name: string,
  codec: AudioPreset['codec'],
  encoder: string,
  format: string,
  extension: string,
  kbps: number,
  rateControl: RateControl,
  extra: Partial<AudioPreset> = {},
): AudioPreset => Object.freeze({ name, codec, encoder, format, extension, bitrate: kbps * 1000, rateControl, maxChannels: 2, ...extra });

export const AUDIO_PRESETS: Readonly<Record<string, AudioPreset>> = Object.freeze({
  'vorbis-96': lossy('vorbis-96', 'vorbis', 'libvorbis', 'ogg', 'ogg', 96, 'abr'),
  'vorbis-160': lossy('vorbis-160', 'vorbis', 'libvorbis', 'ogg', 'ogg', 160, 'abr'),
  'vorbis-320': lossy('vorbis-320', 'vorbis', 'libvorbis', 'ogg', 'ogg', 320, 'abr'),
  'opus-96': lossy('opus-96', 'opus', 'libopus', 'opus', 'opus', 96, 'cvbr', { sampleRate: 48000 }),
  'opus-160': lossy('opus-160', 'opus', 'libopus', 'opus', 'opus', 160, 'cvbr', { sampleRate: 48000 }),
  'aac-128': lossy('aac-128', 'aac', 'aac', 'ipod', 'm4a', 128, 'abr'),
  'aac-256': lossy('aac-256', 'aac', 'aac', 'ipod', 'm4a', 256, 'abr'),
  'mp3-320': lossy('mp3-320', 'mp3', 'libmp3lame', 'mp3', 'mp3', 320, 'cbr'),
  flac: Object.freeze({ name: 'flac', codec: 'flac', encoder: 'flac', format: 'flac', extension: 'flac', rateControl: 'lossless' }),
  wav: Object.freeze({ name: 'wav', codec: 'pcm', encoder: 'pcm_s16le', format: 'wav', extension: 'wav', rateControl: 'lossless' }),
} satisfies Record<string, AudioPreset>);

export const AUDIO_PRESET_NAMES: readonly string[] = Object.freeze(Object.keys(AUDIO_PRESETS));

export function getAudioPreset(name: string): AudioPreset | undefined {
  return Object.hasOwn(AUDIO_PRESETS, name) ? AUDIO_PRESETS[name] : undefined;
}

/** The preset `name` given as `option`, or `E_OPTIONS` listing the known ones. */
export function audioPreset(option: string, name: unknown): AudioPreset {
  const preset = typeof name === 'string' ? getAudioPreset(name) : undefined;
  if (!preset) throw new OptionsError(option, `unknown preset ${JSON.stringify(name) ?? String(name)} (known: ${AUDIO_PRESET_NAMES.join(', ')})`);
  return preset;
}

/**
 * Lossy renditions are delivered at 44.1 or 48 kHz. Below 44.1 kHz the encoders cannot spend the
 * nominal bitrate (AAC caps at 6144 bit per channel and frame, MP3 drops to MPEG-2.5 at 64 kbit/s,
 * libvorbis refuses to set up) and one padded final frame lasts long enough to be heard (128 ms
 * for AAC at 8 kHz); above 48 kHz the extra band is wasted bits, and MP3 cannot carry it at all.
 */
const LOSSY_MIN_RATE = 44100;
const LOSSY_MAX_RATE = 48000;

/** The sample rate a lossy preset encodes `sourceRate` at. */
export function lossyRate(preset: AudioPreset, sourceRate: number | undefined): number | undefined {
  if (preset.sampleRate) return preset.sampleRate;
  if (!sourceRate) return undefined;
  if (sourceRate < LOSSY_MIN_RATE) return LOSSY_MIN_RATE;
  // 88.2 and 176.4 kHz masters come from the 44.1 kHz family: halving keeps the resampler simple.
  if (sourceRate > LOSSY_MAX_RATE) return sourceRate % LOSSY_MIN_RATE === 0 ? LOSSY_MIN_RATE : LOSSY_MAX_RATE;
  // MPEG-1 Layer III knows 44.1 and 48 kHz only in this range.
  if (preset.codec === 'mp3' && sourceRate !== LOSSY_MIN_RATE) return LOSSY_MAX_RATE;
  return sourceRate;
}

/** libvorbis' mono setups (44.1 and 48 kHz) end at 240 kbit/s; asked for more, it refuses to start. */
const VORBIS_MONO_MAX_BITRATE = 240_000;

/** The bit/s a lossy preset asks its encoder for; `undefined` for lossless ones. */
export function targetBitrate(preset: AudioPreset, source: StreamInfo): number | undefined {
  if (!preset.bitrate) return undefined;
  if (preset.codec === 'vorbis' && source.channels === 1) return Math.min(preset.bitrate, VORBIS_MONO_MAX_BITRATE);
  return preset.bitrate;
}

/**
 * Options every native AAC encode gets. Temporal noise shaping is off: in this wasm build its
 * filter search goes wrong on steady tones and writes clicks (a 440 Hz sine came back with
 * peaks 2.3x its level, frames at 13 dB SNR against 31 dB around them), while on every real
 * recording tried it never engaged (byte-identical output with and without it).
 */
export const AAC_ENCODER_ARGS: readonly string[] = Object.freeze(['-aac_tns', '0']);

/** The FFmpeg output options that make `preset` from `source`. */
export function encoderArgs(preset: AudioPreset, source: StreamInfo): string[] {
  // Keep the source's precision: 24-bit and float masters must not be truncated to 16 bits.
  const deep = (source.bitsPerSample ?? 16) > 16 || /^(s32|flt|dbl)/.test(source.sampleFormat ?? '');
  const args = ['-c:a', preset.codec === 'pcm' ? (deep ? 'pcm_s24le' : 'pcm_s16le') : preset.encoder];
  const bitrate = targetBitrate(preset, source);
  if (bitrate) args.push('-b:a', String(bitrate));
  // Unmanaged libvorbis picks a quality for the nominal rate and lands 20-30 % under it on real
  // music; a max rate keeps bitrate management on, so the average is the nominal rate.
  if (preset.codec === 'vorbis' && bitrate) args.push('-maxrate', String(bitrate * 2));
  if (preset.codec === 'opus') args.push('-vbr', 'constrained', '-application', 'audio');
  if (preset.codec === 'aac') args.push(...AAC_ENCODER_ARGS);
  if (preset.codec === 'flac') args.push('-compression_level', '8');
  const rate = preset.rateControl === 'lossless' ? undefined : lossyRate(preset, source.sampleRate);
  if (rate && rate !== source.sampleRate) args.push('-ar', String(rate));
  if (preset.maxChannels && (source.channels ?? 0) > preset.maxChannels) args.push('-ac', String(preset.maxChannels));
  return args;
}

export interface VideoRung {
  readonly name: string;
  /** Short side of the picture, pixels. */
  readonly size: number;
  /** Average bit/s. */
  readonly bitrate: number;
  /** Peak bit/s the VBV holds (x264 `vbv-maxrate`). */
  readonly maxrate: number;
  /** VBV buffer, bits. */
  readonly bufsize: number;
  readonly profile: 'high' | 'main';
}

const rung = (name: string, size: number, kbps: number, maxKbps: number, bufKbit: number, profile: VideoRung['profile']): VideoRung =>
  Object.freeze({ name, size, bitrate: kbps * 1000, maxrate: maxKbps * 1000, bufsize: bufKbit * 1000, profile });

export const VIDEO_LADDER: Readonly<Record<string, VideoRung>> = Object.freeze({
  '1080p': rung('1080p', 1080, 5000, 5500, 11000, 'high'),
  '720p': rung('720p', 720, 2800, 3080, 6160, 'high'),
  '480p': rung('480p', 480, 1400, 1540, 3080, 'main'),
  '360p': rung('360p', 360, 800, 880, 1760, 'main'),
  '240p': rung('240p', 240, 400, 440, 880, 'main'),
});

export const VIDEO_RUNG_NAMES: readonly string[] = Object.freeze(Object.keys(VIDEO_LADDER));

export interface PackageAudioPreset {
  readonly name: string;
  readonly codec: 'aac' | 'opus' | 'flac';
  readonly encoder: string;
  /** Nominal bit/s; undefined for FLAC. */
  readonly bitrate?: number;
}

const audio = (name: string, codec: PackageAudioPreset['codec'], encoder: string, kbps?: number): PackageAudioPreset =>
  Object.freeze({ name, codec, encoder, ...(kbps ? { bitrate: kbps * 1000 } : {}) });

export const PACKAGE_AUDIO: Readonly<Record<string, PackageAudioPreset>> = Object.freeze({
  'aac-256': audio('aac-256', 'aac', 'aac', 256),
  'aac-192': audio('aac-192', 'aac', 'aac', 192),
  'aac-128': audio('aac-128', 'aac', 'aac', 128),
  'aac-96': audio('aac-96', 'aac', 'aac', 96),
  'aac-64': audio('aac-64', 'aac', 'aac', 64),
  'opus-160': audio('opus-160', 'opus', 'libopus', 160),
  'opus-96': audio('opus-96', 'opus', 'libopus', 96),
  'opus-64': audio('opus-64', 'opus', 'libopus', 64),
  flac: audio('flac', 'flac', 'flac'),
});

export const PACKAGE_AUDIO_NAMES: readonly string[] = Object.freeze(Object.keys(PACKAGE_AUDIO));

/**
 * The picture size of a rung for a `width`×`height` source: the short side becomes the rung's
 * size (never more than the source's), the long side keeps the aspect ratio, both even.
 */
export function rungSize(rungSize: number, width: number, height: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const target = Math.min(rungSize, short);
  const scale = target / short;
  const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
  return { width: even(width * scale), height: even(height * scale) };
}
