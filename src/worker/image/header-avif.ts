/**
 * AVIF (AV1 image file format, on HEIF: ISO/IEC 23008-12) headers. An AVIF keeps its pictures as
 * items of a `meta` box: `pitm` names the primary item, `iinf` gives each item's type, `iloc`
 * where its bytes are (extents in the file or in `idat`), `iprp` its properties (`ispe` size,
 * `av1C`, `pixi` bit depth, `colr` ICC profile, `irot`/`imir` display transforms, `auxC` for an
 * alpha plane), and `iref` ties an alpha item (`auxl`) to the picture it belongs to.
 * FFmpeg 5.1's mov demuxer reads only the simplest layout (a primary item in one extent of the
 * file, `pitm` version 0, no `idat`), so the decoder never sees the file itself: its view is a
 * minimal AVIF written here (ftyp, meta with hdlr, pitm, iloc, and an mdat of the item's extents
 * as ranges of the source). The alpha item gets a view of its own and a decode of its own.
 * Tiled (`grid`) and derived (`iden`, `iovl`) primaries, and HEVC items (HEIC), are refused as
 * unsupported, naming what they are.
 */
import { InputError, UnsupportedError } from '../../errors.js';
import type { InputPiece } from '../../model/plan.js';
import { isoBox, u32be } from '../../util/bytes.js';
import type { Orientation } from './exif.js';
import { type AvifInfo, type AvifItem, bad, type ImageHeader, truncated } from './header-common.js';
import { type ImageBytes, latin, u32 } from './source.js';

/** The `meta` box is read whole up to this size; encoders write a few hundred bytes to a few KiB. */
const MAX_META = 1024 * 1024;
/** Top-level boxes walked to find `meta` (it follows `ftyp` in every writer). */
const MAX_TOP_BOXES = 64;
/** Extents of one item: AVIF writers use one; an item needing more is refused when it is decoded. */
const MAX_EXTENTS = 64;
/** Extents of all items together (an extent's fields may take no bytes at all): beyond, the file is refused. */
const MAX_ALL_EXTENTS = 4096;

const ALPHA_URNS = new Set(['urn:mpeg:mpegB:cicp:systems:auxiliary:alpha', 'urn:mpeg:hevc:2015:auxid:1']);

interface Box {
  type: string;
  /** Offsets in the meta bytes: where the box starts, its payload, its end. */
  start: number;
  payload: number;
  end: number;
}

class MetaReader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(at: number, n: number, what: string): void {
    if (at < 0 || at + n > this.bytes.length) throw bad('AVIF', `${what} runs past its box`);
  }

  u8(at: number, end: number, what: string): number {
    this.need(at, 1, what);
    if (at + 1 > end) throw bad('AVIF', `${what} runs past its box`);
    return this.bytes[at]!;
  }

  u16(at: number, end: number, what: string): number {
    if (at + 2 > end) throw bad('AVIF', `${what} runs past its box`);
    this.need(at, 2, what);
    return this.view.getUint16(at);
  }

  u32(at: number, end: number, what: string): number {
    if (at + 4 > end) throw bad('AVIF', `${what} runs past its box`);
    this.need(at, 4, what);
    return this.view.getUint32(at);
  }

  /** An unsigned field of 0, 4 or 8 bytes (iloc's sizes). */
  sized(at: number, size: number, end: number, what: string): number {
    if (size === 0) return 0;
    if (size === 4) return this.u32(at, end, what);
    if (size === 8) {
      const high = this.u32(at, end, what);
      if (high > 0x1fffff) throw bad('AVIF', `${what} is beyond any file`);
      return high * 2 ** 32 + this.u32(at + 4, end, what);
    }
    throw bad('AVIF', `${what} has a field size of ${size} bytes (0, 4 or 8)`);
  }

  fourcc(at: number, end: number, what: string): string {
    if (at + 4 > end) throw bad('AVIF', `${what} runs past its box`);
    return String.fromCharCode(...this.bytes.subarray(at, at + 4));
  }

  /** The boxes inside [from, to). */
  children(from: number, to: number): Box[] {
    const out: Box[] = [];
    let at = from;
    while (at + 8 <= to) {
      let size = this.view.getUint32(at);
      const type = String.fromCharCode(...this.bytes.subarray(at + 4, at + 8));
      let payload = at + 8;
      if (size === 1) {
        if (at + 16 > to) throw bad('AVIF', `the ${type} box's size runs past its parent`);
        if (this.view.getUint32(at + 8) !== 0) throw bad('AVIF', `the ${type} box is larger than its parent`);
        size = this.view.getUint32(at + 12);
        payload = at + 16;
      } else if (size === 0) size = to - at;
      if (size < payload - at || at + size > to) throw bad('AVIF', `the ${type} box (${size} bytes) does not fit its parent`);
      out.push({ type, start: at, payload, end: at + size });
      at += size;
    }
    return out;
  }

  /** The NUL-terminated string at `at` (to `end` without a NUL). */
  string(at: number, end: number): string {
    let stop = at;
    while (stop < end && this.bytes[stop] !== 0) stop++;
    return new TextDecoder().decode(this.bytes.subarray(at, stop));
  }
}

interface Location {
  method: number;
  baseOffset: number;
  extents: Array<{ offset: number; length: number }>;
  /** How many extents the item has (`extents` is empty past MAX_EXTENTS). */
  pieces: number;
}

interface Parsed {
  primary: number;
  types: Map<number, string>;
  locations: Map<number, Location>;
  properties: Box[];
  /** Each item's property indices (1-based into `properties`). */
  associations: Map<number, number[]>;
  /** `auxl` references: auxiliary item → the items it belongs to. */
  auxiliaryOf: Map<number, number[]>;
  /** Where `idat`'s payload starts in the file, if there is one. */
  idat?: { from: number; to: number };
}

export function readAvif(src: ImageBytes): ImageHeader & { avif: AvifInfo } {
  const meta = findMeta(src);
  const r = new MetaReader(src.copy(meta.at, meta.size));
  if (r.bytes.length < meta.size) throw truncated('AVIF', 'the meta box is cut off');
  let parsed: Parsed;
  try {
    parsed = parseMeta(r, meta.at);
  } catch (err) {
    if (err instanceof RangeError) throw bad('AVIF', 'a box of the meta box is cut off');
    throw err;
  }
  const { primary, types } = parsed;
  const type = types.get(primary);
  if (type === undefined) throw bad('AVIF', `the primary item ${primary} has no item info entry`);
  if (type === 'grid') throw new UnsupportedError('the input is a tiled (grid) AVIF image, which sandcodec does not decode', { format: 'avif' });
  if (type === 'hvc1') throw new UnsupportedError('the input is a HEIC image (HEVC in HEIF), which sandcodec does not decode', { format: 'heic' });
  if (type !== 'av01')
    throw new UnsupportedError(`the input is an AVIF whose primary item is a '${type}' item, which sandcodec does not decode`, { format: 'avif' });

  const props = (item: number) => (parsed.associations.get(item) ?? []).map((i) => parsed.properties[i - 1]).filter((b): b is Box => b !== undefined);
  const main = props(primary);
  const picture = item(src, r, parsed, primary, main, 'the picture');
  const header: ImageHeader & { avif: AvifInfo } = {
    format: 'avif',
    width: picture.width,
    height: picture.height,
    view: picture.view,
    avif: { depth: bitDepth(r, main) },
  };
  if (header.avif.depth > 8) header.sampleBytes = 2;
  const orientation = transforms(r, main);
  if (orientation !== 1) header.orientation = orientation;
  const icc = main.find((b) => b.type === 'colr' && ['prof', 'rICC'].includes(r.fourcc(b.payload, b.end, 'colr')));
  if (icc) header.icc = r.bytes.slice(icc.payload + 4, icc.end);

  // The alpha plane: an auxiliary AV1 item of the alpha type that refers to the primary.
  for (const [aux, of] of parsed.auxiliaryOf) {
    if (!of.includes(primary) || types.get(aux) !== 'av01') continue;
    const own = props(aux);
    const auxC = own.find((b) => b.type === 'auxC');
    if (!auxC || !ALPHA_URNS.has(r.string(auxC.payload + 4, auxC.end))) continue;
    const alpha = item(src, r, parsed, aux, own, 'the alpha plane');
    if (alpha.width !== picture.width || alpha.height !== picture.height)
      throw new UnsupportedError(
        `the input is an AVIF whose alpha plane (${alpha.width}×${alpha.height}) is not the picture's size (${picture.width}×${picture.height})`,
        {
          format: 'avif',
        },
      );
    header.avif.alpha = alpha;
    break;
  }
  return header;
}

/** The `meta` box's place in the file: the top-level boxes are walked to it, a bounded number. */
function findMeta(src: ImageBytes): { at: number; size: number } {
  let at = 0;
  for (let n = 0; n < MAX_TOP_BOXES && at + 8 <= src.size; n++) {
    let size = u32(src, at) ?? 0;
    const type = latin(src, at + 4, 4);
    if (size === 1) {
      const high = u32(src, at + 8) ?? 0;
      size = high * 2 ** 32 + (u32(src, at + 12) ?? 0);
    } else if (size === 0) size = src.size - at;
    if (size < 8) throw bad('AVIF', `the ${JSON.stringify(type)} box at ${at} has a size of ${size}`);
    if (type === 'meta') {
      if (size > MAX_META) throw new InputError(`the AVIF's meta box is ${size} bytes; sandcodec reads at most ${MAX_META}`, { maxBytes: MAX_META });
      if (at + size > src.size) throw truncated('AVIF', 'the meta box runs past the end of the file');
      return { at, size };
    }
    at += size;
  }
  if (latin(src, 8, 4) === 'avis')
    throw new UnsupportedError('the input is an AVIF image sequence without a still picture, which sandcodec does not decode', { format: 'avif' });
  throw bad('AVIF', 'no meta box (the items of an AVIF are described there)');
}

function parseMeta(r: MetaReader, fileAt: number): Parsed {
  const metaBox = r.children(0, r.bytes.length)[0];
  if (metaBox?.type !== 'meta') throw bad('AVIF', 'the meta box is malformed');
  // meta is a full box: version and flags, then its children.
  const boxes = r.children(metaBox.payload + 4, metaBox.end);
  const find = (type: string) => boxes.find((b) => b.type === type);
  const hdlr = find('hdlr');
  if (!hdlr || r.fourcc(hdlr.payload + 8, hdlr.end, 'hdlr') !== 'pict') throw bad('AVIF', "the meta box's handler is not 'pict'");
  const pitm = find('pitm');
  if (!pitm) throw bad('AVIF', 'no primary item (pitm)');
  const primary = r.u8(pitm.payload, pitm.end, 'pitm') === 0 ? r.u16(pitm.payload + 4, pitm.end, 'pitm') : r.u32(pitm.payload + 4, pitm.end, 'pitm');

  const types = new Map<number, string>();
  const iinf = find('iinf');
  if (!iinf) throw bad('AVIF', 'no item info (iinf)');
  const iinfHeader = r.u8(iinf.payload, iinf.end, 'iinf') === 0 ? 6 : 8;
  for (const infe of r.children(iinf.payload + iinfHeader, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const version = r.u8(infe.payload, infe.end, 'infe');
    if (version < 2) continue;
    const id = version === 2 ? r.u16(infe.payload + 4, infe.end, 'infe') : r.u32(infe.payload + 4, infe.end, 'infe');
    const at = infe.payload + 4 + (version === 2 ? 2 : 4) + 2;
    types.set(id, r.fourcc(at, infe.end, 'infe'));
  }

  const locations = new Map<number, Location>();
  const iloc = find('iloc');
  if (!iloc) throw bad('AVIF', 'no item locations (iloc)');
  const version = r.u8(iloc.payload, iloc.end, 'iloc');
  if (version > 2) throw bad('AVIF', `iloc version ${version}`);
  let at = iloc.payload + 4;
  const sizes = r.u8(at, iloc.end, 'iloc');
  const more = r.u8(at + 1, iloc.end, 'iloc');
  const [offsetSize, lengthSize, baseSize, indexSize] = [sizes >> 4, sizes & 15, more >> 4, version ? more & 15 : 0];
  at += 2;
  const count = version < 2 ? r.u16(at, iloc.end, 'iloc') : r.u32(at, iloc.end, 'iloc');
  at += version < 2 ? 2 : 4;
  let allExtents = 0;
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? r.u16(at, iloc.end, 'iloc') : r.u32(at, iloc.end, 'iloc');
    at += version < 2 ? 2 : 4;
    let method = 0;
    if (version > 0) {
      method = r.u16(at, iloc.end, 'iloc') & 15;
      at += 2;
    }
    at += 2; // data_reference_index: 0, this file.
    const baseOffset = r.sized(at, baseSize, iloc.end, 'an item base offset');
    at += baseSize;
    const extentCount = r.u16(at, iloc.end, 'iloc');
    at += 2;
    if (extentCount > MAX_EXTENTS) {
      // Kept as a count only: refused if this item is the one decoded.
      at += extentCount * (indexSize + offsetSize + lengthSize);
      locations.set(id, { method, baseOffset, extents: [], pieces: extentCount });
      continue;
    }
    allExtents += extentCount;
    if (allExtents > MAX_ALL_EXTENTS) throw bad('AVIF', `its items are in more than ${MAX_ALL_EXTENTS} extents`);
    const extents: Location['extents'] = [];
    for (let e = 0; e < extentCount; e++) {
      at += indexSize;
      const offset = r.sized(at, offsetSize, iloc.end, 'an extent offset');
      at += offsetSize;
      const length = r.sized(at, lengthSize, iloc.end, 'an extent length');
      at += lengthSize;
      extents.push({ offset, length });
    }
    locations.set(id, { method, baseOffset, extents, pieces: extentCount });
  }

  const iprp = find('iprp');
  const iprpBoxes = iprp ? r.children(iprp.payload, iprp.end) : [];
  const ipco = iprpBoxes.find((b) => b.type === 'ipco');
  const properties = ipco ? r.children(ipco.payload, ipco.end) : [];
  const associations = new Map<number, number[]>();
  for (const ipma of iprpBoxes.filter((b) => b.type === 'ipma')) {
    const v = r.u8(ipma.payload, ipma.end, 'ipma');
    const wide = (r.u8(ipma.payload + 3, ipma.end, 'ipma') & 1) === 1;
    let p = ipma.payload + 4;
    const entries = r.u32(p, ipma.end, 'ipma');
    p += 4;
    for (let i = 0; i < entries; i++) {
      const id = v < 1 ? r.u16(p, ipma.end, 'ipma') : r.u32(p, ipma.end, 'ipma');
      p += v < 1 ? 2 : 4;
      const n = r.u8(p, ipma.end, 'ipma');
      p += 1;
      const list = associations.get(id) ?? [];
      for (let k = 0; k < n; k++) {
        list.push(wide ? r.u16(p, ipma.end, 'ipma') & 0x7fff : r.u8(p, ipma.end, 'ipma') & 0x7f);
        p += wide ? 2 : 1;
      }
      associations.set(id, list);
    }
  }

  const auxiliaryOf = new Map<number, number[]>();
  const iref = find('iref');
  if (iref) {
    const wide = r.u8(iref.payload, iref.end, 'iref') === 1;
    for (const ref of r.children(iref.payload + 4, iref.end)) {
      if (ref.type !== 'auxl') continue;
      let p = ref.payload;
      const from = wide ? r.u32(p, ref.end, 'iref') : r.u16(p, ref.end, 'iref');
      p += wide ? 4 : 2;
      const n = r.u16(p, ref.end, 'iref');
      p += 2;
      const to: number[] = [];
      for (let k = 0; k < n; k++, p += wide ? 4 : 2) to.push(wide ? r.u32(p, ref.end, 'iref') : r.u16(p, ref.end, 'iref'));
      auxiliaryOf.set(from, to);
    }
  }

  const idat = find('idat');
  return {
    primary,
    types,
    locations,
    properties,
    associations,
    auxiliaryOf,
    ...(idat ? { idat: { from: fileAt + idat.payload, to: fileAt + idat.end } } : {}),
  };
}

/** An AV1 item's size (ispe) and the decoder's view of it: a minimal AVIF around its extents. */
function item(src: ImageBytes, r: MetaReader, parsed: Parsed, id: number, props: Box[], what: string): AvifItem {
  const ispe = props.find((b) => b.type === 'ispe');
  if (!ispe) throw bad('AVIF', `${what} has no size (ispe)`);
  const width = r.u32(ispe.payload + 4, ispe.end, 'ispe');
  const height = r.u32(ispe.payload + 8, ispe.end, 'ispe');
  if (!(width > 0 && height > 0)) throw bad('AVIF', `${what} is ${width}×${height}`);
  const location = parsed.locations.get(id);
  if (location && location.pieces > MAX_EXTENTS)
    throw new UnsupportedError(
      `the input is an AVIF whose ${what.replace(/^the /, '')} is in ${location.pieces} pieces; sandcodec reads at most ${MAX_EXTENTS}`,
      {
        format: 'avif',
      },
    );
  if (!location || location.extents.length === 0) throw bad('AVIF', `${what} has no location (iloc)`);
  if (location.method > 1)
    throw new UnsupportedError(`the input is an AVIF whose ${what.replace(/^the /, '')} is built from other items, which sandcodec does not decode`, {
      format: 'avif',
    });
  const ranges: Array<{ from: number; to: number }> = [];
  for (const e of location.extents) {
    let from = location.baseOffset + e.offset;
    let to: number;
    if (location.method === 1) {
      if (!parsed.idat) throw bad('AVIF', `${what} is in an idat box the file does not have`);
      from += parsed.idat.from;
      to = e.length === 0 ? parsed.idat.to : from + e.length;
      if (to > parsed.idat.to) throw bad('AVIF', `${what} runs past its idat box`);
    } else {
      to = e.length === 0 ? src.size : from + e.length;
    }
    if (to > src.size) throw truncated('AVIF', `${what} runs past the end of the file`);
    if (to <= from) throw bad('AVIF', `${what} has an empty extent`);
    ranges.push({ from, to });
  }
  return { width, height, view: minimalAvif(ranges) };
}

/** Bits per sample: `pixi` when present, else the av1C's high_bitdepth and twelve_bit flags. */
function bitDepth(r: MetaReader, props: Box[]): number {
  const pixi = props.find((b) => b.type === 'pixi');
  if (pixi) {
    const channels = r.u8(pixi.payload + 4, pixi.end, 'pixi');
    let depth = 8;
    for (let c = 0; c < channels; c++) depth = Math.max(depth, r.u8(pixi.payload + 5 + c, pixi.end, 'pixi'));
    return depth;
  }
  const av1C = props.find((b) => b.type === 'av1C');
  if (!av1C) return 8;
  const flags = r.u8(av1C.payload + 2, av1C.end, 'av1C');
  return flags & 0x40 ? (flags & 0x20 ? 12 : 10) : 8;
}

/**
 * The display transforms as an EXIF orientation: `irot` turns the picture anticlockwise by
 * quarter turns, then `imir` mirrors it: mode 0 exchanges top and bottom, mode 1 left and right
 * (ISO/IEC 23008-12:2022 6.5.12, as libavif and libheif read it; EXIF 4 and 2).
 */
function transforms(r: MetaReader, props: Box[]): Orientation {
  const irot = props.find((b) => b.type === 'irot');
  const imir = props.find((b) => b.type === 'imir');
  const turns = irot ? r.u8(irot.payload, irot.end, 'irot') & 3 : 0;
  const mirror = imir ? r.u8(imir.payload, imir.end, 'imir') & 1 : -1;
  // [no mirror, top-bottom mirror, left-right mirror] for 0, 1, 2 and 3 anticlockwise quarter turns.
  const table: ReadonlyArray<readonly [Orientation, Orientation, Orientation]> = [
    [1, 4, 2],
    [8, 5, 7],
    [3, 2, 4],
    [6, 7, 5],
  ];
  return table[turns]![mirror + 1]!;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/**
 * The decoder's view of one item: ftyp, a meta box in the one layout FFmpeg 5.1 reads (pitm
 * version 0 before iloc version 0, one item in one extent with 32-bit fields), and an mdat that
 * holds the item's extents back to back, as ranges of the source.
 */
function minimalAvif(ranges: ReadonlyArray<{ from: number; to: number }>): InputPiece[] {
  const length = ranges.reduce((n, e) => n + (e.to - e.from), 0);
  const ftyp = isoBox('ftyp', ascii('avif'), u32be(0), ascii('avifmif1miaf'));
  const hdlr = isoBox('hdlr', u32be(0, 0), ascii('pict'), u32be(0, 0, 0), new Uint8Array(1));
  const pitm = isoBox('pitm', u32be(0), Uint8Array.of(0, 1));
  // iloc v0: offset and length 4 bytes, no base offset; item 1, data reference 0, one extent.
  const ilocFor = (offset: number) => isoBox('iloc', u32be(0), Uint8Array.of(0x44, 0x00, 0, 1, 0, 1, 0, 0, 0, 1), u32be(offset, length));
  const metaSize = 8 + 4 + hdlr.length + pitm.length + ilocFor(0).length;
  const mdatAt = ftyp.length + metaSize;
  const meta = isoBox('meta', u32be(0), hdlr, pitm, ilocFor(mdatAt + 8));
  if (length > 0xffffffff - 8) throw new UnsupportedError('the input is an AVIF whose picture is larger than 4 GiB', { format: 'avif' });
  const mdatHeader = u32be(length + 8, 0x6d646174);
  return [{ bytes: ftyp }, { bytes: meta }, { bytes: mdatHeader }, ...ranges.map((e) => ({ from: e.from, to: e.to }))];
}
