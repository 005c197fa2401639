/**
 * The packager's ISO BMFF layer on hand-built boxes: codec strings from avcC and esds, fragment
 * headers that read back to the same samples, and the chunking stage on a 29.97 fps stream whose
 * keyframes fall between whole seconds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { box, children, esdsCodec, fragmentHeader, fullBox, readAvcC, readInit, readMoof, type Sample } from '../../src/packaging/bmff.js';
import { segmentFile } from '../../src/packaging/segmenter.js';
import { readSegment } from '../helpers/mp4.js';

const bytes = (...values: number[]) => Uint8Array.from(values);
const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** An ES_Descriptor holding a DecoderConfigDescriptor (AAC) holding `asc`. */
function esDescriptor(asc: number[]): Uint8Array {
  const dsi = [0x05, asc.length, ...asc];
  const dcd = [0x04, 13 + dsi.length, 0x40, 0x15, 0, 0, 0, ...u32(128000), ...u32(128000), ...dsi];
  return bytes(0x03, 3 + dcd.length + 3, 0, 1, 0, ...dcd, 0x06, 1, 2);
}

/** avcC with one SPS (High, level 3.1) and one PPS, 4-byte NAL lengths. */
const SPS = [0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9];
const AVCC = bytes(1, 0x4d, 0x40, 0x1e, 0xff, 0xe1, ...u16(SPS.length), ...SPS, 1, ...u16(2), 0x68, 0xeb);

function videoInit(timescale: number): Uint8Array {
  const avc1 = box('avc1', bytes(0, 0, 0, 0, 0, 0, 0, 1, ...Array(16).fill(0), ...u16(640), ...u16(360), ...Array(50).fill(0)), box('avcC', AVCC));
  const stsd = fullBox('stsd', 0, 0, bytes(...u32(1)), avc1);
  const trak = box(
    'trak',
    fullBox('tkhd', 0, 3, bytes(...u32(0), ...u32(0), ...u32(1), ...Array(68).fill(0))),
    box(
      'mdia',
      fullBox('mdhd', 0, 0, bytes(...u32(0), ...u32(0), ...u32(timescale), ...u32(0), 0x55, 0xc4, 0, 0)),
      fullBox('hdlr', 0, 0, bytes(...u32(0)), text('vide'), bytes(...Array(12).fill(0)), text('video\0')),
      box('minf', box('stbl', stsd)),
    ),
  );
  const mvex = box('mvex', fullBox('trex', 0, 0, bytes(...u32(1), ...u32(1), ...u32(0), ...u32(0), ...u32(0))));
  return new Uint8Array([...box('ftyp', text('iso6'), bytes(0, 0, 0, 0), text('iso6')), ...box('moov', trak, mvex)]);
}

describe('codec strings', () => {
  it('reads avc1.PPCCLL from the SPS itself, not the record header', () => {
    const avc = readAvcC(AVCC);
    expect(avc.codec).toBe('64001f');
    expect(avc.nalLengthSize).toBe(4);
    expect(avc.pps.length).toBe(1);
  });

  it('reads the AAC object type and channels from the AudioSpecificConfig', () => {
    // AAC-LC (2), 48 kHz (3), stereo (2): 00010 0011 0010 000
    expect(esdsCodec(esDescriptor([0x11, 0x90]))).toEqual({ codecs: 'mp4a.40.2', channels: 2 });
    // Explicit SBR (5), 24 kHz core (6), mono (1).
    expect(esdsCodec(esDescriptor([0x2b, 0x08]))).toEqual({ codecs: 'mp4a.40.5', channels: 1 });
    // Escaped object type 31 + 6 bits (here 32 + 10 = 42), 44.1 kHz, 5.1.
    expect(esdsCodec(esDescriptor([0xf9, 0x46, 0x60])).codecs).toBe('mp4a.40.42');
  });

  it('reads a whole video init segment', () => {
    const track = readInit(videoInit(30000));
    expect(track).toMatchObject({ trackId: 1, handler: 'vide', timescale: 30000, codecs: 'avc1.64001f', width: 640, height: 360, nalLengthSize: 4 });
  });
});

describe('boxes', () => {
  it('refuses a box that runs past its parent', () => {
    const moov = box('moov', box('free', bytes(1, 2, 3, 4)));
    expect(() => children(moov.subarray(0, moov.byteLength - 2))).toThrow(/runs past/);
  });

  it('writes fragment headers that read back to the same samples', () => {
    const samples: Sample[] = [
      { duration: 512, size: 900, flags: 0x02000000, cto: 1024, offset: 0 },
      { duration: 512, size: 100, flags: 0x01010000, cto: -512, offset: 0 },
      { duration: 500, size: 120, flags: 0x01010000, cto: 0, offset: 0 },
    ];
    const header = fragmentHeader(7, 1, 2 ** 33, samples);
    const moof = header.subarray(0, header.byteLength - 8);
    const track = readInit(videoInit(15360));
    const fragment = readMoof(moof, 1000, track);
    expect(fragment.sequence).toBe(7);
    expect(fragment.baseDecodeTime).toBe(2 ** 33);
    // Data starts right after the mdat header that follows the moof.
    let at = 1000 + header.byteLength;
    expect(fragment.samples).toEqual(
      samples.map((s) => {
        const offset = at;
        at += s.size;
        return { ...s, offset };
      }),
    );
    const mdatSize = new DataView(header.buffer, header.byteOffset).getUint32(moof.byteLength);
    expect(mdatSize).toBe(8 + 1120);
  });
});

describe('chunking', () => {
  it('cuts a 29.97 fps stream on the keyframe nearest each boundary, with no gaps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandcodec-bmff-'));
    try {
      // 10 s at 30000/1001 with 2 s segments: keyframes at frames ceil(n * 2 * 29.97), as FFmpeg forces them.
      const frames = 300;
      const keys = new Set(Array.from({ length: 5 }, (_, n) => Math.ceil((n * 2 * 30000) / 1001)));
      const parts: Uint8Array[] = [videoInit(30000)];
      // FFmpeg's fragments need not match the segments: here one fragment per 45 frames.
      for (let start = 0; start < frames; start += 45) {
        const samples: Sample[] = [];
        for (let f = start; f < Math.min(frames, start + 45); f++) {
          samples.push({ duration: 1001, size: 10, flags: keys.has(f) ? 0x02000000 : 0x01010000, cto: 0, offset: 0 });
        }
        const header = fragmentHeader(parts.length, 1, start * 1001, samples);
        parts.push(
          header,
          new Uint8Array(samples.length * 10).map((_, i) => (start * 10 + i) & 0xff),
        );
      }
      const file = join(dir, 'in.mp4');
      writeFileSync(file, Buffer.concat(parts));
      const result = await segmentFile(file, { segmentDuration: 2, dir });
      expect(result.segments.map((s) => s.start / 1001)).toEqual([...keys].sort((a, b) => a - b));
      let next = 0;
      for (const seg of result.segments) {
        const frag = readSegment(readFileSync(join(dir, seg.file)));
        expect(frag.tfdt).toBe(next);
        expect(frag.samples[0]!.flags & 0x10000).toBe(0);
        next += frag.samples.reduce((n, s) => n + s.duration, 0);
        if (seg !== result.segments.at(-1)) expect(Math.abs(seg.duration / 30000 - 2)).toBeLessThanOrEqual(1001 / 30000);
      }
      expect(next).toBe(frames * 1001);
      // The payload bytes survive the re-fragmenting in order.
      const payload = result.segments.flatMap((seg) => {
        const data = readFileSync(join(dir, seg.file));
        const frag = readSegment(data);
        return [...data.subarray(frag.samples[0]!.offset, frag.samples.at(-1)!.offset + 10)];
      });
      expect(payload).toEqual(Array.from({ length: frames * 10 }, (_, i) => i & 0xff));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
