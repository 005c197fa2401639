/**
 * What the manifests say of a protected package: the scheme, each kind of track's default KID and
 * the DRM systems' `pssh` boxes (Common Encryption), or the key URI of whole-segment AES-128 HLS.
 */
import type { Scheme } from '../packaging/cenc-boxes.js';
import type { PackageEncryption } from '../packaging/encrypt-track.js';
import { type DrmSystem, psshBox, SYSTEM_IDS } from '../packaging/pssh.js';

/** What the manifests say of a Common Encryption package. */
export interface ManifestProtection {
  scheme: Scheme;
  clearLead: number;
  /** default_KID of each kind, as a UUID. */
  kids: Record<'video' | 'audio', string>;
  /** One per DRM system: its SystemID and the `pssh` box, base64. */
  pssh: Array<{ system: DrmSystem; systemId: string; box: string }>;
}

export type HlsProtection = { kind: 'cenc'; protection: ManifestProtection } | { kind: 'aes-128'; keyUri: string };

export function uuid(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function manifestProtection(e: PackageEncryption): ManifestProtection {
  const kids = [...new Map([e.keys.video.kid, e.keys.audio.kid].map((k) => [uuid(k), k])).values()];
  return {
    scheme: e.scheme,
    clearLead: e.clearLead,
    kids: { video: uuid(e.keys.video.kid), audio: uuid(e.keys.audio.kid) },
    pssh: e.systems.map((system) => ({ system, systemId: SYSTEM_IDS[system], box: Buffer.from(psshBox(system, kids, e.scheme)).toString('base64') })),
  };
}
