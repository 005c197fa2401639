/**
 * MP3: an ID3v2 tag (syncsafe size, frames with their own sizes), MPEG audio frames walked by
 * the length their headers give, the Xing/Info (or VBRI) header's frame and byte counts, and an
 * ID3v1 tag at the end. Fields: tag and frame sizes, the first frame's bitrate, rate and channel
 * mode indices, the VBR header's counts.
 */
import { ascii, fourcc, type Layout, LayoutBuilder, u32be } from './layout.js';

const MAX_FRAMES = 5_000;
const MAX_ID3_FRAMES = 64;
const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0];
const BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0];
const RATES = [44100, 48000, 32000, 0];

export function isMp3(b: Uint8Array): boolean {
  return ascii(b, 0, 'ID3') || frameLength(b, 0) > 0;
}

/** Length of the layer III frame whose header is at `at`, or 0. */
function frameLength(b: Uint8Array, at: number): number {
  if (b[at] !== 0xff || ((b[at + 1] ?? 0) & 0xe0) !== 0xe0) return 0;
  const version = ((b[at + 1] ?? 0) >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = ((b[at + 1] ?? 0) >> 1) & 3; // 1: layer III
  if (version === 1 || layer !== 1) return 0;
  const bitrate = (version === 3 ? BITRATES_V1_L3 : BITRATES_V2_L3)[(b[at + 2] ?? 0) >> 4] ?? 0;
  const rate = (RATES[((b[at + 2] ?? 0) >> 2) & 3] ?? 0) / (version === 3 ? 1 : version === 2 ? 2 : 4);
  if (!bitrate || !rate) return 0;
  const padding = ((b[at + 2] ?? 0) >> 1) & 1;
  return Math.floor(((version === 3 ? 144 : 72) * bitrate * 1000) / rate) + padding;
}

export function walkMp3(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('mp3', bytes);
  const n = bytes.byteLength;
  let at = 0;
  if (ascii(bytes, 0, 'ID3') && n >= 10) {
    const size = (((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) | ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f)) >>> 0;
    const end = 10 + size;
    const tag = out.span('ID3v2', 0, 10, end, undefined, { offset: 6, bits: 28, syncsafe: true });
    const major = bytes[3]!;
    for (let p = 10, k = 0; p + 10 <= Math.min(end, n) && k < MAX_ID3_FRAMES && bytes[p] !== 0; k++) {
      const id = fourcc(bytes, p);
      const syncsafe = major >= 4;
      const fsize = syncsafe
        ? (((bytes[p + 4]! & 0x7f) << 21) | ((bytes[p + 5]! & 0x7f) << 14) | ((bytes[p + 6]! & 0x7f) << 7) | (bytes[p + 7]! & 0x7f)) >>> 0
        : u32be(bytes, p + 4);
      out.span(id, p, p + 10, p + 10 + fsize, tag, syncsafe ? { offset: p + 4, bits: 28, syncsafe: true } : { offset: p + 4, bits: 32 });
      p += 10 + fsize;
    }
    at = end;
  }
  // The first frame: the next sync whose frame is followed by another sync (or the end).
  for (let limit = Math.min(n, at + 65_536); at < limit; at++) {
    const len = frameLength(bytes, at);
    if (len && (at + len >= n || frameLength(bytes, at + len) > 0)) break;
  }
  for (let k = 0; at < n && k < MAX_FRAMES && !out.full; k++) {
    const len = frameLength(bytes, at);
    if (!len) break;
    const name = `frame${k}`;
    out.span(name, at, at + 4, at + len, undefined);
    if (k === 0) {
      out.field('frame0.bitrate_index', 'rate', { offset: at + 2, bits: 4 });
      out.field('frame0.sample_rate_index', 'rate', { offset: at + 2, bits: 2, bit: 4 });
      out.field('frame0.channel_mode', 'channels', { offset: at + 3, bits: 2 });
      vbrHeader(out, at, len);
    }
    at += len;
  }
  if (n >= 128 && ascii(bytes, n - 128, 'TAG')) out.span('ID3v1', n - 128, n - 125, n, undefined);
  return out.done();
}

function vbrHeader(out: LayoutBuilder, frame: number, len: number): void {
  const b = out.bytes;
  const mpeg1 = (((b[frame + 1] ?? 0) >> 3) & 3) === 3;
  const mono = (b[frame + 3] ?? 0) >> 6 === 3;
  const xing = frame + 4 + (mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17);
  if (ascii(b, xing, 'Xing') || ascii(b, xing, 'Info')) {
    const flags = u32be(b, xing + 4);
    out.field('xing.flags', 'value', { offset: xing + 4, bits: 32 });
    let p = xing + 8;
    if (flags & 1) {
      out.field('xing.frames', 'count', { offset: p, bits: 32 });
      p += 4;
    }
    if (flags & 2) out.field('xing.bytes', 'size', { offset: p, bits: 32 });
  } else if (ascii(b, frame + 36, 'VBRI') && frame + 36 + 18 <= frame + len) {
    out.field('vbri.bytes', 'size', { offset: frame + 36 + 10, bits: 32 });
    out.field('vbri.frames', 'count', { offset: frame + 36 + 14, bits: 32 });
  }
}
