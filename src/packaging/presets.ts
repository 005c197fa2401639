/**
 * Renditions a packaging job can make: the H.264 video ladder (sizes by the short side of the
 * picture, so portrait sources get the same ladder turned) and the audio tracks, AAC first, with
 * Opus and FLAC in fMP4 as options. Frozen tables, exported so callers can list them.
 */

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
