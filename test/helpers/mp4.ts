/**
 * A small ISO BMFF walker for tests, written apart from the packager's own reader so the two
 * check each other: top-level boxes, tfdt, trun samples, avcC's SPS and the NAL units of a sample.
 */

export interface TestBox {
  type: string;
  start: number;
  body: number;
  end: number;
}

export function walk(bytes: Uint8Array, from = 0, to = bytes.byteLength): TestBox[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: TestBox[] = [];
  for (let at = from; at + 8 <= to; ) {
    let size = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    let body = at + 8;
    if (size === 1) {
      size = Number(view.getBigUint64(at + 8));
      body += 8;
    }
    if (size === 0) size = to - at;
    if (size < 8 || at + size > to) throw new Error(`bad box ${type} at ${at}`);
    out.push({ type, start: at, body, end: at + size });
    at += size;
  }
  return out;
}

export function child(bytes: Uint8Array, parent: TestBox, type: string): TestBox {
  const found = walk(bytes, parent.body, parent.end).find((b) => b.type === type);
  if (!found) throw new Error(`no ${type} in ${parent.type}`);
  return found;
}

export function path(bytes: Uint8Array, types: string[]): TestBox {
  let box = walk(bytes).find((b) => b.type === types[0]);
  if (!box) throw new Error(`no ${types[0]}`);
  for (const t of types.slice(1)) box = child(bytes, box, t);
  return box;
}

export interface TestSample {
  duration: number;
  size: number;
  flags: number;
  /** Composition time offset (signed in trun version 1). */
  cto: number;
  offset: number;
}

export interface TestFragment {
  tfdt: number;
  samples: TestSample[];
}

/** The one fragment of a media segment (moof with a single traf and trun, data in the next mdat). */
export function readSegment(bytes: Uint8Array): TestFragment & { topLevel: string[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const top = walk(bytes);
  const moof = top.find((b) => b.type === 'moof')!;
  const traf = child(bytes, moof, 'traf');
  const tfhd = child(bytes, traf, 'tfhd');
  const tfhdFlags = view.getUint32(tfhd.body) & 0xffffff;
  const tfdt = child(bytes, traf, 'tfdt');
  const tfdtValue = bytes[tfdt.body] === 1 ? Number(view.getBigUint64(tfdt.body + 4)) : view.getUint32(tfdt.body + 4);
  const trun = child(bytes, traf, 'trun');
  const flags = view.getUint32(trun.body) & 0xffffff;
  const signed = bytes[trun.body] === 1;
  const count = view.getUint32(trun.body + 4);
  let p = trun.body + 8;
  let data = moof.start;
  if (!(tfhdFlags & 0x20000)) throw new Error('expected default-base-is-moof');
  if (flags & 1) {
    data += view.getInt32(p);
    p += 4;
  }
  if (flags & 4) p += 4;
  const samples: TestSample[] = [];
  for (let i = 0; i < count; i++) {
    const s: TestSample = { duration: 0, size: 0, flags: 0, cto: 0, offset: data };
    if (flags & 0x100) {
      s.duration = view.getUint32(p);
      p += 4;
    }
    if (flags & 0x200) {
      s.size = view.getUint32(p);
      p += 4;
    }
    if (flags & 0x400) {
      s.flags = view.getUint32(p);
      p += 4;
    }
    if (flags & 0x800) {
      s.cto = signed ? view.getInt32(p) : view.getUint32(p);
      p += 4;
    }
    data += s.size;
    samples.push(s);
  }
  return { tfdt: tfdtValue, samples, topLevel: top.map((b) => b.type) };
}

export interface TestInit {
  timescale: number;
  entry: string;
  width?: number;
  height?: number;
  /** avc1.PPCCLL from the SPS bytes. */
  avcCodec?: string;
  nalLengthSize?: number;
  /** The single edit's media_time; undefined without an edit list. */
  editMediaTime?: number;
  /** dOps PreSkip of an Opus entry. */
  opusPreSkip?: number;
}

export function readInitSegment(bytes: Uint8Array): TestInit {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mdhd = path(bytes, ['moov', 'trak', 'mdia', 'mdhd']);
  const timescale = view.getUint32(mdhd.body + (bytes[mdhd.body] === 1 ? 20 : 12));
  const stsd = path(bytes, ['moov', 'trak', 'mdia', 'minf', 'stbl', 'stsd']);
  const entry = walk(bytes, stsd.body + 8, stsd.end)[0]!;
  const init: TestInit = { timescale, entry: entry.type };
  const trak = path(bytes, ['moov', 'trak']);
  const edts = walk(bytes, trak.body, trak.end).find((b) => b.type === 'edts');
  if (edts) {
    const elst = child(bytes, edts, 'elst');
    if (view.getUint32(elst.body + 4) !== 1) throw new Error('expected a single edit');
    init.editMediaTime = bytes[elst.body] === 1 ? Number(view.getBigInt64(elst.body + 16)) : view.getInt32(elst.body + 12);
  }
  if (entry.type === 'Opus') {
    const dOps = walk(bytes, entry.body + 28, entry.end).find((b) => b.type === 'dOps')!;
    init.opusPreSkip = view.getUint16(dOps.body + 2);
  }
  if (entry.type === 'avc1') {
    init.width = view.getUint16(entry.body + 24);
    init.height = view.getUint16(entry.body + 26);
    const avcC = walk(bytes, entry.body + 78, entry.end).find((b) => b.type === 'avcC')!;
    init.nalLengthSize = (bytes[avcC.body + 4]! & 3) + 1;
    const spsLen = view.getUint16(avcC.body + 6);
    const sps = bytes.subarray(avcC.body + 8, avcC.body + 8 + spsLen);
    init.avcCodec = `avc1.${[sps[1]!, sps[2]!, sps[3]!].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  }
  return init;
}

/** NAL unit types of one length-prefixed H.264 sample. */
export function nalTypes(sample: Uint8Array, lengthSize: number): number[] {
  const types: number[] = [];
  for (let at = 0; at + lengthSize < sample.byteLength; ) {
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + sample[at + i]!;
    types.push(sample[at + lengthSize]! & 0x1f);
    at += lengthSize + len;
  }
  return types;
}

/**
 * A copy of an MP4 whose `mvhd` states `duration` ticks of `timescale` (a version 0 header, as
 * FFmpeg writes for short files): the header a hostile upload lies with.
 */
export function withMovieDuration(bytes: Uint8Array, timescale: number, duration: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const mvhd = path(out, ['moov', 'mvhd']);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (out[mvhd.body] !== 0) throw new Error('expected a version 0 mvhd');
  view.setUint32(mvhd.body + 12, timescale);
  view.setUint32(mvhd.body + 16, duration);
  return out;
}

/** The sync samples (1-based) of a progressive MP4's first track, from its `stss` (every sample when it has none). */
export function syncSamples(bytes: Uint8Array): number[] | 'all' {
  const stbl = path(bytes, ['moov', 'trak', 'mdia', 'minf', 'stbl']);
  const stss = walk(bytes, stbl.body, stbl.end).find((b) => b.type === 'stss');
  if (!stss) return 'all';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(stss.body + 4);
  return Array.from({ length: count }, (_, i) => view.getUint32(stss.body + 8 + 4 * i));
}
