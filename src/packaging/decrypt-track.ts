/**
 * The reading side of Common Encryption, for checking a package: a media segment of a protected
 * track back to its clear samples, with every box that locates the encryption data checked on
 * the way (`senc` entry count, `saiz` sizes, `saio` offset, subsample maps covering each sample).
 */
import { find, readBoxHeader, readInit, readMoof } from './bmff.js';
import { auxInfoBytes, readFragmentProtection, readProtection, type SampleAuxInfo, sencDataOffset } from './cenc-boxes.js';
import { cryptSample } from './cenc-samples.js';

export interface DecryptedSegment {
  /** The samples, clear, in decode order. */
  samples: Uint8Array[];
  /** Their `senc` entries; null for a segment of the clear lead. */
  aux: SampleAuxInfo[] | null;
}

export function decryptSegment(init: Uint8Array, segment: Uint8Array, key: Uint8Array): DecryptedSegment {
  const protection = readProtection(init);
  const track = readInit(init);
  const moofBox = findTop(segment, 'moof');
  const moof = segment.subarray(moofBox.start, moofBox.end);
  const fragment = readMoof(moof, moofBox.start, track);
  const info = readFragmentProtection(moof, protection.tenc.perSampleIvSize);
  const samples = fragment.samples.map((s) => {
    if (s.offset + s.size > segment.byteLength) throw new Error('cenc: a sample runs past the segment');
    return segment.slice(s.offset, s.offset + s.size);
  });
  if (info.descriptionIndex !== 1) {
    if (info.samples) throw new Error('cenc: a fragment on the clear sample entry carries senc');
    return { samples, aux: null };
  }
  let aux = info.samples;
  if (aux) {
    if (aux.length !== samples.length) throw new Error(`cenc: senc has ${aux.length} entries for ${samples.length} samples`);
    if (info.saioOffset !== sencDataOffset(moof)) throw new Error(`cenc: saio points at ${info.saioOffset}, senc's entries start at ${sencDataOffset(moof)}`);
    const sizes = aux.map((a) => auxInfoBytes(a).byteLength);
    if (JSON.stringify(info.saizSizes) !== JSON.stringify(sizes)) throw new Error('cenc: saiz sizes differ from the senc entries');
  } else {
    // Constant IV and whole samples (cbcs audio): tenc says it all.
    if (protection.tenc.perSampleIvSize !== 0) throw new Error('cenc: a protected fragment without senc');
    aux = samples.map(() => ({ iv: new Uint8Array(0), subsamples: null }));
  }
  samples.forEach((sample, i) => {
    cryptSample(sample, key, protection.tenc, aux[i]!, 'decrypt');
  });
  return { samples, aux };
}

function findTop(bytes: Uint8Array, type: string) {
  const box = find(bytes, [type]);
  if (!box) throw new Error(`cenc: the segment has no ${type}`);
  return readBoxHeader(bytes, box.start)!;
}
