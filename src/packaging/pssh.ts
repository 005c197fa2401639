/**
 * Protection System Specific Header boxes (ISO/IEC 23001-7, 8.1): one per DRM system a package
 * is prepared for, version 1 with the key IDs, in the init segment and in the manifests.
 */
import { fullBox } from './bmff.js';

export type DrmSystem = 'clearkey' | 'widevine';
export const DRM_SYSTEMS: readonly DrmSystem[] = ['clearkey', 'widevine'];

/**
 * SystemIDs. ClearKey players read the W3C Common PSSH ("cenc" initData); Widevine's data is its
 * own protobuf.
 */
export const SYSTEM_IDS: Readonly<Record<DrmSystem, string>> = {
  clearkey: '1077efec-c0b2-4d02-ace3-3c1e52e2fb4b',
  widevine: 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed',
};

export function uuidBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

/** A protobuf length-delimited field. */
function bytesField(field: number, value: Uint8Array): Uint8Array {
  if (value.byteLength > 127) throw new Error('pssh: protobuf field too long for a one-byte length');
  return Uint8Array.from([(field << 3) | 2, value.byteLength, ...value]);
}

function varintField(field: number, value: number): Uint8Array {
  const out = [field << 3];
  let v = value >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** WidevinePsshData: key_ids (field 2) and protection_scheme (field 9, the scheme's four-cc). */
export function widevineData(kids: readonly Uint8Array[], scheme: 'cenc' | 'cbcs'): Uint8Array {
  const fourcc = Buffer.from(scheme, 'latin1').readUInt32BE(0);
  return Buffer.concat([...kids.map((kid) => bytesField(2, kid)), varintField(9, fourcc)]);
}

/** A version 1 `pssh` box naming `kids`. */
export function psshBox(system: DrmSystem, kids: readonly Uint8Array[], scheme: 'cenc' | 'cbcs'): Uint8Array {
  const data = system === 'widevine' ? widevineData(kids, scheme) : new Uint8Array(0);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(kids.length);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(data.byteLength);
  return fullBox('pssh', 1, 0, uuidBytes(SYSTEM_IDS[system]), count, ...kids, size, data);
}
