/**
 * Sample encryption against node:crypto used directly: where the cbcs pattern falls, that CBC
 * chains across a subsample's encrypted blocks and restarts at each subsample, that the cenc
 * keystream runs on across subsamples, and the subsample map's limits.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TrackEncryption } from '../../src/packaging/cenc-boxes.js';
import { avcSubsamples, cryptSample } from '../../src/packaging/cenc-samples.js';
import { ParameterSets } from '../../src/packaging/h264-headers.js';

const key = randomBytes(16);
const kid = randomBytes(16);
const constantIv = randomBytes(16);
const cbcs: TrackEncryption = { scheme: 'cbcs', kid, perSampleIvSize: 0, constantIv, cryptByteBlock: 1, skipByteBlock: 9 };
const cenc: TrackEncryption = { scheme: 'cenc', kid, perSampleIvSize: 8, cryptByteBlock: 0, skipByteBlock: 0 };

const cbc = (data: Uint8Array) => createCipheriv('aes-128-cbc', key, constantIv).setAutoPadding(false).update(data);

describe('cbcs', () => {
  it('encrypts 1 block of every 10 from the end of the clear bytes, chained, and leaves a partial block clear', () => {
    const plain = randomBytes(400);
    const sample = Uint8Array.from(plain);
    // Two subsamples: 5 clear + 195 protected, then 10 clear + 190 protected.
    const subsamples = [
      { clear: 5, protected: 195 },
      { clear: 10, protected: 190 },
    ];
    cryptSample(sample, key, cbcs, { iv: new Uint8Array(0), subsamples }, 'encrypt');
    const same = (a: number, b: number) => Buffer.from(sample.subarray(a, b)).equals(plain.subarray(a, b));
    // First subsample: blocks at 5 and 165 (chained), the rest clear (19 bytes left after 181: skip).
    const first = cbc(Buffer.concat([plain.subarray(5, 21), plain.subarray(165, 181)]));
    expect(Buffer.from(sample.subarray(5, 21))).toEqual(first.subarray(0, 16));
    expect(Buffer.from(sample.subarray(165, 181))).toEqual(first.subarray(16, 32));
    expect(same(0, 5) && same(21, 165) && same(181, 210)).toBe(true);
    // Second subsample starts from the IV again: its first block is encrypted as if alone.
    expect(Buffer.from(sample.subarray(210, 226))).toEqual(cbc(plain.subarray(210, 226)));
    expect(same(226, 370) && same(386, 400)).toBe(true);
    cryptSample(sample, key, cbcs, { iv: new Uint8Array(0), subsamples }, 'decrypt');
    expect(Buffer.from(sample)).toEqual(plain);
  });

  it('audio: every whole block of the sample, the last partial block clear', () => {
    const plain = randomBytes(100);
    const sample = Uint8Array.from(plain);
    cryptSample(sample, key, { ...cbcs, cryptByteBlock: 0, skipByteBlock: 0 }, { iv: new Uint8Array(0), subsamples: null }, 'encrypt');
    expect(Buffer.from(sample.subarray(0, 96))).toEqual(cbc(plain.subarray(0, 96)));
    expect(Buffer.from(sample.subarray(96))).toEqual(plain.subarray(96));
  });
});

describe('cenc', () => {
  it('runs one CTR keystream across the protected ranges of a sample, from IV || 0', () => {
    const plain = randomBytes(300);
    const sample = Uint8Array.from(plain);
    const iv = randomBytes(8);
    const subsamples = [
      { clear: 7, protected: 33 },
      { clear: 60, protected: 200 },
    ];
    cryptSample(sample, key, cenc, { iv, subsamples }, 'encrypt');
    const stream = createCipheriv('aes-128-ctr', key, Buffer.concat([iv, Buffer.alloc(8)])).update(
      Buffer.concat([plain.subarray(7, 40), plain.subarray(100, 300)]),
    );
    expect(Buffer.from(sample.subarray(7, 40))).toEqual(stream.subarray(0, 33));
    expect(Buffer.from(sample.subarray(100, 300))).toEqual(stream.subarray(33));
    expect(Buffer.from(sample.subarray(40, 100))).toEqual(plain.subarray(40, 100));
  });

  it('refuses a subsample map that does not cover the sample exactly', () => {
    expect(() => cryptSample(new Uint8Array(50), key, cenc, { iv: new Uint8Array(8), subsamples: [{ clear: 10, protected: 30 }] }, 'encrypt')).toThrow(
      /covers 40 bytes of a 50-byte sample/,
    );
  });
});

describe('subsample maps', () => {
  it('a NAL unit larger than a 16-bit clear count is split into clear-only subsamples', () => {
    // One SEI NAL unit (type 6) of 150,000 bytes: all clear, in three subsamples.
    const size = 150_000;
    const sample = new Uint8Array(4 + size);
    new DataView(sample.buffer).setUint32(0, size);
    sample[4] = 6;
    const map = avcSubsamples(sample, 4, new ParameterSets(), true);
    expect(map).toEqual([
      { clear: 65535, protected: 0 },
      { clear: 65535, protected: 0 },
      { clear: 4 + size - 2 * 65535, protected: 0 },
    ]);
  });

  it('refuses a length field that runs past the sample', () => {
    const sample = Uint8Array.from([0, 0, 0, 40, 6, 1, 2]);
    expect(() => avcSubsamples(sample, 4, new ParameterSets(), true)).toThrow(/does not fit the sample/);
  });
});
