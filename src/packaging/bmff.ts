/**
 * ISO BMFF (ISO/IEC 14496-12) boxes: enough of a reader to walk an fMP4 (init and fragments) and
 * read what manifests need from the sample entries, and a writer for the boxes of a media
 * segment. Pure functions over `Uint8Array`s; files are read by the caller.
 */
import { concatBytes, isoBox, u32be } from '../util/bytes.js';

export interface Box {
  type: string;
  /** Offset of the box header in the buffer. */
  start: number;
  /** Offset of the payload (after the header, before any full-box version/flags). */
  payload: number;
  /** Offset one past the box. */
  end: number;
}

/** Container boxes whose payload is only child boxes. */
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'moof', 'traf', 'mvex', 'edts', 'dinf', 'mfra', 'udta']);

export function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** The header at `at`, or undefined when it does not fit before `limit`. */
export function readBoxHeader(bytes: Uint8Array, at: number, limit = bytes.byteLength): Box | undefined {
  if (at + 8 > limit) return undefined;
  const view = dv(bytes);
  let size = view.getUint32(at);
  const type = fourcc(bytes, at + 4);
  let header = 8;
  if (size === 1) {
    if (at + 16 > limit) return undefined;
    size = Number(view.getBigUint64(at + 8));
    header = 16;
  } else if (size === 0) {
    size = limit - at;
  }
  if (size < header) throw new Error(`bmff: box ${JSON.stringify(type)} at ${at} has size ${size}`);
  return { type, start: at, payload: at + header, end: at + size };
}

/** The boxes directly inside `[from, to)`. A box running past `to` is an error: the file is cut. */
export function children(bytes: Uint8Array, from = 0, to = bytes.byteLength): Box[] {
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    const box = readBoxHeader(bytes, at, to)!;
    if (box.end > to) throw new Error(`bmff: box ${box.type} at ${at} runs past its parent (${box.end} > ${to})`);
    out.push(box);
    at = box.end;
  }
  return out;
}

/** The first box along `path` (e.g. `['moov', 'trak', 'mdia', 'mdhd']`) under `parent`. */
export function find(bytes: Uint8Array, path: string[], parent?: Box): Box | undefined {
  let scope: Box | undefined = parent;
  for (const type of path) {
    const list = scope ? children(bytes, scope.payload + (scope.type === 'stsd' ? 8 : 0), scope.end) : children(bytes);
    scope = list.find((b) => b.type === type);
    if (!scope) return undefined;
  }
  return scope;
}

export function findAll(bytes: Uint8Array, type: string, parent: Box): Box[] {
  return children(bytes, parent.payload, parent.end).filter((b) => b.type === type);
}

export function isContainer(type: string): boolean {
  return CONTAINERS.has(type);
}

export function dv(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Full-box version and flags. */
export function versionFlags(bytes: Uint8Array, box: Box): { version: number; flags: number } {
  const word = dv(bytes).getUint32(box.payload);
  return { version: word >>> 24, flags: word & 0xffffff };
}

// ---- track description (init segment) ----

export interface TrackInfo {
  trackId: number;
  handler: 'vide' | 'soun' | string;
  timescale: number;
  /** Sample entry four-character code: avc1, mp4a, Opus, fLaC, … */
  sampleEntry: string;
  /** RFC 6381 codec string, derived from the codec configuration. */
  codecs: string;
  width?: number;
  height?: number;
  channels?: number;
  sampleRate?: number;
  /** avcC: bytes in each NAL unit's length prefix. */
  nalLengthSize?: number;
  /**
   * The edit list, reduced to what FFmpeg writes: leading empty edits delay the track
   * (`startOffset`, converted to the track's timescale), then one edit starts the media at
   * `editMediaTime` (priming samples or the B-frame delay; 0 without an edit list).
   */
  editMediaTime: number;
  startOffset: number;
  defaults: { duration: number; size: number; flags: number };
}

/** Reads the single track of a CMAF init segment (ftyp + moov). */
export function readInit(bytes: Uint8Array): TrackInfo {
  const moov = find(bytes, ['moov']);
  if (!moov) throw new Error('bmff: no moov box');
  const traks = findAll(bytes, 'trak', moov);
  if (traks.length !== 1) throw new Error(`bmff: expected one track, found ${traks.length}`);
  const trak = traks[0]!;
  const view = dv(bytes);
  const tkhd = find(bytes, ['tkhd'], trak)!;
  const tk = versionFlags(bytes, tkhd);
  const trackId = view.getUint32(tkhd.payload + 4 + (tk.version === 1 ? 16 : 8));
  const mdhd = find(bytes, ['mdia', 'mdhd'], trak)!;
  const timescale = view.getUint32(mdhd.payload + 4 + (versionFlags(bytes, mdhd).version === 1 ? 16 : 8));
  const hdlr = find(bytes, ['mdia', 'hdlr'], trak)!;
  const handler = fourcc(bytes, hdlr.payload + 8);
  const stsd = find(bytes, ['mdia', 'minf', 'stbl', 'stsd'], trak)!;
  const entry = children(bytes, stsd.payload + 8, stsd.end)[0];
  if (!entry) throw new Error('bmff: empty stsd');
  const info: TrackInfo = {
    trackId,
    handler,
    timescale,
    sampleEntry: entry.type,
    codecs: entry.type,
    ...readEdits(bytes, moov, trak, timescale),
    defaults: { duration: 0, size: 0, flags: 0 },
  };
  if (handler === 'vide') {
    // VisualSampleEntry: 6 reserved + 2 dref index + 16 pre-defined/reserved, then width, height.
    info.width = view.getUint16(entry.payload + 24);
    info.height = view.getUint16(entry.payload + 26);
    const inner = children(bytes, entry.payload + 78, entry.end);
    const avcC = inner.find((b) => b.type === 'avcC');
    if (avcC) {
      const avc = readAvcC(bytes.subarray(avcC.payload, avcC.end));
      info.codecs = `${entry.type}.${avc.codec}`;
      info.nalLengthSize = avc.nalLengthSize;
    }
  } else if (handler === 'soun') {
    // AudioSampleEntry: 6 reserved + 2 dref index + 8 reserved, channelcount, samplesize, 4, rate 16.16.
    info.channels = view.getUint16(entry.payload + 16);
    info.sampleRate = view.getUint32(entry.payload + 24) >>> 16;
    const inner = children(bytes, entry.payload + 28, entry.end);
    const esds = inner.find((b) => b.type === 'esds');
    const dOps = inner.find((b) => b.type === 'dOps');
    if (entry.type === 'mp4a' && esds) {
      const aac = esdsCodec(bytes.subarray(esds.payload + 4, esds.end));
      info.codecs = aac.codecs;
      // MP4 writers put 2 in the entry whatever the layout; the AudioSpecificConfig says what it is.
      if (aac.channels) info.channels = aac.channels;
    } else if (entry.type === 'Opus') {
      info.codecs = 'opus';
      // The entry's channel count is fixed at 2 by some muxers; dOps has the real one.
      if (dOps) info.channels = bytes[dOps.payload + 1];
      info.sampleRate = 48000;
    } else if (entry.type === 'fLaC') info.codecs = 'flac';
  }
  const trex = find(bytes, ['mvex', 'trex'], moov);
  if (trex) {
    info.defaults = {
      duration: view.getUint32(trex.payload + 12),
      size: view.getUint32(trex.payload + 16),
      flags: view.getUint32(trex.payload + 20),
    };
  }
  return info;
}

/**
 * Leading empty edits (media_time -1) add up to the track's start offset; the first real edit's
 * media_time is where its media starts. Later edits (none from FFmpeg's muxer) are not used.
 */
function readEdits(bytes: Uint8Array, moov: Box, trak: Box, timescale: number): { editMediaTime: number; startOffset: number } {
  const elst = find(bytes, ['edts', 'elst'], trak);
  if (!elst) return { editMediaTime: 0, startOffset: 0 };
  const view = dv(bytes);
  const mvhd = find(bytes, ['mvhd'], moov);
  if (!mvhd) throw new Error('bmff: no mvhd box');
  const movieTimescale = view.getUint32(mvhd.payload + 4 + (versionFlags(bytes, mvhd).version === 1 ? 16 : 8));
  const { version } = versionFlags(bytes, elst);
  const count = view.getUint32(elst.payload + 4);
  const entrySize = version === 1 ? 20 : 12;
  let empty = 0;
  for (let i = 0; i < count; i++) {
    const at = elst.payload + 8 + i * entrySize;
    if (at + entrySize > elst.end) throw new Error('bmff: elst shorter than its entry count');
    const duration = version === 1 ? Number(view.getBigUint64(at)) : view.getUint32(at);
    const mediaTime = version === 1 ? Number(view.getBigInt64(at + 8)) : view.getInt32(at + 4);
    if (mediaTime === -1) {
      empty += duration;
      continue;
    }
    return { editMediaTime: Math.max(0, mediaTime), startOffset: Math.round((empty * timescale) / movieTimescale) };
  }
  return { editMediaTime: 0, startOffset: Math.round((empty * timescale) / movieTimescale) };
}

/** The sample entry box (stsd) of an init segment's track: its codec configuration. */
export function sampleEntryOf(init: Uint8Array): Uint8Array {
  const moov = find(init, ['moov']);
  const stsd = moov && find(init, ['trak', 'mdia', 'minf', 'stbl', 'stsd'], moov);
  if (!stsd) throw new Error('bmff: no stsd box');
  return init.subarray(stsd.start, stsd.end);
}

/**
 * The init segment without its track's edit list: a package signals timing through `tfdt`,
 * composition offsets and its manifests, which every player reads, never through an edit list,
 * which some players ignore (see packaging/segmenter.ts).
 */
export function withoutEdits(init: Uint8Array): Uint8Array {
  const top = children(init);
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw new Error('bmff: no moov box');
  const slice = (b: Box) => init.subarray(b.start, b.end);
  const moovParts = children(init, moov.payload, moov.end).map((child) => {
    if (child.type !== 'trak') return slice(child);
    return box(
      'trak',
      ...children(init, child.payload, child.end)
        .filter((b) => b.type !== 'edts')
        .map(slice),
    );
  });
  return concatBytes(top.map((b) => (b === moov ? box('moov', ...moovParts) : slice(b))));
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/**
 * `avc1.PPCCLL` from the first SPS in an AVCDecoderConfigurationRecord: profile_idc, the
 * constraint flags and level_idc as the SPS itself carries them (the record's copies can differ).
 */
export function readAvcC(record: Uint8Array): { codec: string; nalLengthSize: number; sps: Uint8Array[]; pps: Uint8Array[] } {
  const view = dv(record);
  const nalLengthSize = (record[4]! & 3) + 1;
  let at = 5;
  const sps: Uint8Array[] = [];
  const spsCount = record[at++]! & 0x1f;
  for (let i = 0; i < spsCount; i++) {
    const len = view.getUint16(at);
    sps.push(record.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  const pps: Uint8Array[] = [];
  const ppsCount = record[at++] ?? 0;
  for (let i = 0; i < ppsCount; i++) {
    const len = view.getUint16(at);
    pps.push(record.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  const first = sps[0];
  // Byte 0 of the SPS NAL is its header; profile, constraints and level follow.
  const [p, c, l] = first && first.byteLength >= 4 ? [first[1]!, first[2]!, first[3]!] : [record[1]!, record[2]!, record[3]!];
  return { codec: `${hex2(p)}${hex2(c)}${hex2(l)}`, nalLengthSize, sps, pps };
}

/**
 * `mp4a.40.N` from an ES_Descriptor: the object type, then the AudioSpecificConfig's object type
 * (explicit SBR/PS signalling shows as 5 or 29); also the config's channel count.
 */
export function esdsCodec(es: Uint8Array): { codecs: string; channels?: number } {
  let at = 0;
  const readDescriptor = (): { tag: number; start: number; end: number } => {
    const tag = es[at++]!;
    let len = 0;
    for (let i = 0; i < 4; i++) {
      const b = es[at++]!;
      len = (len << 7) | (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    return { tag, start: at, end: at + len };
  };
  const esd = readDescriptor();
  if (esd.tag !== 0x03) return { codecs: 'mp4a' };
  const flags = es[at + 2]!;
  at += 3;
  if (flags & 0x80) at += 2;
  if (flags & 0x40) at += 1 + es[at]!;
  if (flags & 0x20) at += 2;
  const dcd = readDescriptor();
  if (dcd.tag !== 0x04) return { codecs: 'mp4a' };
  const objectType = es[at]!;
  at += 13;
  if (objectType !== 0x40 || at >= dcd.end) return { codecs: `mp4a.${hex2(objectType)}` };
  const dsi = readDescriptor();
  if (dsi.tag !== 0x05) return { codecs: 'mp4a.40' };
  const bits = new BitReader(es.subarray(dsi.start, dsi.end));
  let aot = bits.read(5);
  if (aot === 31) aot = 32 + bits.read(6);
  if (bits.read(4) === 15) bits.read(24);
  const channels = bits.read(4);
  // Channel configuration 7 is 7.1 (8 channels); 0 means a program config element decides.
  return { codecs: `mp4a.40.${aot}`, ...(channels > 0 && channels < 7 ? { channels } : channels === 7 ? { channels: 8 } : {}) };
}

class BitReader {
  private bit = 0;
  constructor(private readonly bytes: Uint8Array) {}
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++, this.bit++) v = v * 2 + (((this.bytes[this.bit >> 3] ?? 0) >> (7 - (this.bit & 7))) & 1);
    return v;
  }
}

// ---- fragments ----

export interface Sample {
  duration: number;
  size: number;
  flags: number;
  /** Composition time offset (may be negative with trun version 1). */
  cto: number;
  /** Absolute offset of the sample's data in the file. */
  offset: number;
}

export interface Fragment {
  sequence: number;
  baseDecodeTime: number;
  samples: Sample[];
}

const TFHD_BASE_DATA_OFFSET = 0x1;
const TFHD_DESCRIPTION_INDEX = 0x2;
const TFHD_DEFAULT_DURATION = 0x8;
const TFHD_DEFAULT_SIZE = 0x10;
const TFHD_DEFAULT_FLAGS = 0x20;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x20000;

const TRUN_DATA_OFFSET = 0x1;
const TRUN_FIRST_FLAGS = 0x4;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_CTO = 0x800;

/** sample_is_non_sync_sample in the sample flags. */
export const NON_SYNC = 0x10000;

/**
 * The samples of a moof (single track), with absolute data offsets. `moof` holds the whole box;
 * `moofOffset` is where it sits in the file.
 */
export function readMoof(moof: Uint8Array, moofOffset: number, track: TrackInfo): Fragment {
  const view = dv(moof);
  const root = readBoxHeader(moof, 0)!;
  const mfhd = find(moof, ['mfhd'], root);
  const sequence = mfhd ? view.getUint32(mfhd.payload + 4) : 0;
  const trafs = findAll(moof, 'traf', root);
  if (trafs.length !== 1) throw new Error(`bmff: expected one traf per moof, found ${trafs.length}`);
  const traf = trafs[0]!;
  const tfhd = find(moof, ['tfhd'], traf)!;
  const th = versionFlags(moof, tfhd);
  let at = tfhd.payload + 8;
  let base = moofOffset;
  if (th.flags & TFHD_BASE_DATA_OFFSET) {
    base = Number(view.getBigUint64(at));
    at += 8;
  }
  if (th.flags & TFHD_DESCRIPTION_INDEX) at += 4;
  let defDuration = track.defaults.duration;
  let defSize = track.defaults.size;
  let defFlags = track.defaults.flags;
  if (th.flags & TFHD_DEFAULT_DURATION) {
    defDuration = view.getUint32(at);
    at += 4;
  }
  if (th.flags & TFHD_DEFAULT_SIZE) {
    defSize = view.getUint32(at);
    at += 4;
  }
  if (th.flags & TFHD_DEFAULT_FLAGS) defFlags = view.getUint32(at);
  void TFHD_DEFAULT_BASE_IS_MOOF; // one traf per moof: its data base is the moof either way
  const tfdt = find(moof, ['tfdt'], traf);
  let baseDecodeTime = 0;
  if (tfdt) baseDecodeTime = versionFlags(moof, tfdt).version === 1 ? Number(view.getBigUint64(tfdt.payload + 4)) : view.getUint32(tfdt.payload + 4);
  const samples: Sample[] = [];
  let dataAt = base;
  for (const trun of findAll(moof, 'trun', traf)) {
    const { version, flags } = versionFlags(moof, trun);
    let p = trun.payload + 4;
    const count = view.getUint32(p);
    p += 4;
    if (flags & TRUN_DATA_OFFSET) {
      dataAt = base + view.getInt32(p);
      p += 4;
    }
    let firstFlags: number | undefined;
    if (flags & TRUN_FIRST_FLAGS) {
      firstFlags = view.getUint32(p);
      p += 4;
    }
    for (let i = 0; i < count; i++) {
      const s: Sample = { duration: defDuration, size: defSize, flags: defFlags, cto: 0, offset: dataAt };
      if (flags & TRUN_DURATION) {
        s.duration = view.getUint32(p);
        p += 4;
      }
      if (flags & TRUN_SIZE) {
        s.size = view.getUint32(p);
        p += 4;
      }
      if (flags & TRUN_FLAGS) {
        s.flags = view.getUint32(p);
        p += 4;
      } else if (i === 0 && firstFlags !== undefined) s.flags = firstFlags;
      if (flags & TRUN_CTO) {
        s.cto = version === 0 ? view.getUint32(p) : view.getInt32(p);
        p += 4;
      }
      dataAt += s.size;
      samples.push(s);
    }
  }
  return { sequence, baseDecodeTime, samples };
}

// ---- writer ----

export const box = isoBox;

export function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  const vf = new Uint8Array(4);
  dv(vf).setUint32(0, ((version & 0xff) << 24) | (flags & 0xffffff));
  return box(type, vf, ...parts);
}

const u32s = u32be;

/** `styp` of a CMAF media segment (also a DASH and HLS fMP4 segment). */
export function styp(): Uint8Array {
  // Major brand, minor version 0, compatible brands.
  const brands = ['msdh', '\0\0\0\0', 'msdh', 'msix'];
  return box(
    'styp',
    Uint8Array.from(brands.join(''), (c) => c.charCodeAt(0)),
  );
}

/** What a fragment adds for Common Encryption: its sample entry, and the boxes that locate its `senc`. */
export interface FragmentExtras {
  /** 1-based index of the sample entry in `stsd` (a clear lead's fragments use the clear entry). */
  descriptionIndex?: number;
  /**
   * Boxes for the end of the `traf` (`saiz`, `saio`, `senc`), built for a given `saio` offset:
   * the offset from the start of the `moof` to the first entry of `senc`.
   */
  auxBoxes?: (saioOffset: number) => Uint8Array[];
  /** Where the first `senc` entry sits inside the `auxBoxes` output, in bytes from its start. */
  auxDataAt?: number;
}

/**
 * `moof` + `mdat` header for one fragment. Every sample carries its duration, size and flags;
 * composition offsets are written when any is non-zero (signed, trun version 1, when any is
 * negative). The caller appends the samples' data after the returned bytes.
 */
export function fragmentHeader(sequence: number, trackId: number, baseDecodeTime: number, samples: readonly Sample[], extras: FragmentExtras = {}): Uint8Array {
  const withCto = samples.some((s) => s.cto !== 0);
  const signed = samples.some((s) => s.cto < 0);
  const perSample = 3 + (withCto ? 1 : 0);
  const entries = new Uint8Array(samples.length * perSample * 4);
  const view = dv(entries);
  samples.forEach((s, i) => {
    const at = i * perSample * 4;
    view.setUint32(at, s.duration);
    view.setUint32(at + 4, s.size);
    view.setUint32(at + 8, s.flags);
    if (withCto) view.setInt32(at + 12, s.cto);
  });
  const dataSize = samples.reduce((n, s) => n + s.size, 0);
  const trunFlags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS | (withCto ? TRUN_CTO : 0);
  const tfdtBody = new Uint8Array(8);
  dv(tfdtBody).setBigUint64(0, BigInt(baseDecodeTime));
  const description = extras.descriptionIndex !== undefined && extras.descriptionIndex !== 1 ? extras.descriptionIndex : undefined;
  const tfhd =
    description === undefined
      ? fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32s(trackId))
      : fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF | TFHD_DESCRIPTION_INDEX, u32s(trackId, description));
  const build = (dataOffset: number, saioOffset: number) => {
    const head = [tfhd, fullBox('tfdt', 1, 0, tfdtBody), fullBox('trun', signed ? 1 : 0, trunFlags, u32s(samples.length, dataOffset), entries)];
    return box('moof', fullBox('mfhd', 0, 0, u32s(sequence)), box('traf', ...head, ...(extras.auxBoxes?.(saioOffset) ?? [])));
  };
  const draft = build(0, 0);
  const moofSize = draft.byteLength;
  // The aux boxes close the traf, which closes the moof: they end where the moof ends.
  const auxSize = (extras.auxBoxes?.(0) ?? []).reduce((n, b) => n + b.byteLength, 0);
  const saioOffset = extras.auxBoxes ? moofSize - auxSize + (extras.auxDataAt ?? 0) : 0;
  if (8 + dataSize > 0xffffffff) throw new Error('bmff: a segment of 4 GiB or more');
  const moof = build(moofSize + 8, saioOffset);
  const out = new Uint8Array(moof.byteLength + 8);
  out.set(moof);
  dv(out).setUint32(moof.byteLength, 8 + dataSize);
  out.set([0x6d, 0x64, 0x61, 0x74], moof.byteLength + 4);
  return out;
}
