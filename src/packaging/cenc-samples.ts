/**
 * Sample encryption of Common Encryption (ISO/IEC 23001-7) with `node:crypto`'s AES-128:
 * - `cenc`: AES-CTR, an 8-byte IV per sample; the keystream runs on across a sample's protected
 *   ranges;
 * - `cbcs`: AES-CBC with a constant IV, reset at every subsample; video encrypts 1 block in 10
 *   (the pattern), audio every whole block; a trailing partial block stays clear.
 * Video samples are H.264 access units (length-prefixed NAL units): each slice's NAL header and
 * slice header stay clear, every other NAL unit (SEI, parameter sets, delimiters) entirely clear.
 * Audio samples are protected whole. Encryption and decryption work in place.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { SampleAuxInfo, Subsample, TrackEncryption } from './cenc-boxes.js';
import { type ParameterSets, sliceHeaderSize } from './h264-headers.js';

const MAX_CLEAR = 0xffff;

/**
 * The subsample map of one H.264 access unit. With `align16` (cenc) each protected range is cut
 * to whole 16-byte blocks, the remainder joining the clear bytes in front of it.
 */
export function avcSubsamples(sample: Uint8Array, nalLengthSize: number, sets: ParameterSets, align16: boolean): Subsample[] {
  const out: Subsample[] = [];
  let clear = 0;
  const pushClear = (n: number) => {
    clear += n;
  };
  const emit = (protectedBytes: number) => {
    while (clear > MAX_CLEAR) {
      out.push({ clear: MAX_CLEAR, protected: 0 });
      clear -= MAX_CLEAR;
    }
    out.push({ clear, protected: protectedBytes });
    clear = 0;
  };
  let at = 0;
  while (at < sample.byteLength) {
    if (at + nalLengthSize > sample.byteLength) throw new Error(`a NAL unit length field runs past the sample (at ${at} of ${sample.byteLength})`);
    let size = 0;
    for (let i = 0; i < nalLengthSize; i++) size = size * 256 + sample[at + i]!;
    const start = at + nalLengthSize;
    const end = start + size;
    if (size === 0 || end > sample.byteLength) throw new Error(`a NAL unit of ${size} bytes at ${at} does not fit the sample of ${sample.byteLength}`);
    const nal = sample.subarray(start, end);
    const type = nal[0]! & 0x1f;
    if (type === 7 || type === 8) sets.add(nal);
    if (type === 1 || type === 5) {
      const header = sliceHeaderSize(nal, sets);
      let protectedBytes = size - header;
      let clearBytes = nalLengthSize + header;
      if (align16) {
        clearBytes += protectedBytes % 16;
        protectedBytes -= protectedBytes % 16;
      }
      pushClear(clearBytes);
      if (protectedBytes > 0) emit(protectedBytes);
    } else pushClear(nalLengthSize + size);
    at = end;
  }
  if (clear > 0) emit(0);
  return out;
}

/** `[start, end)` ranges of a sample that the cipher covers, in order. */
function protectedRanges(sampleSize: number, subsamples: readonly Subsample[] | null): Array<[number, number]> {
  if (!subsamples) return [[0, sampleSize]];
  const ranges: Array<[number, number]> = [];
  let at = 0;
  for (const s of subsamples) {
    at += s.clear;
    if (s.protected > 0) ranges.push([at, at + s.protected]);
    at += s.protected;
  }
  if (at !== sampleSize) throw new Error(`the subsample map covers ${at} bytes of a ${sampleSize}-byte sample`);
  return ranges;
}

/** The 16-byte blocks a cbcs pattern encrypts in a range (all whole blocks with a 0:0 pattern). */
function patternBlocks(start: number, end: number, crypt: number, skip: number): Array<[number, number]> {
  const blocks: Array<[number, number]> = [];
  if (crypt === 0) {
    const whole = Math.floor((end - start) / 16) * 16;
    if (whole > 0) blocks.push([start, start + whole]);
    return blocks;
  }
  let at = start;
  while (end - at >= 16 * crypt) {
    blocks.push([at, at + 16 * crypt]);
    at += 16 * (crypt + skip);
  }
  return blocks;
}

type Cipher = { update(data: Uint8Array): Buffer };

/** Runs `cipher` over `ranges` of `sample` as one stream, writing back in place. */
function cryptRanges(sample: Uint8Array, ranges: ReadonlyArray<[number, number]>, cipher: Cipher): void {
  if (ranges.length === 0) return;
  const joined = Buffer.concat(ranges.map(([a, b]) => sample.subarray(a, b)));
  const out = cipher.update(joined);
  let at = 0;
  for (const [a, b] of ranges) {
    sample.set(out.subarray(at, at + (b - a)), a);
    at += b - a;
  }
}

function ctrIv(iv: Uint8Array): Buffer {
  const full = Buffer.alloc(16);
  full.set(iv);
  return full;
}

/** Encrypts or decrypts one sample in place, as its `senc` entry describes. */
export function cryptSample(sample: Uint8Array, key: Uint8Array, t: TrackEncryption, aux: SampleAuxInfo, direction: 'encrypt' | 'decrypt'): void {
  const ranges = protectedRanges(sample.byteLength, aux.subsamples);
  if (t.scheme === 'cenc') {
    const make = direction === 'encrypt' ? createCipheriv : createDecipheriv;
    cryptRanges(sample, ranges, make('aes-128-ctr', key, ctrIv(aux.iv)));
    return;
  }
  const iv = t.perSampleIvSize === 0 ? t.constantIv! : aux.iv;
  // Each subsample starts again from the IV; within it, CBC chains across the pattern's blocks.
  for (const [a, b] of ranges) {
    const blocks = aux.subsamples ? patternBlocks(a, b, t.cryptByteBlock, t.skipByteBlock) : patternBlocks(a, b, 0, 0);
    const cipher = (direction === 'encrypt' ? createCipheriv : createDecipheriv)('aes-128-cbc', key, iv).setAutoPadding(false);
    cryptRanges(sample, blocks, cipher);
  }
}

/** The encrypting side of one track: fresh IVs per sample for cenc, subsample maps for video. */
export class SampleEncryptor {
  private counter: bigint;

  constructor(
    private readonly t: TrackEncryption,
    private readonly key: Uint8Array,
    private readonly video: { nalLengthSize: number; sets: ParameterSets } | null,
    /** The first sample's IV (cenc), 8 bytes. */
    firstIv: Uint8Array,
  ) {
    this.counter = Buffer.from(firstIv).readBigUInt64BE(0);
  }

  /** A sample left clear (clear lead): its parameter sets still count for the slices after it. */
  observe(sample: Uint8Array): void {
    if (this.video) avcSubsamples(sample, this.video.nalLengthSize, this.video.sets, false);
  }

  encrypt(sample: Uint8Array): SampleAuxInfo {
    let iv = new Uint8Array(0);
    if (this.t.perSampleIvSize === 8) {
      iv = new Uint8Array(8);
      new DataView(iv.buffer).setBigUint64(0, this.counter);
      this.counter = (this.counter + 1n) & 0xffffffffffffffffn;
    }
    const subsamples = this.video ? avcSubsamples(sample, this.video.nalLengthSize, this.video.sets, this.t.scheme === 'cenc') : null;
    const aux: SampleAuxInfo = { iv, subsamples };
    cryptSample(sample, this.key, this.t, aux, 'encrypt');
    return aux;
  }
}
