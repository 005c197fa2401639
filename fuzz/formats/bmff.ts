/**
 * ISO BMFF / QuickTime (MP4, M4A, MOV): boxes with 32-bit sizes (64-bit `largesize` when the size
 * is 1, "to the end" when 0), containers walked into, and the fields a demuxer trusts: durations
 * and timescales (mvhd, mdhd, tkhd, elst, mehd, tfdt), table entry counts (stts, stsz, stsc, stco,
 * co64, stss, ctts, trun), sample-entry channels, rates and picture sizes, avcC parameter sets.
 */
import { ascii, fourcc, type Layout, LayoutBuilder, u16be, u32be } from './layout.js';

const CONTAINERS = new Set([
  'moov',
  'trak',
  'mdia',
  'minf',
  'stbl',
  'edts',
  'dinf',
  'udta',
  'mvex',
  'moof',
  'traf',
  'mfra',
  'tref',
  'sinf',
  'schi',
  'ilst',
  'gmhd',
  'wave',
]);
const AUDIO_ENTRIES = new Set(['mp4a', 'Opus', 'fLaC', 'alac', 'ac-3', 'ec-3', 'twos', 'sowt', 'lpcm', 'ulaw', 'alaw', 'in24', 'in32', 'fl32', 'fl64', '.mp3']);
const VISUAL_ENTRIES = new Set([
  'avc1',
  'avc3',
  'hvc1',
  'hev1',
  'mp4v',
  'jpeg',
  'mjpa',
  'mjpb',
  'vp08',
  'vp09',
  'av01',
  'png ',
  'rle ',
  'raw ',
  'apcn',
  'apch',
]);
const COUNTED = new Set(['stts', 'ctts', 'stsc', 'stss', 'stco', 'co64', 'elst', 'sbgp', 'sgpd', 'dref', 'stps', 'sdtp']);

export function isBmff(b: Uint8Array): boolean {
  return b.byteLength >= 8 && ['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pnot', 'styp', 'moof'].some((t) => ascii(b, 4, t));
}

export function walkBmff(bytes: Uint8Array): Layout {
  const out = new LayoutBuilder('bmff', bytes);
  boxes(out, 0, bytes.byteLength, undefined);
  return out.done();
}

function boxes(out: LayoutBuilder, from: number, to: number, parent: number | undefined): void {
  const b = out.bytes;
  for (let at = from; at + 8 <= to && !out.full; ) {
    let size = u32be(b, at);
    const type = fourcc(b, at + 4);
    let body = at + 8;
    let sizeField = { offset: at, bits: 32 };
    if (size === 1 && at + 16 <= to) {
      size = Number((BigInt(u32be(b, at + 8)) << 32n) | BigInt(u32be(b, at + 12)));
      sizeField = { offset: at + 8, bits: 64 };
      body += 8;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < body - at) return;
    const end = Math.min(to, at + size);
    const index = out.span(type, at, body, end, parent, sizeField);
    fields(out, type, index, body, end);
    children(out, type, index, body, end);
    if (at + size > to) return;
    at += size;
  }
}

function children(out: LayoutBuilder, type: string, index: number, body: number, end: number): void {
  const b = out.bytes;
  const parent = out.spans[index]?.parent;
  // iTunes metadata items ('©nam', 'covr', …) are containers of 'data' boxes.
  if (CONTAINERS.has(type) || (parent !== undefined && out.spans[parent]?.name === 'ilst')) {
    boxes(out, body, end, index);
  } else if (type === 'meta') {
    // ISO's meta is a full box (4 bytes of version and flags); QuickTime's is a plain container.
    boxes(out, u32be(b, body) === 0 ? body + 4 : body, end, index);
  } else if (type === 'stsd') {
    boxes(out, body + 8, end, index);
  } else if (AUDIO_ENTRIES.has(type)) {
    const version = u16be(b, body + 8);
    boxes(out, body + (version === 1 ? 44 : version === 2 ? 64 : 28), end, index);
  } else if (VISUAL_ENTRIES.has(type)) {
    boxes(out, body + 78, end, index);
  }
}

function fields(out: LayoutBuilder, type: string, index: number, body: number, end: number): void {
  const b = out.bytes;
  const name = out.path(index);
  const v1 = b[body] === 1;
  const f = (field: string, role: Parameters<LayoutBuilder['field']>[1], offset: number, bits: number) => {
    if (offset + bits / 8 <= end) out.field(`${name}.${field}`, role, { offset, bits });
  };
  switch (type) {
    case 'mvhd':
    case 'mdhd':
      f('timescale', 'rate', body + (v1 ? 20 : 12), 32);
      f('duration', 'duration', body + (v1 ? 24 : 16), v1 ? 64 : 32);
      break;
    case 'tkhd':
      f('duration', 'duration', body + (v1 ? 28 : 20), v1 ? 64 : 32);
      f('width', 'dimension', end - 8, 32);
      f('height', 'dimension', end - 4, 32);
      break;
    case 'mehd':
      f('fragment_duration', 'duration', body + 4, v1 ? 64 : 32);
      break;
    case 'tfdt':
      f('base_media_decode_time', 'duration', body + 4, v1 ? 64 : 32);
      break;
    case 'stsz':
      f('sample_size', 'size', body + 4, 32);
      f('sample_count', 'count', body + 8, 32);
      break;
    case 'stz2':
      f('sample_count', 'count', body + 8, 32);
      break;
    case 'trun':
      f('sample_count', 'count', body + 4, 32);
      break;
    case 'stsd':
      f('entry_count', 'count', body + 4, 32);
      break;
    case 'avcC':
      f('numOfSequenceParameterSets', 'count', body + 5, 8);
      f('sequenceParameterSetLength', 'size', body + 6, 16);
      break;
    case 'hvcC':
      f('numOfArrays', 'count', body + 22, 8);
      break;
    case 'dOps':
      f('OutputChannelCount', 'channels', body + 1, 8);
      f('InputSampleRate', 'rate', body + 4, 32);
      break;
    case 'esds':
      // ES_Descriptor tag and its first length byte (expandable: a lie here reaches the parser).
      if (b[body + 4] === 0x03) f('ES_Descriptor.length', 'size', body + 5, 8);
      break;
    default:
      if (COUNTED.has(type)) {
        f('entry_count', 'count', body + 4, 32);
        if (type === 'stts') {
          f('entries[0].sample_count', 'count', body + 8, 32);
          f('entries[0].sample_delta', 'duration', body + 12, 32);
        } else if (type === 'elst') {
          f('entries[0].segment_duration', 'duration', body + 8, v1 ? 64 : 32);
          f('entries[0].media_time', 'duration', body + (v1 ? 16 : 12), v1 ? 64 : 32);
        } else if (type === 'stsc') {
          f('entries[0].samples_per_chunk', 'count', body + 12, 32);
        } else if (type === 'stco') {
          f('entries[0].chunk_offset', 'size', body + 8, 32);
        }
      } else if (AUDIO_ENTRIES.has(type)) {
        f('channelcount', 'channels', body + 16, 16);
        f('samplesize', 'value', body + 18, 16);
        f('samplerate', 'rate', body + 24, 32);
      } else if (VISUAL_ENTRIES.has(type)) {
        f('width', 'dimension', body + 24, 16);
        f('height', 'dimension', body + 26, 16);
        f('frame_count', 'count', body + 40, 16);
        f('depth', 'value', body + 74, 16);
      }
  }
}
