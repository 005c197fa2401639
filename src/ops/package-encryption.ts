/**
 * The options of a protected package, checked before any work starts: Common Encryption
 * (`encryption`: cenc or cbcs, keys per kind of track, clear lead, DRM systems) or whole-segment
 * AES-128 for HLS (`hlsAes128`). Also what the manifests say of the protection.
 */
import { createCipheriv } from 'node:crypto';
import * as v from '../call/validate.js';
import { OptionsError } from '../errors.js';
import type { AudioPreset } from '../model/presets.js';
import type { Scheme } from '../packaging/cenc-boxes.js';
import type { ContentKey, PackageEncryption } from '../packaging/encrypt-track.js';
import { DRM_SYSTEMS, type DrmSystem } from '../packaging/pssh.js';

export interface EncryptionKeyOption {
  /** Key ID: 32 hex digits, dashes allowed (UUID form). */
  kid: string;
  /** Content key: 32 hex digits. */
  key: string;
  /** The tracks this key protects (default: every track no other key names). */
  type?: 'video' | 'audio';
}

export interface EncryptionOptions {
  /** `cenc` (AES-CTR, DASH and most DRM) or `cbcs` (AES-CBC 1:9 pattern, HLS/FairPlay and DASH). */
  scheme: Scheme;
  keys: EncryptionKeyOption[];
  /** Seconds at the start left clear, so playback starts before a licence arrives (default 0). */
  clearLead?: number;
  /** DRM systems whose `pssh` boxes and manifest signalling are written (default ['clearkey']). */
  systems?: DrmSystem[];
}

export interface HlsAes128Options {
  /** 32 hex digits: the key every segment is encrypted with. */
  key: string;
  /** Where players fetch the key (written into `#EXT-X-KEY`); the key file itself is not written. */
  keyUri: string;
}

export interface ResolvedHlsAes128 {
  key: Uint8Array;
  keyUri: string;
}

/** How the stitched tracks are protected: never part of a plan, so keys do not travel with it. */
export interface PackageProtection {
  encryption: PackageEncryption | null;
  hlsAes128: ResolvedHlsAes128 | null;
}

const HEX_32 = /^[0-9a-f]{32}$/i;

/** 16 bytes from hex. A key ID is shown back in the message; a key never is (messages reach logs). */
function hex16(option: string, value: unknown, kind: 'kid' | 'key'): Uint8Array {
  const text = typeof value === 'string' ? (kind === 'kid' ? value.replace(/-/g, '') : value) : '';
  if (!HEX_32.test(text)) {
    if (kind === 'kid') v.fail(option, '16 bytes as 32 hexadecimal digits (dashes allowed)', value);
    const got = typeof value === 'string' ? `${value.length} characters` : typeof value;
    throw new OptionsError(option, `must be 16 bytes as 32 hexadecimal digits, got ${got} (the value is not shown)`);
  }
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** The codecs cbcs is defined for here: H.264 video and AAC audio (HLS SAMPLE-AES, FairPlay). */
const CBCS_AUDIO = new Set(['aac']);

export function resolveEncryption(value: unknown, tracks: { video: boolean; audio: readonly AudioPreset[] }): PackageEncryption | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OptionsError('encryption', 'must be an object');
  const o = value as Partial<EncryptionOptions>;
  v.knownKeys('encryption', o, ['scheme', 'keys', 'clearLead', 'systems']);
  const scheme = v.oneOf('encryption.scheme', o.scheme, ['cenc', 'cbcs'] as const);
  if (scheme === 'cbcs') {
    const other = tracks.audio.find((a) => !CBCS_AUDIO.has(a.codec));
    if (other)
      throw new OptionsError(
        'encryption.scheme',
        `cbcs is supported for H.264 and AAC; the ${other.name} rendition is ${other.codec} (use cenc, or AAC renditions)`,
      );
  }
  if (!Array.isArray(o.keys) || o.keys.length === 0 || o.keys.length > 2) throw new OptionsError('encryption.keys', 'must be an array of one or two keys');
  const byType: Partial<Record<'video' | 'audio' | 'all', ContentKey>> = {};
  o.keys.forEach((k: unknown, i) => {
    const at = `encryption.keys[${i}]`;
    if (typeof k !== 'object' || k === null) throw new OptionsError(at, 'must be an object { kid, key, type? }');
    const entry = k as Partial<EncryptionKeyOption>;
    v.knownKeys(at, entry, ['kid', 'key', 'type']);
    const type = entry.type === undefined ? 'all' : v.oneOf(`${at}.type`, entry.type, ['video', 'audio'] as const);
    if (byType[type]) throw new OptionsError(`${at}.type`, `a second key for ${type === 'all' ? 'every track' : `${type} tracks`}`);
    byType[type] = { kid: hex16(`${at}.kid`, entry.kid, 'kid'), key: hex16(`${at}.key`, entry.key, 'key') };
  });
  const video = byType.video ?? byType.all;
  const audio = byType.audio ?? byType.all;
  if (tracks.video && !video) throw new OptionsError('encryption.keys', 'has no key for the video tracks (add one without a type, or with type "video")');
  if (tracks.audio.length > 0 && !audio)
    throw new OptionsError('encryption.keys', 'has no key for the audio tracks (add one without a type, or with type "audio")');
  const clearLead = v.optional(o.clearLead, 0, (x) => v.number('encryption.clearLead', x, 0, 3600));
  const systems =
    o.systems === undefined ? (['clearkey'] as DrmSystem[]) : (v.names('encryption.systems', o.systems, DRM_SYSTEMS, 'DRM system') as DrmSystem[]);
  // A kind without tracks still needs a key to fill the record: the other kind's is never used.
  const any = (video ?? audio)!;
  return { scheme, clearLead, systems, keys: { video: video ?? any, audio: audio ?? any } };
}

export function resolveHlsAes128(value: unknown, formats: readonly string[], encryption: PackageEncryption | null): ResolvedHlsAes128 | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OptionsError('hlsAes128', 'must be an object { key, keyUri }');
  const o = value as Partial<HlsAes128Options>;
  v.knownKeys('hlsAes128', o, ['key', 'keyUri']);
  if (encryption) throw new OptionsError('hlsAes128', 'and encryption are two ways to protect a package: choose one');
  // DASH has no whole-segment encryption: its players would be handed segments they cannot read.
  if (formats.includes('dash')) throw new OptionsError('hlsAes128', "encrypts segments for HLS only: set formats to ['hls']");
  const key = hex16('hlsAes128.key', o.key, 'key');
  if (typeof o.keyUri !== 'string' || o.keyUri.length === 0 || /[\s"]/.test(o.keyUri))
    throw new OptionsError('hlsAes128.keyUri', 'must be a URI without spaces or quotes');
  return { key, keyUri: o.keyUri };
}

/** AES-128-CBC with PKCS#7 padding over a whole segment; the IV is the media sequence number (RFC 8216, 5.2). */
export function encryptSegmentAes128(key: Uint8Array, sequence: number, bytes: Uint8Array): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(sequence, 12);
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  return Buffer.concat([cipher.update(bytes), cipher.final()]);
}
