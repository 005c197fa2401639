/**
 * The boxes of Common Encryption (ISO/IEC 23001-7) around a CMAF track: the protection scheme
 * information (`sinf` with `frma`, `schm`, `tenc`) in a renamed sample entry (`encv`, `enca`),
 * `pssh` boxes in `moov`, and per fragment the sample auxiliary information (`senc`, with `saiz`
 * and `saio` pointing at it). Also the readers of the same boxes, for the decryptor.
 */
import { concatBytes } from '../util/bytes.js';
import { type Box, box, children, dv, find, findAll, fourcc, fullBox, readBoxHeader, versionFlags } from './bmff.js';

export type Scheme = 'cenc' | 'cbcs';

/** What `tenc` says of a track. */
export interface TrackEncryption {
  scheme: Scheme;
  kid: Uint8Array;
  /** 8 for cenc (a fresh IV per sample); 0 for cbcs (the constant IV). */
  perSampleIvSize: number;
  constantIv?: Uint8Array;
  /** cbcs video: 1 block encrypted of every 10; 0:0 elsewhere. */
  cryptByteBlock: number;
  skipByteBlock: number;
}

export interface Subsample {
  clear: number;
  protected: number;
}

/** One sample's entry in `senc`. */
export interface SampleAuxInfo {
  iv: Uint8Array;
  /** null: the whole sample is protected (audio). */
  subsamples: Subsample[] | null;
}

const u8 = (...v: number[]) => Uint8Array.from(v);
function u32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  dv(out).setUint32(0, v >>> 0);
  return out;
}
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

export function tencBox(t: TrackEncryption): Uint8Array {
  const version = t.scheme === 'cbcs' ? 1 : 0;
  const pattern = version === 1 ? ((t.cryptByteBlock & 0xf) << 4) | (t.skipByteBlock & 0xf) : 0;
  const constant = t.perSampleIvSize === 0 && t.constantIv ? [u8(t.constantIv.byteLength), t.constantIv] : [];
  return fullBox('tenc', version, 0, u8(0, pattern, 1, t.perSampleIvSize), t.kid, ...constant);
}

export function sinfBox(originalFormat: string, t: TrackEncryption): Uint8Array {
  return box('sinf', box('frma', ascii(originalFormat)), fullBox('schm', 0, 0, ascii(t.scheme), u32(0x10000)), box('schi', tencBox(t)));
}

/**
 * The init segment (ftyp + moov, one track) prepared for encryption: the sample entry renamed
 * `encv`/`enca` with a `sinf` appended, the clear entry kept as the second entry when a clear lead
 * needs it (its fragments point at it through `tfhd`), and `pssh` boxes at the end of `moov`.
 */
export function protectInit(init: Uint8Array, t: TrackEncryption, options: { keepClearEntry: boolean; pssh: readonly Uint8Array[] }): Uint8Array {
  const slice = (b: Box) => init.subarray(b.start, b.end);
  const rebuild = (parent: Box, path: readonly string[], leaf: (b: Box) => Uint8Array): Uint8Array => {
    const [head, ...rest] = path;
    const start = parent.payload + (parent.type === 'stsd' ? 8 : 0);
    const parts = children(init, start, parent.end).map((c) => (c.type !== head ? slice(c) : rest.length ? rebuild(c, rest, leaf) : leaf(c)));
    return box(parent.type, init.subarray(parent.payload, start), ...parts);
  };
  const stsdLeaf = (stsd: Box): Uint8Array => {
    const entries = children(init, stsd.payload + 8, stsd.end);
    if (entries.length !== 1) throw new Error(`cenc: expected one sample entry, found ${entries.length}`);
    const entry = entries[0]!;
    const entryType = ['avc1', 'avc3', 'hvc1', 'hev1'].includes(entry.type) ? 'encv' : 'enca';
    const encrypted = box(entryType, init.subarray(entry.payload, entry.end), sinfBox(entry.type, t));
    const list = options.keepClearEntry ? [encrypted, slice(entry)] : [encrypted];
    return fullBox('stsd', 0, 0, u32(list.length), ...list);
  };
  const top = children(init);
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw new Error('cenc: no moov box');
  const trak = find(init, ['trak'], moov);
  if (!trak) throw new Error('cenc: no trak box');
  const newTrak = rebuild(trak, ['mdia', 'minf', 'stbl', 'stsd'], stsdLeaf);
  const moovParts = children(init, moov.payload, moov.end).map((c) => (c.start === trak.start ? newTrak : slice(c)));
  return concatBytes(top.map((b) => (b === moov ? box('moov', ...moovParts, ...options.pssh) : slice(b))));
}

/** `senc`, with subsample maps when the samples have them (flag 0x2). */
export function sencBox(samples: readonly SampleAuxInfo[]): Uint8Array {
  return fullBox('senc', 0, samples.some((s) => s.subsamples) ? 2 : 0, u32(samples.length), ...samples.map(auxInfoBytes));
}

export function auxInfoBytes(s: SampleAuxInfo): Uint8Array {
  if (!s.subsamples) return s.iv;
  if (s.subsamples.length > 0xffff) throw new Error(`cenc: a sample of ${s.subsamples.length} subsamples`);
  const out = new Uint8Array(s.iv.byteLength + 2 + s.subsamples.length * 6);
  const view = dv(out);
  out.set(s.iv);
  let at = s.iv.byteLength;
  view.setUint16(at, s.subsamples.length);
  at += 2;
  for (const sub of s.subsamples) {
    view.setUint16(at, sub.clear);
    view.setUint32(at + 2, sub.protected);
    at += 6;
  }
  return out;
}

export function saizBox(sizes: readonly number[]): Uint8Array {
  const same = sizes.every((n) => n === sizes[0]);
  if (sizes.some((n) => n > 255)) throw new Error('cenc: sample auxiliary information over 255 bytes');
  return fullBox('saiz', 0, 0, u8(same ? (sizes[0] ?? 0) : 0), u32(sizes.length), ...(same ? [] : [Uint8Array.from(sizes)]));
}

export function saioBox(offset: number): Uint8Array {
  return fullBox('saio', 0, 0, u32(1), u32(offset));
}

// ---- readers ----

/** `tenc` of a protected init segment, and the sample entry's original format. */
export function readProtection(init: Uint8Array): {
  entries: string[];
  originalFormat: string;
  tenc: TrackEncryption;
  pssh: Array<{ systemId: string; kids: string[]; data: Uint8Array }>;
} {
  const moov = find(init, ['moov']);
  if (!moov) throw new Error('cenc: no moov box');
  const stsd = find(init, ['trak', 'mdia', 'minf', 'stbl', 'stsd'], moov);
  if (!stsd) throw new Error('cenc: no stsd box');
  const entries = children(init, stsd.payload + 8, stsd.end);
  const entry = entries[0]!;
  const headerSize = entry.type === 'encv' ? 78 : 28;
  const sinf = children(init, entry.payload + headerSize, entry.end).find((b) => b.type === 'sinf');
  if (!sinf) throw new Error(`cenc: the ${entry.type} entry has no sinf`);
  const frma = find(init, ['frma'], sinf)!;
  const schm = find(init, ['schm'], sinf)!;
  const tenc = find(init, ['schi', 'tenc'], sinf)!;
  const view = dv(init);
  const { version } = versionFlags(init, tenc);
  const p = tenc.payload + 4;
  const perSampleIvSize = init[p + 3]!;
  const kid = init.slice(p + 4, p + 20);
  const constantIv = perSampleIvSize === 0 ? init.slice(p + 21, p + 21 + init[p + 20]!) : undefined;
  const pssh = findAll(init, 'pssh', moov).map((b) => {
    const v = versionFlags(init, b).version;
    let at = b.payload + 4;
    const systemId = Buffer.from(init.subarray(at, at + 16)).toString('hex');
    at += 16;
    const kids: string[] = [];
    if (v > 0) {
      const count = view.getUint32(at);
      at += 4;
      for (let i = 0; i < count; i++, at += 16) kids.push(Buffer.from(init.subarray(at, at + 16)).toString('hex'));
    }
    const size = view.getUint32(at);
    return { systemId, kids, data: init.slice(at + 4, at + 4 + size) };
  });
  return {
    entries: entries.map((e) => e.type),
    originalFormat: fourcc(init, frma.payload),
    tenc: {
      scheme: fourcc(init, schm.payload + 4) as Scheme,
      kid,
      perSampleIvSize,
      ...(constantIv ? { constantIv } : {}),
      cryptByteBlock: version === 1 ? init[p + 1]! >> 4 : 0,
      skipByteBlock: version === 1 ? init[p + 1]! & 0xf : 0,
    },
    pssh,
  };
}

/** What a `moof` says of its samples' encryption: the description index and `senc` entries (none: clear). */
export function readFragmentProtection(
  moof: Uint8Array,
  perSampleIvSize: number,
): { descriptionIndex: number; samples: SampleAuxInfo[] | null; saioOffset: number | null; saizSizes: number[] | null } {
  const root = readBoxHeader(moof, 0)!;
  const traf = find(moof, ['traf'], root)!;
  const view = dv(moof);
  const tfhd = find(moof, ['tfhd'], traf)!;
  const th = versionFlags(moof, tfhd);
  let descriptionIndex = 1;
  if (th.flags & 0x2) descriptionIndex = view.getUint32(tfhd.payload + 8 + (th.flags & 0x1 ? 8 : 0));
  const senc = find(moof, ['senc'], traf);
  const saio = find(moof, ['saio'], traf);
  const saiz = find(moof, ['saiz'], traf);
  let saizSizes: number[] | null = null;
  if (saiz) {
    const def = moof[saiz.payload + 4]!;
    const count = view.getUint32(saiz.payload + 5);
    saizSizes = def ? new Array<number>(count).fill(def) : Array.from(moof.subarray(saiz.payload + 9, saiz.payload + 9 + count));
  }
  const saioOffset = saio ? view.getUint32(saio.payload + 8) : null;
  if (!senc) return { descriptionIndex, samples: null, saioOffset, saizSizes };
  const flags = versionFlags(moof, senc).flags;
  const count = view.getUint32(senc.payload + 4);
  let at = senc.payload + 8;
  const samples: SampleAuxInfo[] = [];
  for (let i = 0; i < count; i++) {
    const iv = moof.slice(at, at + perSampleIvSize);
    at += perSampleIvSize;
    let subsamples: Subsample[] | null = null;
    if (flags & 2) {
      const n = view.getUint16(at);
      at += 2;
      subsamples = [];
      for (let j = 0; j < n; j++, at += 6) subsamples.push({ clear: view.getUint16(at), protected: view.getUint32(at + 2) });
    }
    if (at > senc.end) throw new Error('cenc: senc shorter than its entries');
    samples.push({ iv, subsamples });
  }
  return { descriptionIndex, samples, saioOffset, saizSizes };
}

/** Where `senc`'s first entry sits in the moof (what `saio` must point at). */
export function sencDataOffset(moof: Uint8Array): number | null {
  const root = readBoxHeader(moof, 0)!;
  const traf = find(moof, ['traf'], root);
  const senc = traf && find(moof, ['senc'], traf);
  return senc ? senc.payload + 8 : null;
}
