/**
 * Every preset table in one place, frozen and exported so callers can list them: one table of
 * audio presets (each knows its encoder, container and how FFmpeg should be told to make it) that
 * transcode, ladder, normalize and package all name; the video file presets of transcode (an
 * H.264/AAC MP4, a VP9/Opus WebM); and the H.264 ladder of a package (sizes by the short side of
 * the picture, so portrait sources get the same ladder turned).
 */
import { OptionsError } from '../errors.js';
import type { StreamInfo } from './probe-result.js';

/**
 * How the bitrate is held: `cbr` exactly; `abr` on average (managed, so the nominal rate is
 * what a listener actually gets); `cvbr` constrained VBR, close to nominal; `lossless` none.
 */
export type RateControl = 'cbr' | 'abr' | 'cvbr' | 'lossless';

export type AudioCodec = 'vorbis' | 'opus' | 'aac' | 'mp3' | 'flac' | 'pcm';

export interface AudioPreset {
  readonly kind: 'audio';
  readonly name: string;
  readonly codec: AudioCodec;
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
  /** Fixed output rate (Opus only runs at 48 kHz; or a custom preset's). */
  readonly sampleRate?: number;
  /** Fixed channel count (a custom preset's): the source is mixed down or up to it. */
  readonly channels?: number;
  /** A package can carry it as a CMAF track (AAC, Opus, FLAC). */
  readonly cmaf: boolean;
}

/** How each codec is made and stored: encoder, muxer, extension, rate control, CMAF carriage. */
export const AUDIO_CODECS: Readonly<Record<AudioCodec, { encoder: string; format: string; extension: string; rateControl: RateControl; cmaf: boolean }>> =
  Object.freeze({
    vorbis: { encoder: 'libvorbis', format: 'ogg', extension: 'ogg', rateControl: 'abr', cmaf: false },
    opus: { encoder: 'libopus', format: 'opus', extension: 'opus', rateControl: 'cvbr', cmaf: true },
    aac: { encoder: 'aac', format: 'ipod', extension: 'm4a', rateControl: 'abr', cmaf: true },
    mp3: { encoder: 'libmp3lame', format: 'mp3', extension: 'mp3', rateControl: 'cbr', cmaf: false },
    flac: { encoder: 'flac', format: 'flac', extension: 'flac', rateControl: 'lossless', cmaf: true },
    pcm: { encoder: 'pcm_s16le', format: 'wav', extension: 'wav', rateControl: 'lossless', cmaf: false },
  });

export const AUDIO_CODEC_NAMES: readonly AudioCodec[] = Object.freeze(Object.keys(AUDIO_CODECS) as AudioCodec[]);

/** A preset of `codec` at `kbps` (lossy: stereo at most; Opus at 48 kHz), or lossless without one. */
export function makeAudioPreset(name: string, codec: AudioCodec, kbps?: number, extra: Partial<AudioPreset> = {}): AudioPreset {
  const c = AUDIO_CODECS[codec];
  const lossy = c.rateControl !== 'lossless';
  return Object.freeze({
    kind: 'audio',
    name,
    codec,
    encoder: c.encoder,
    format: c.format,
    extension: c.extension,
    rateControl: c.rateControl,
    cmaf: c.cmaf,
    ...(lossy && kbps ? { bitrate: kbps * 1000 } : {}),
    ...(lossy ? { maxChannels: 2 } : {}),
    ...(codec === 'opus' ? { sampleRate: 48000 } : {}),
    ...extra,
  });
}

export const AUDIO_PRESETS: Readonly<Record<string, AudioPreset>> = Object.freeze({
  'vorbis-96': makeAudioPreset('vorbis-96', 'vorbis', 96),
  'vorbis-160': makeAudioPreset('vorbis-160', 'vorbis', 160),
  'vorbis-320': makeAudioPreset('vorbis-320', 'vorbis', 320),
  'opus-64': makeAudioPreset('opus-64', 'opus', 64),
  'opus-96': makeAudioPreset('opus-96', 'opus', 96),
  'opus-160': makeAudioPreset('opus-160', 'opus', 160),
  'aac-64': makeAudioPreset('aac-64', 'aac', 64),
  'aac-96': makeAudioPreset('aac-96', 'aac', 96),
  'aac-128': makeAudioPreset('aac-128', 'aac', 128),
  'aac-192': makeAudioPreset('aac-192', 'aac', 192),
  'aac-256': makeAudioPreset('aac-256', 'aac', 256),
  'mp3-128': makeAudioPreset('mp3-128', 'mp3', 128),
  'mp3-320': makeAudioPreset('mp3-320', 'mp3', 320),
  flac: makeAudioPreset('flac', 'flac'),
  wav: makeAudioPreset('wav', 'pcm'),
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
  if (preset.codec === 'vorbis' && (preset.channels ?? source.channels) === 1) return Math.min(preset.bitrate, VORBIS_MONO_MAX_BITRATE);
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
  const rate = preset.rateControl === 'lossless' ? preset.sampleRate : lossyRate(preset, source.sampleRate);
  if (rate && rate !== source.sampleRate) args.push('-ar', String(rate));
  if (preset.channels) {
    if (preset.channels !== source.channels) args.push('-ac', String(preset.channels));
  } else if (preset.maxChannels && (source.channels ?? 0) > preset.maxChannels) {
    args.push('-ac', String(preset.maxChannels));
  }
  return args;
}

/**
 * A video file preset of transcode: one progressive file with the picture re-encoded at constant
 * quality (capped by the peak rate of the ladder rung of its size, so a hard scene cannot blow
 * past what the rung streams at), never larger than `maxSize` on its short side nor than the
 * source, and the first audio stream encoded as `audio`.
 */
export interface VideoPreset {
  readonly kind: 'video';
  readonly name: string;
  /** The video codec, and the container's muxer and extension. */
  readonly codec: 'h264' | 'vp9';
  readonly format: 'mp4' | 'webm';
  readonly extension: 'mp4' | 'webm';
  /** Constant-quality level (x264 CRF; libvpx CRF), before the cap. */
  readonly quality: number;
  /** Short side of the picture at most, pixels. */
  readonly maxSize: number;
  /** Average video bit/s instead of constant quality (a custom preset's `videoBitrate`). */
  readonly videoBitrate?: number;
  /** The audio track's encoding. */
  readonly audio: AudioPreset;
  /** Audio codecs the container may carry (a custom preset's `codec`). */
  readonly audioCodecs: readonly AudioCodec[];
}

export const VIDEO_PRESETS: Readonly<Record<string, VideoPreset>> = Object.freeze({
  // AAC at 128 kbit/s is what every MP4 player decodes; x264 at CRF 23 is its own default quality.
  'mp4-h264-aac': Object.freeze({
    kind: 'video',
    name: 'mp4-h264-aac',
    codec: 'h264',
    format: 'mp4',
    extension: 'mp4',
    quality: 23,
    maxSize: 1080,
    audio: AUDIO_PRESETS['aac-128']!,
    audioCodecs: Object.freeze(['aac', 'opus', 'mp3'] as AudioCodec[]),
  }),
  // Opus at 96 kbit/s matches AAC at 128; libvpx CRF 33 lands near x264 CRF 23 on the same picture.
  'webm-vp9-opus': Object.freeze({
    kind: 'video',
    name: 'webm-vp9-opus',
    codec: 'vp9',
    format: 'webm',
    extension: 'webm',
    quality: 33,
    maxSize: 1080,
    audio: AUDIO_PRESETS['opus-96']!,
    audioCodecs: Object.freeze(['opus', 'vorbis'] as AudioCodec[]),
  }),
} satisfies Record<string, VideoPreset>);

export const VIDEO_PRESET_NAMES: readonly string[] = Object.freeze(Object.keys(VIDEO_PRESETS));

/** Every preset a transcode can name. */
export type Preset = AudioPreset | VideoPreset;

export const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({ ...AUDIO_PRESETS, ...VIDEO_PRESETS });

export const PRESET_NAMES: readonly string[] = Object.freeze(Object.keys(PRESETS));

export function getPreset(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
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

/** An audio preset a package can carry as a CMAF track. */
export type PackageAudioPreset = AudioPreset;

/** The audio presets a package can carry (CMAF holds AAC, Opus and FLAC): a view of the one table. */
export const PACKAGE_AUDIO: Readonly<Record<string, AudioPreset>> = Object.freeze(Object.fromEntries(Object.entries(AUDIO_PRESETS).filter(([, p]) => p.cmaf)));

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
