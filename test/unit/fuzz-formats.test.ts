/**
 * The fuzzer's structure walkers, field writers, checksums and mutators, on small files built
 * here byte by byte: a walker that misplaces a field would make every lie land somewhere else.
 */
import { describe, expect, it } from 'vitest';
import { caseId, opOf, parseCaseId } from '../../fuzz/case.js';
import { seedFile } from '../../fuzz/corpus.js';
import { crc8, crc32, oggCrc } from '../../fuzz/formats/checksums.js';
import { type Field, fixChecksums, type Layout, readField, walk, writeField } from '../../fuzz/formats/index.js';
import { MUTATOR_NAMES, mutate } from '../../fuzz/mutators.js';
import { OP_NAMES } from '../../fuzz/ops.js';
import { Rng } from '../../fuzz/prng.js';

const text = (s: string) => [...s].map((c) => c.charCodeAt(0));
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const le16 = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
const box = (type: string, ...body: number[][]) => {
  const payload = body.flat();
  return [...be32(8 + payload.length), ...text(type), ...payload];
};
const full = (version: number) => [version, 0, 0, 0];

function field(layout: Layout, name: string): Field {
  const f = layout.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${layout.fields.map((x) => x.name).join(', ')}`);
  return f;
}

/** ftyp + moov(mvhd, trak(tkhd, mdia(mdhd, minf(stbl(stsz))))) + mdat. */
function mp4(): Uint8Array {
  const mvhd = box('mvhd', full(0), be32(0), be32(0), be32(1000), be32(5000), new Array(80).fill(0));
  const tkhd = box('tkhd', full(0), be32(0), be32(0), be32(1), be32(0), be32(5000), new Array(52).fill(0), be32(320 << 16), be32(240 << 16));
  const mdhd = box('mdhd', full(0), be32(0), be32(0), be32(48000), be32(240000), be32(0));
  const stsz = box('stsz', full(0), be32(0), be32(3), be32(10), be32(10), be32(10));
  const moov = box('moov', mvhd, box('trak', tkhd, box('mdia', mdhd, box('minf', box('stbl', stsz)))));
  return new Uint8Array([...box('ftyp', text('isom'), be32(0)), ...moov, ...box('mdat', new Array(30).fill(7))]);
}

function wav(): Uint8Array {
  const fmt = [...text('fmt '), ...le32(16), ...le16(1), ...le16(2), ...le32(44100), ...le32(44100 * 4), ...le16(4), ...le16(16)];
  const data = [...text('data'), ...le32(8), ...new Array(8).fill(0)];
  return new Uint8Array([...text('RIFF'), ...le32(4 + fmt.length + data.length), ...text('WAVE'), ...fmt, ...data]);
}

function png(): Uint8Array {
  const chunk = (type: string, data: number[]) => {
    const body = new Uint8Array([...text(type), ...data]);
    return [...be32(data.length), ...body, ...be32(crc32(body, 0, body.length))];
  };
  return new Uint8Array([
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...chunk('IHDR', [...be32(640), ...be32(480), 8, 2, 0, 0, 0]),
    ...chunk('IDAT', [1, 2, 3]),
    ...chunk('IEND', []),
  ]);
}

/** fLaC + STREAMINFO: 44.1 kHz, 2 channels, 16 bits, 123456789 samples. */
function flac(): Uint8Array {
  const info = new Uint8Array(34);
  info.set([0x10, 0x00, 0x10, 0x00], 0); // block sizes 4096
  // 20 bits rate | 3 bits channels-1 | 5 bits bps-1 | 36 bits total samples
  const packed = (44100n << 44n) | (1n << 41n) | (15n << 36n) | 123456789n;
  for (let i = 0; i < 8; i++) info[10 + i] = Number((packed >> BigInt(8 * (7 - i))) & 0xffn);
  info.fill(0xab, 18);
  return new Uint8Array([...text('fLaC'), 0x80, 0, 0, 34, ...info]);
}

describe('checksums', () => {
  it('match the published check values over "123456789"', () => {
    const check = new Uint8Array(text('123456789'));
    expect(crc32(check, 0, 9)).toBe(0xcbf43926);
    // Ogg: CRC-32/POSIX's register without its final inversion.
    expect(oggCrc(check, 0, 9)).toBe(~0x765e7680 >>> 0);
    expect(crc8(check, 0, 9)).toBe(0xf4);
  });

  it('fixChecksums repairs a PNG chunk CRC after a change', () => {
    const original = png();
    const changed = original.slice();
    changed[16] = 0x7f; // IHDR width
    expect(changed).not.toEqual(original);
    fixChecksums('png', changed);
    const crcAt = 8 + 8 + 13;
    const recomputed = crc32(changed, 12, crcAt);
    expect([...changed.subarray(crcAt, crcAt + 4)]).toEqual(be32(recomputed));
    expect([...changed.subarray(crcAt, crcAt + 4)]).not.toEqual([...original.subarray(crcAt, crcAt + 4)]);
  });
});

describe('walkers', () => {
  it('ISO BMFF: nested boxes, their size fields, durations and table counts', () => {
    const bytes = mp4();
    const layout = walk(bytes);
    expect(layout.format).toBe('bmff');
    expect(layout.spans.map((s) => s.name)).toEqual(['ftyp', 'moov', 'mvhd', 'trak', 'tkhd', 'mdia', 'mdhd', 'minf', 'stbl', 'stsz', 'mdat']);
    expect(readField(bytes, field(layout, 'moov/mvhd.duration'))).toBe(5000n);
    expect(readField(bytes, field(layout, 'moov/mvhd.timescale'))).toBe(1000n);
    expect(readField(bytes, field(layout, 'moov/trak/mdia/mdhd.duration'))).toBe(240000n);
    expect(readField(bytes, field(layout, 'moov/trak/tkhd.width'))).toBe(320n << 16n);
    expect(readField(bytes, field(layout, 'moov/trak/mdia/minf/stbl/stsz.sample_count'))).toBe(3n);
    const moov = layout.spans.find((s) => s.name === 'moov')!;
    expect(readField(bytes, layout.fields[moov.size!]!)).toBe(BigInt(moov.end - moov.start));
  });

  it('RIFF/WAV: chunk sizes (little-endian) and fmt fields', () => {
    const bytes = wav();
    const layout = walk(bytes);
    expect(layout.format).toBe('riff-wave');
    expect(readField(bytes, field(layout, 'RIFF/fmt .channels'))).toBe(2n);
    expect(readField(bytes, field(layout, 'RIFF/fmt .sample_rate'))).toBe(44100n);
    expect(readField(bytes, field(layout, 'RIFF/data.size'))).toBe(8n);
  });

  it('PNG: chunk lengths and IHDR dimensions', () => {
    const bytes = png();
    const layout = walk(bytes);
    expect(layout.spans.map((s) => s.name)).toEqual(['signature', 'IHDR', 'IDAT', 'IEND']);
    expect(readField(bytes, field(layout, 'IHDR.width'))).toBe(640n);
    expect(readField(bytes, field(layout, 'IHDR.height'))).toBe(480n);
    expect(readField(bytes, field(layout, 'IDAT.size'))).toBe(3n);
  });

  it('FLAC: STREAMINFO bit fields read and write without touching their neighbours', () => {
    const bytes = flac();
    const layout = walk(bytes);
    const rate = field(layout, 'STREAMINFO.sample_rate');
    const channels = field(layout, 'STREAMINFO.channels_minus_one');
    const depth = field(layout, 'STREAMINFO.bits_per_sample_minus_one');
    const total = field(layout, 'STREAMINFO.total_samples');
    expect([rate, channels, depth, total].map((f) => readField(bytes, f))).toEqual([44100n, 1n, 15n, 123456789n]);
    writeField(bytes, total, (1n << 36n) - 1n);
    writeField(bytes, channels, 7n);
    expect([rate, channels, depth, total].map((f) => readField(bytes, f))).toEqual([44100n, 7n, 15n, (1n << 36n) - 1n]);
    expect(bytes[4 + 4 + 18]).toBe(0xab); // the MD5 after the packed fields
  });

  it('syncsafe and EBML vint sizes keep their marker bits', () => {
    const id3 = new Uint8Array([...text('ID3'), 3, 0, 0, 0, 0, 0x02, 0x01, ...new Array(257).fill(0)]);
    const f: Field = { name: 'id3.size', role: 'size', offset: 6, bits: 28, syncsafe: true };
    expect(readField(id3, f)).toBe(257n);
    writeField(id3, f, (1n << 28n) - 1n);
    expect([...id3.subarray(6, 10)]).toEqual([0x7f, 0x7f, 0x7f, 0x7f]);
    // A 2-byte vint: 01xxxxxx xxxxxxxx, value in the low 14 bits.
    const vint = new Uint8Array([0x40, 0x05]);
    const v: Field = { name: 'size', role: 'size', offset: 0, bits: 14, bit: 2 };
    expect(readField(vint, v)).toBe(5n);
    writeField(vint, v, (1n << 14n) - 1n);
    expect([...vint]).toEqual([0x7f, 0xff]);
  });

  it('little-endian bit fields: the VP8L header packs 14-bit sizes lowest bit first', () => {
    // width - 1 = 639, height - 1 = 479, alpha hint 1, version 0: one 32-bit little-endian word.
    const word = 639 | (479 << 14) | (1 << 28);
    const vp8l = [0x2f, ...le32(word)];
    const bytes = new Uint8Array([...text('RIFF'), ...le32(4 + 8 + vp8l.length + 1), ...text('WEBP'), ...text('VP8L'), ...le32(vp8l.length), ...vp8l, 0]);
    const layout = walk(bytes);
    const width = field(layout, 'RIFF/VP8L.width_minus_one');
    const height = field(layout, 'RIFF/VP8L.height_minus_one');
    expect([readField(bytes, width), readField(bytes, height)]).toEqual([639n, 479n]);
    writeField(bytes, width, 16383n);
    expect([readField(bytes, width), readField(bytes, height)]).toEqual([16383n, 479n]);
    writeField(bytes, height, 0n);
    const after = bytes[21]! | (bytes[22]! << 8) | (bytes[23]! << 16) | (bytes[24]! << 24);
    expect(after >>> 0).toBe((16383 | (1 << 28)) >>> 0);
  });

  it('unknown bytes walk to an empty layout', () => {
    expect(walk(new Uint8Array(text('just some text, not media')))).toEqual({ format: 'unknown', spans: [], fields: [] });
  });
});

describe('mutators and cases', () => {
  const corpus = [seedFile('video/tiny.mp4', mp4(), 'video'), seedFile('audio/tiny.wav', wav(), 'audio'), seedFile('image/tiny.png', png(), 'image')];

  it('a mutation is a pure function of the PRNG state', () => {
    for (let i = 0; i < 50; i++) {
      const a = mutate(new Rng(9, i), corpus[i % 3]!, corpus);
      const b = mutate(new Rng(9, i), corpus[i % 3]!, corpus);
      expect(b).toEqual(a);
    }
  });

  it('every mutator but the control changes the file, and all of them get picked', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const seed = corpus[i % 3]!;
      const m = mutate(new Rng(3, i), seed, corpus);
      seen.add(m.mutator);
      if (m.mutator !== 'identity') expect(m.bytes, `${m.mutator} ${JSON.stringify(m.params)}`).not.toEqual(seed.bytes);
    }
    expect([...seen].sort()).toEqual([...MUTATOR_NAMES].sort());
  });

  it('removing a box with fixParents keeps every container consistent', () => {
    let fixed = 0;
    for (let i = 0; i < 200 && fixed < 5; i++) {
      const m = mutate(new Rng(5, i), corpus[0]!, corpus, ['remove']);
      if (m.params.fixParents !== true) continue;
      fixed++;
      const layout = walk(m.bytes);
      for (const s of layout.spans) {
        if (s.size === undefined) continue;
        expect(readField(m.bytes, layout.fields[s.size]!), `${s.name} after removing ${m.params.span}`).toBe(BigInt(s.end - s.start));
      }
      expect(layout.spans.at(-1)?.end).toBe(m.bytes.byteLength);
    }
    expect(fixed).toBeGreaterThan(0);
  });

  it('a size lie writes the chosen value into the size field it names', () => {
    for (let i = 0; i < 30; i++) {
      const m = mutate(new Rng(11, i), corpus[1]!, corpus, ['size-lie']);
      const f = walk(corpus[1]!.bytes).fields.find((x) => x.name === m.params.field)!;
      expect(readField(m.bytes, f).toString()).toBe(m.params.now);
    }
  });

  it('case ids name the seed, the index and the op, and ops are drawn per case', () => {
    expect(parseCaseId(caseId(7, 42, 'probe-decode'))).toEqual({ seed: 7, index: 42, op: 'probe-decode' });
    expect(() => parseCaseId('7-42-nope')).toThrow(/not a case id/);
    const ops = new Set(Array.from({ length: 200 }, (_, i) => opOf(1, i, OP_NAMES)));
    expect(ops.size).toBe(OP_NAMES.length);
    expect(opOf(1, 5, OP_NAMES)).toBe(opOf(1, 5, OP_NAMES));
  });
});
