// The image header readers on their own: what they take from each format, the caps, the view of
// the file the decoder is given, and that a path is read in bounded pieces. No worker, no core.
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UnsupportedError } from '../../src/errors.js';
import { IMAGE_INPUT_CAPS } from '../../src/model/image-spec.js';
import type { InputPiece } from '../../src/model/plan.js';
import { bytesSource, viewSource } from '../../src/worker/ffmpeg/sandbox-fs.js';
import { patchByte } from '../../src/worker/image/decode.js';
import { exifOrientation } from '../../src/worker/image/exif.js';
import { type ImageHeader, readImageHeader } from '../../src/worker/image/header.js';
import { openImageBytes, sharedBytes } from '../../src/worker/image/source.js';
import { ascii, concat, greyImageEntries, greyStrip, iccpChunk, pngChunk, pngFile, type TiffEntry, tiffFile, zlibRepeated } from '../helpers/image-writers.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'sandcodec-header-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header = (bytes: Uint8Array): ImageHeader => readImageHeader(sharedBytes(bytes));

/** What the decoder reads through the view (or the whole file without one). */
function viewed(bytes: Uint8Array, h: ImageHeader): Uint8Array {
  const source = h.view ? viewSource(bytesSource(bytes), h.view) : bytesSource(bytes);
  const out = new Uint8Array(source.size);
  // Odd-sized reads, as a demuxer's, crossing piece boundaries.
  for (let at = 0; at < out.length; ) at += source.read(out.subarray(at, at + 7), at);
  return out;
}

function segment(marker: number, body: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255), body]);
}

/** A syntactically whole JPEG (not decodable): SOI, `before`, SOF0, SOS + data per scan, EOI. */
function jpeg(width: number, height: number, opts: { before?: Uint8Array[]; scans?: number; data?: Uint8Array } = {}): Uint8Array {
  const sof = segment(0xc0, Uint8Array.of(8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1));
  const scan = concat([
    segment(0xda, Uint8Array.of(3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0)),
    opts.data ?? Uint8Array.of(0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56),
  ]);
  return concat([Uint8Array.of(0xff, 0xd8), ...(opts.before ?? []), sof, ...Array(opts.scans ?? 1).fill(scan), Uint8Array.of(0xff, 0xd9)]);
}

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('JPEG', () => {
  it('takes the SOF, EXIF, ICC chunks in order and the Adobe transform; the view drops metadata', () => {
    const exifBlock = Uint8Array.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
    const app1 = segment(0xe1, concat([ascii('Exif\0\0'), exifBlock]));
    const icc = (n: number, part: string) => segment(0xe2, concat([ascii('ICC_PROFILE\0'), Uint8Array.of(n, 2), ascii(part)]));
    const com = segment(0xfe, new Uint8Array(1000));
    const adobe = segment(0xee, concat([ascii('Adobe'), Uint8Array.of(0, 100, 0, 0, 0, 0, 1)]));
    const file = jpeg(640, 480, { before: [app1, icc(2, 'second'), com, icc(1, 'first-'), adobe] });
    const h = header(file);
    expect(h).toMatchObject({ format: 'jpeg', width: 640, height: 480, jpeg: { components: 3, scans: 1, adobeTransform: 1, sampling: [0x22, 0x11, 0x11] } });
    expect(exifOrientation(h.exif)).toBe(6);
    expect(new TextDecoder().decode(h.icc)).toBe('first-second');
    const seen = viewed(file, h);
    expect(seen.length).toBe(file.length - app1.length - 2 * icc(1, 'first-').length - com.length);
    expect(seen.subarray(0, 2)).toEqual(Uint8Array.of(0xff, 0xd8));
    expect(seen.subarray(-2)).toEqual(Uint8Array.of(0xff, 0xd9));
    expect(seen.indexOf(0xee)).toBeGreaterThan(0); // Adobe APP14 kept
  });

  it('counts scans through the entropy-coded data (stuffed bytes and RSTn are not markers) and caps them', () => {
    expect(header(jpeg(8, 8, { scans: 3 })).jpeg!.scans).toBe(3);
    expect(header(jpeg(8, 8, { scans: IMAGE_INPUT_CAPS.jpegScans })).jpeg!.scans).toBe(500);
    const e = thrown(() => header(jpeg(8, 8, { scans: IMAGE_INPUT_CAPS.jpegScans + 1 })));
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toMatch(/more than 500 scans/);
  });

  it('scan data longer than the read window, with a marker split across two windows', () => {
    const data = new Uint8Array(200_000).fill(0x11);
    data[65535] = 0xff; // the last byte of the first window, stuffed
    data[65536] = 0x00;
    expect(header(jpeg(8, 8, { data, scans: 2 })).jpeg!.scans).toBe(2);
  });

  it('refuses a frame header after the first scan, a second SOI and a missing SOF', () => {
    const one = jpeg(8, 8);
    const sof = one.subarray(2, 2 + 19);
    const twoFrames = concat([one.subarray(0, one.length - 2), sof, one.subarray(2 + 19)]);
    expect(thrown(() => header(twoFrames))).toMatchObject({ code: 'E_INPUT_INVALID', message: expect.stringMatching(/second frame header/) });
    expect(thrown(() => header(concat([Uint8Array.of(0xff, 0xd8), one])))).toMatchObject({ code: 'E_INPUT_INVALID' });
    const noSof = concat([Uint8Array.of(0xff, 0xd8), segment(0xda, new Uint8Array(10)), Uint8Array.of(1, 2, 0xff, 0xd9)]);
    expect(thrown(() => header(noSof))).toMatchObject({ code: 'E_INPUT_INVALID', message: expect.stringMatching(/no SOF/) });
  });

  it('hands the decoder the image up to its first EOI, without what follows', () => {
    const one = jpeg(8, 8);
    const file = concat([one, new Uint8Array(5000).fill(7), one]);
    expect(viewed(file, header(file))).toEqual(one);
  });

  it('metadata interleaved in too many places: the decoder gets the image as it is', () => {
    const before = Array.from({ length: IMAGE_INPUT_CAPS.viewPieces }, () => [segment(0xfe, ascii('c')), segment(0xdd, Uint8Array.of(0, 0))]).flat();
    const file = jpeg(8, 8, { before });
    const h = header(file);
    expect(h.view).toEqual([{ from: 0, to: file.length }]);
  });

  it('patching the SOF precision in the view leaves the file alone', () => {
    const file = jpeg(8, 8, { before: [segment(0xfe, ascii('comment'))] });
    const h = header(file);
    const sofAt = h.jpeg!.sofAt;
    const patched = viewSource(bytesSource(file), patchByte(h.view!, sofAt + 4, 12));
    const out = new Uint8Array(patched.size);
    patched.read(out, 0);
    expect(out.length).toBe(file.length - 11);
    expect(out[sofAt + 4 - 11]).toBe(12);
    expect(file[sofAt + 4]).toBe(8);
  });
});

describe('PNG', () => {
  it('an iCCP chunk inflating past the cap is dropped with its reason; zlib stops at the cap', () => {
    const before = process.memoryUsage().arrayBuffers;
    const h = header(pngFile({ width: 4, height: 4, before: [iccpChunk(zlibRepeated(new Uint8Array(MiB), 1024))] }));
    expect(h.icc).toBeUndefined();
    expect(h.iccDropped).toMatch(/inflates to more than the 16777216-byte cap/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 * MiB);
    expect(header(pngFile({ width: 4, height: 4, before: [iccpChunk(Uint8Array.of(1, 2, 3))] })).iccDropped).toMatch(/does not inflate/);
  });

  it('the view keeps signature, IHDR, PLTE, tRNS, the IDAT run and IEND', () => {
    const text = pngChunk('tEXt', ascii('Comment\0hello'));
    const plte = pngChunk('PLTE', new Uint8Array(6));
    const trns = pngChunk('tRNS', Uint8Array.of(0));
    const file = pngFile({ width: 4, height: 4, before: [text, plte, iccpChunk(zlibRepeated(new Uint8Array(16), 1)), trns], after: [text] });
    const seen = viewed(file, header(file));
    expect(seen.length).toBe(file.length - 2 * text.length - iccpChunk(zlibRepeated(new Uint8Array(16), 1)).length);
    expect(Buffer.from(seen).includes(Buffer.from('tEXt'))).toBe(false);
    expect(Buffer.from(seen).includes(Buffer.from('PLTE'))).toBe(true);
    expect(Buffer.from(seen).includes(Buffer.from('tRNS'))).toBe(true);
  });

  it('a walk over 100 000 interleaved chunks holds no view, and no more than the cap on the way', () => {
    const plte = pngChunk('PLTE', new Uint8Array(3));
    const text = pngChunk('tEXt', ascii('a\0b'));
    const before = Array.from({ length: 50_000 }, () => [plte, text]).flat();
    const h = header(pngFile({ width: 2, height: 2, before }));
    expect(h.view).toBeUndefined();
    expect(h).toMatchObject({ width: 2, height: 2 });
  });

  it('refuses a split IDAT run and a chunk running past the end', () => {
    const idat = pngFile({ width: 1, height: 1 }).subarray(33, -12);
    const split = concat([pngFile({ width: 1, height: 1 }).subarray(0, -12), pngChunk('tEXt', ascii('a\0b')), idat, pngChunk('IEND', new Uint8Array(0))]);
    expect(thrown(() => header(split))).toMatchObject({ code: 'E_INPUT_INVALID', message: expect.stringMatching(/not consecutive/) });
    const lying = pngFile({ width: 1, height: 1 });
    new DataView(lying.buffer).setUint32(33, 0x10000000);
    expect(thrown(() => header(lying))).toMatchObject({ code: 'E_INPUT_INVALID', message: expect.stringMatching(/truncated/) });
  });
});

describe('WebP', () => {
  const riff = (chunks: Uint8Array[]) => {
    const body = concat([ascii('WEBP'), ...chunks]);
    const head = new Uint8Array(8);
    head.set(ascii('RIFF'));
    new DataView(head.buffer).setUint32(4, body.length, true);
    return concat([head, body]);
  };
  const chunk = (type: string, data: Uint8Array) => {
    const head = new Uint8Array(8);
    head.set(ascii(type));
    new DataView(head.buffer).setUint32(4, data.length, true);
    return concat([head, data, data.length & 1 ? Uint8Array.of(0) : new Uint8Array(0)]);
  };
  const vp8l = (w: number, h: number) => {
    const bits = ((w - 1) | ((h - 1) << 14)) >>> 0;
    return chunk('VP8L', Uint8Array.of(0x2f, bits & 255, (bits >> 8) & 255, (bits >> 16) & 255, bits >>> 24, 0, 0, 0, 0, 0));
  };
  const vp8x = (w: number, h: number, flags = 0) =>
    chunk('VP8X', Uint8Array.of(flags, 0, 0, 0, (w - 1) & 255, (w - 1) >> 8, 0, (h - 1) & 255, (h - 1) >> 8, 0));

  it('the size is the bitstream’s; a canvas that disagrees is a damaged file', () => {
    expect(header(riff([vp8x(30, 20), vp8l(30, 20)]))).toMatchObject({ width: 30, height: 20 });
    expect(thrown(() => header(riff([vp8x(1, 1), vp8l(16000, 16000)])))).toMatchObject({
      code: 'E_INPUT_INVALID',
      message: expect.stringMatching(/canvas is 1×1 but the image is 16000×16000/),
    });
  });

  it('the view is a RIFF of VP8X (metadata flags cleared) and the image only', () => {
    const exif = chunk('EXIF', new Uint8Array(1001));
    const file = riff([vp8x(30, 20, 0x28), chunk('ICCP', new Uint8Array(500)), vp8l(30, 20), exif]);
    const seen = viewed(file, header(file));
    expect(seen).toEqual(riff([vp8x(30, 20, 0), vp8l(30, 20)]));
  });

  it('a VP8X chunk that is not the first one or not 10 bytes is refused', () => {
    const long = chunk('VP8X', new Uint8Array(40 * 1024 * 1024));
    expect(thrown(() => header(riff([long, vp8l(30, 20)])))).toMatchObject({
      code: 'E_INPUT_INVALID',
      message: expect.stringMatching(/VP8X chunk of 41943040 bytes/),
    });
    expect(thrown(() => header(riff([vp8l(30, 20), vp8x(30, 20)])))).toMatchObject({ code: 'E_INPUT_INVALID' });
  });

  it('an animation without a still image is E_UNSUPPORTED', () => {
    expect(thrown(() => header(riff([vp8x(30, 20, 0x02), chunk('ANIM', new Uint8Array(6)), chunk('ANMF', new Uint8Array(40))])))).toBeInstanceOf(
      UnsupportedError,
    );
  });
});

describe('TIFF', () => {
  const strip = greyStrip(2, 2);
  const image = (w: number, h: number, extra: TiffEntry[] = []): TiffEntry[] => [...greyImageEntries(w, h, 0, strip.length), ...extra];
  const reduced = (sub: number): TiffEntry[] => [
    { tag: 254, type: 4, values: [1] },
    { tag: 330, type: 4, values: [{ ifd: sub }] },
  ];

  it('follows reduced-image IFDs to their SubIFD, as the decoder does, up to the cap', () => {
    const chain = tiffFile([{ entries: image(2, 2, reduced(1)) }, { entries: image(5, 4, reduced(2)) }, { entries: image(300, 200) }], [strip]);
    expect(header(chain)).toMatchObject({ width: 300, height: 200 });
    // A SubIFD without the reduced-image flag is not followed.
    expect(header(tiffFile([{ entries: image(2, 2, [{ tag: 330, type: 4, values: [{ ifd: 1 }] }]) }, { entries: image(300, 200) }], [strip]))).toMatchObject({
      width: 2,
      height: 2,
    });
    const ifds = Array.from({ length: IMAGE_INPUT_CAPS.tiffIfds + 1 }, (_, i) => ({
      entries: image(2, 2, i < IMAGE_INPUT_CAPS.tiffIfds ? reduced(i + 1) : []),
    }));
    expect(thrown(() => header(tiffFile(ifds, [strip])))).toMatchObject({ code: 'E_INPUT_INVALID', message: expect.stringMatching(/SubIFD hops/) });
  });

  it('reads values the decoder’s way: a width given as two values is 0', () => {
    const entries = image(7, 7).map((e) => (e.tag === 256 ? { ...e, values: [7, 7] } : e));
    expect(thrown(() => header(tiffFile([{ entries }], [strip])))).toMatchObject({ code: 'E_INPUT_INVALID', message: expect.stringMatching(/dimensions 0×7/) });
  });

  it('EXIF is a minimal block with the orientation; the view ends where page one’s data ends', () => {
    const file = tiffFile([{ entries: image(2, 2, [{ tag: 274, type: 3, values: [8] }]), next: 1 }, { entries: image(2, 2) }], [strip]);
    const padded = concat([file, new Uint8Array(100_000)]);
    const h = header(padded);
    expect(exifOrientation(h.exif)).toBe(8);
    expect(h.exif!.length).toBe(26);
    expect(h.view).toEqual([{ from: 0, to: file.length - 2 - 9 * 12 - 4 }]);
  });
});

describe('inputs given as paths', () => {
  it('are read through bounded windows: a 1 GiB sparse file costs no memory', () => {
    const path = join(dir, 'big.png');
    const head = pngFile({ width: 3, height: 2 }).subarray(0, 33);
    const tail = pngFile({ width: 3, height: 2 }).subarray(33);
    const junk = new Uint8Array(8);
    new DataView(junk.buffer).setUint32(0, 1024 * MiB);
    junk.set(ascii('prVt'), 4);
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 33 + 12 + 1024 * MiB + tail.length);
    writeSync(fd, head, 0, head.length, 0);
    writeSync(fd, junk, 0, 8, 33);
    writeSync(fd, tail, 0, tail.length, 33 + 12 + 1024 * MiB);
    closeSync(fd);
    const before = process.memoryUsage().arrayBuffers;
    const src = openImageBytes({ type: 'path', path });
    const h = readImageHeader(src);
    src.close();
    expect(h).toMatchObject({ format: 'png', width: 3, height: 2 });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * MiB);
    const pieces = h.view as Array<Extract<InputPiece, { from: number }>>;
    expect(pieces.map((p) => p.to - p.from).reduce((a, b) => a + b)).toBe(33 + tail.length);
  });

  it('a missing file is E_IO', () => {
    expect(thrown(() => openImageBytes({ type: 'path', path: join(dir, 'nope.png') }))).toMatchObject({ code: 'E_IO' });
  });
});
