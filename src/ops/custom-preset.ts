/**
 * A preset as a caller names it: a preset's name, or a named preset with some of its settings
 * changed (`{ base: 'aac-256', bitrate: 192000 }`). Each setting is checked against what its
 * codec can do, so an encoder never gets a value it would refuse or silently round.
 */
import * as v from '../call/validate.js';
import { OptionsError } from '../errors.js';
import {
  AUDIO_CODEC_NAMES,
  type AudioCodec,
  type AudioPreset,
  getPreset,
  makeAudioPreset,
  PRESET_NAMES,
  type Preset,
  type VideoPreset,
} from '../model/presets.js';

/** Settings changed on top of a named preset. The audio ones apply to a video preset's audio track. */
export interface PresetSettings {
  /** The named preset the others change. */
  base: string;
  /** Audio codec: the container follows it for audio presets (opus → .opus); a video preset's container must carry it. */
  codec?: AudioCodec;
  /** Audio bit/s (lossy codecs). */
  bitrate?: number;
  /** Audio sample rate, Hz. */
  sampleRate?: number;
  /** Audio channels: the source is mixed down or up to this many. */
  channels?: number;
  /** Video presets: average video bit/s instead of constant quality. */
  videoBitrate?: number;
  /** Video presets: short side of the picture at most, pixels (never enlarged). */
  size?: number;
}

export type PresetOption = string | PresetSettings;

export const PRESET_SETTING_KEYS = ['base', 'codec', 'bitrate', 'sampleRate', 'channels', 'videoBitrate', 'size'] as const;

/** A preset resolved for one call: what to encode, and which settings differ from the named preset. */
export interface ResolvedPreset {
  preset: Preset;
  /** The named preset it starts from. */
  base: string;
  /** The settings the caller changed; absent when it is the named preset as it is. */
  custom?: Omit<PresetSettings, 'base'>;
}

/** Bit/s a lossy codec is asked for: its encoder's own bounds. */
const BITRATE_RANGE: Readonly<Partial<Record<AudioCodec, readonly [number, number]>>> = {
  // libvorbis' managed mode cannot hold a stereo stream under ~45 kbit/s or over 500.
  vorbis: [48_000, 500_000],
  opus: [6_000, 510_000],
  aac: [16_000, 512_000],
};

/** MPEG-1 Layer III's bitrates: a CBR MP3 frame holds exactly one of them. */
const MP3_BITRATES = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320].map((k) => k * 1000);

const SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000, 176400, 192000];

/** The rates each codec is encoded at here: MP3 as MPEG-1 (32–48 kHz), Opus only at 48 kHz. */
function ratesOf(codec: AudioCodec): number[] {
  if (codec === 'opus') return [48000];
  if (codec === 'mp3') return [32000, 44100, 48000];
  if (codec === 'aac') return SAMPLE_RATES.filter((r) => r <= 96000);
  return SAMPLE_RATES;
}

/** The nominal rate a codec gets when `codec` changes it and no bitrate is given. */
const DEFAULT_KBPS: Readonly<Record<AudioCodec, number | undefined>> = { vorbis: 160, opus: 160, aac: 256, mp3: 320, flac: undefined, pcm: undefined };

export function resolvePreset(option: string, value: unknown): ResolvedPreset {
  if (typeof value === 'string') return { preset: named(option, value), base: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    v.fail(option, `a preset name (${PRESET_NAMES.join(', ')}) or an object { base, codec, bitrate, sampleRate, channels, videoBitrate, size }`, value);
  }
  const o = value as Partial<PresetSettings>;
  v.knownKeys(option, o, PRESET_SETTING_KEYS, 'preset setting');
  const base = named(`${option}.base`, o.base);
  const custom: Omit<PresetSettings, 'base'> = {};
  for (const key of PRESET_SETTING_KEYS) {
    if (key !== 'base' && o[key] !== undefined) (custom as Record<string, unknown>)[key] = o[key];
  }
  if (Object.keys(custom).length === 0) return { preset: base, base: base.name };
  const audio = customAudio(option, base.kind === 'audio' ? base : base.audio, custom, base.kind === 'video' ? base : undefined);
  let preset: Preset = audio;
  if (base.kind === 'video') {
    const videoBitrate = v.optional(custom.videoBitrate, undefined, (x) => v.integer(`${option}.videoBitrate`, x, 100_000, 50_000_000));
    const size = v.optional(custom.size, undefined, (x) => v.integer(`${option}.size`, x, 32, 4320));
    if (size !== undefined && size % 2 !== 0) throw new OptionsError(`${option}.size`, `must be even (4:2:0 pictures have even sides), got ${size}`);
    preset = Object.freeze({ ...base, audio, ...(size !== undefined ? { maxSize: size } : {}), ...(videoBitrate !== undefined ? { videoBitrate } : {}) });
  } else {
    for (const key of ['videoBitrate', 'size'] as const) {
      if (custom[key] !== undefined) throw new OptionsError(`${option}.${key}`, `is a video setting, and ${base.name} is an audio preset`);
    }
  }
  return { preset, base: base.name, custom };
}

function named(option: string, name: unknown): Preset {
  const preset = typeof name === 'string' ? getPreset(name) : undefined;
  if (!preset) throw new OptionsError(option, `unknown preset ${v.show(name)} (known: ${PRESET_NAMES.join(', ')})`);
  return preset;
}

/** `base` with the audio settings of `custom`, each checked against the codec it ends up with. */
function customAudio(option: string, base: AudioPreset, custom: Omit<PresetSettings, 'base'>, video: VideoPreset | undefined): AudioPreset {
  const codec = v.optional(custom.codec, base.codec, (x) => v.oneOf(`${option}.codec`, x, AUDIO_CODEC_NAMES));
  if (video && !video.audioCodecs.includes(codec)) {
    throw new OptionsError(`${option}.codec`, `${video.format} files here carry ${video.audioCodecs.join(', ')} audio, not ${codec}`);
  }
  const lossless = codec === 'flac' || codec === 'pcm';
  let bitrate: number | undefined;
  if (custom.bitrate !== undefined) {
    if (lossless) throw new OptionsError(`${option}.bitrate`, `${codec} is lossless: it takes no bitrate`);
    bitrate = v.integer(`${option}.bitrate`, custom.bitrate, 1, 10_000_000);
    const range = BITRATE_RANGE[codec];
    if (range && (bitrate < range[0] || bitrate > range[1])) {
      throw new OptionsError(`${option}.bitrate`, `must be from ${range[0]} to ${range[1]} bit/s for ${codec}, got ${bitrate}`);
    }
    if (codec === 'mp3' && !MP3_BITRATES.includes(bitrate)) {
      throw new OptionsError(`${option}.bitrate`, `must be an MP3 bitrate (${MP3_BITRATES.map((b) => `${b / 1000}k`).join(', ')}), got ${bitrate}`);
    }
  } else if (!lossless) {
    bitrate = codec === base.codec && base.bitrate ? base.bitrate : DEFAULT_KBPS[codec]! * 1000;
    if (codec === 'mp3' && !MP3_BITRATES.includes(bitrate)) bitrate = MP3_BITRATES.find((b) => b >= bitrate!) ?? 320_000;
  }
  const sampleRate = v.optional(custom.sampleRate, undefined, (x) => {
    const rates = ratesOf(codec);
    if (typeof x !== 'number' || !rates.includes(x)) v.fail(`${option}.sampleRate`, `one of ${rates.join(', ')} Hz for ${codec}`, x);
    return x as number;
  });
  const channels = v.optional(custom.channels, undefined, (x) => v.integer(`${option}.channels`, x, 1, lossless ? 8 : 2));
  return makeAudioPreset(base.name, codec, bitrate === undefined ? undefined : bitrate / 1000, {
    ...(sampleRate !== undefined ? { sampleRate } : {}),
    ...(channels !== undefined ? { channels } : {}),
  });
}
