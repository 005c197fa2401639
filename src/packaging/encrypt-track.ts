/**
 * Common Encryption of one CMAF track as the segmenter writes it: the protected init segment,
 * then each media segment's samples encrypted in place with the boxes its `traf` gains. Segments
 * that start inside the clear lead stay clear and point at the clear sample entry.
 */
import { randomBytes } from 'node:crypto';
import { children, type FragmentExtras, find, readAvcC, type Sample, type TrackInfo } from './bmff.js';
import { auxInfoBytes, protectInit, type SampleAuxInfo, type Scheme, saioBox, saizBox, sencBox, type TrackEncryption } from './cenc-boxes.js';
import { SampleEncryptor } from './cenc-samples.js';
import { ParameterSets } from './h264-headers.js';
import { type DrmSystem, psshBox } from './pssh.js';

export interface ContentKey {
  kid: Uint8Array;
  key: Uint8Array;
}

/** The encryption of a package, options resolved. */
export interface PackageEncryption {
  scheme: Scheme;
  /** Seconds from the start whose segments stay clear. */
  clearLead: number;
  systems: readonly DrmSystem[];
  /** The key of each kind of track. */
  keys: Readonly<Record<'video' | 'audio', ContentKey>>;
}

/** What the segmenter asks of a track's protection. */
export interface SegmentProtector {
  init: Uint8Array;
  /**
   * Encrypts a segment's sample data in place; what its moof must carry. `nominalStart`: the
   * segment's boundary on the segment grid (seconds), the same for the segments of every track
   * that play together, whatever each track's first sample time.
   */
  segment(nominalStart: number, samples: readonly Sample[], data: Uint8Array): FragmentExtras;
}

/** Video codecs the encryptor can find slice headers in, and audio it protects whole. */
const VIDEO_ENTRIES = new Set(['avc1', 'avc3']);
const AUDIO_ENTRIES: Readonly<Record<Scheme, ReadonlySet<string>>> = {
  cenc: new Set(['mp4a', 'Opus', 'fLaC']),
  // SAMPLE-AES in HLS (cbcs) is defined for AAC among this engine's codecs.
  cbcs: new Set(['mp4a']),
};

export function supportsEntry(scheme: Scheme, entry: string): boolean {
  return VIDEO_ENTRIES.has(entry) || AUDIO_ENTRIES[scheme].has(entry);
}

export function protectTrack(e: PackageEncryption, track: TrackInfo, init: Uint8Array): SegmentProtector {
  const kind = track.handler === 'vide' ? 'video' : 'audio';
  if (!supportsEntry(e.scheme, track.sampleEntry)) throw new Error(`${e.scheme} encryption of ${track.sampleEntry} tracks is not supported`);
  const { kid, key } = e.keys[kind];
  const video = kind === 'video';
  const t: TrackEncryption =
    e.scheme === 'cenc'
      ? { scheme: 'cenc', kid, perSampleIvSize: 8, cryptByteBlock: 0, skipByteBlock: 0 }
      : { scheme: 'cbcs', kid, perSampleIvSize: 0, constantIv: randomBytes(16), cryptByteBlock: video ? 1 : 0, skipByteBlock: video ? 9 : 0 };
  const kids = uniqueKids([e.keys.video.kid, e.keys.audio.kid]);
  const protectedInit = protectInit(init, t, { keepClearEntry: e.clearLead > 0, pssh: e.systems.map((s) => psshBox(s, kids, e.scheme)) });
  const encryptor = new SampleEncryptor(t, key, video ? { nalLengthSize: track.nalLengthSize ?? 4, sets: initialSets(init) } : null, randomBytes(8));
  return {
    init: protectedInit,
    segment(nominalStart, samples, data) {
      const clear = nominalStart < e.clearLead - 1e-6;
      const aux: SampleAuxInfo[] = [];
      let at = 0;
      for (const s of samples) {
        const sample = data.subarray(at, at + s.size);
        if (clear) encryptor.observe(sample);
        else aux.push(encryptor.encrypt(sample));
        at += s.size;
      }
      if (clear) return { descriptionIndex: 2 };
      const sizes = aux.map((a) => auxInfoBytes(a).byteLength);
      // cbcs audio: a constant IV and whole samples leave nothing per sample to say.
      if (sizes.every((n) => n === 0)) return {};
      const saiz = saizBox(sizes);
      return {
        auxBoxes: (offset) => [saiz, saioBox(offset), sencBox(aux)],
        auxDataAt: saiz.byteLength + saioBox(0).byteLength + 16,
      };
    },
  };
}

function uniqueKids(kids: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const k of kids) seen.set(Buffer.from(k).toString('hex'), k);
  return [...seen.values()];
}

/** The SPS and PPS of the track's avcC. */
function initialSets(init: Uint8Array): ParameterSets {
  const sets = new ParameterSets();
  const moov = find(init, ['moov']);
  const stsd = moov && find(init, ['trak', 'mdia', 'minf', 'stbl', 'stsd'], moov);
  const entry = stsd && children(init, stsd.payload + 8, stsd.end)[0];
  const avcC = entry && children(init, entry.payload + 78, entry.end).find((b) => b.type === 'avcC');
  if (!avcC) throw new Error('an H.264 track without avcC');
  const record = readAvcC(init.subarray(avcC.payload, avcC.end));
  for (const nal of [...record.sps, ...record.pps]) sets.add(nal);
  return sets;
}
