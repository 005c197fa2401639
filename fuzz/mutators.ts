/**
 * The mutators. Each takes a seed file (bytes and the walker's layout of them) and the case's
 * PRNG, and returns new bytes with a description of what it did (`params`, plain JSON): the
 * record a person reads, and proof that the case is a pure function of its seed. Structure-aware
 * mutators work on the layout's spans and fields, so they serve every format a walker knows;
 * where the format has checksums (PNG CRCs, Ogg page CRCs) they may repair them afterwards, so
 * the damage reaches the parser behind the integrity check.
 */
import { type Field, fixChecksums, hasChecksums, type Layout, type Role, readField, type Span, writeField } from './formats/index.js';
import { type Rng, randomBytes } from './prng.js';

export interface SeedFile {
  /** Corpus-relative name, e.g. `audio/loop_amen.flac` or `generated/music.mp3`. */
  id: string;
  kind: 'audio' | 'video' | 'image';
  ext: string;
  bytes: Uint8Array;
  sha256: string;
  layout: Layout;
}

export type Params = Record<string, string | number | boolean | null>;

export interface Mutation {
  mutator: MutatorName;
  params: Params;
  bytes: Uint8Array;
}

interface Mutator {
  weight: number;
  applies(seed: SeedFile, corpus: readonly SeedFile[]): boolean;
  mutate(rng: Rng, seed: SeedFile, corpus: readonly SeedFile[]): { params: Params; bytes: Uint8Array };
}

/** No mutated input may grow past this: amplification is tested by counts, not by size. */
const MAX_OUTPUT_BYTES = 24 * 1024 * 1024;

const VALUE_ROLES: Role[] = ['count', 'duration', 'dimension', 'channels', 'rate', 'value'];

export const MUTATORS = {
  'bit-flip': {
    weight: 12,
    applies: (seed) => seed.bytes.byteLength > 0,
    mutate(rng, seed) {
      const bytes = seed.bytes.slice();
      const flips = rng.logInt(1, 64);
      // Headers decide how the rest is read: half the flips land in the first 4 KiB.
      const head = rng.chance(0.5);
      const limit = head ? Math.min(bytes.byteLength, 4096) : bytes.byteLength;
      let first = -1;
      const flipped = new Set<number>();
      for (let i = 0; i < flips; i++) {
        const bit = rng.below(limit * 8);
        if (flipped.has(bit)) continue; // a second flip would undo the first
        flipped.add(bit);
        if (first < 0) first = bit >> 3;
        bytes[bit >> 3] = bytes[bit >> 3]! ^ (1 << (bit & 7));
      }
      return { params: { flips, region: head ? 'first 4 KiB' : 'anywhere', firstOffset: first, ...repair(rng, seed, bytes) }, bytes };
    },
  },
  'byte-run': {
    weight: 9,
    applies: (seed) => seed.bytes.byteLength > 0,
    mutate(rng, seed) {
      const bytes = seed.bytes.slice();
      const span = seed.layout.spans.length > 0 && rng.chance(0.6) ? pickSpan(rng, seed.layout) : undefined;
      const at = span ? Math.min(bytes.byteLength - 1, span.start + rng.below(Math.max(1, span.body - span.start + 16))) : rng.below(bytes.byteLength);
      const length = Math.min(bytes.byteLength - at, rng.logInt(1, 8192));
      const fill = rng.pick(['zero', 'ff', 'random', 'byte'] as const);
      const run =
        fill === 'random'
          ? randomBytes(rng, length)
          : new Uint8Array(length).fill(fill === 'zero' ? 0 : fill === 'ff' ? 0xff : bytes[at]! ^ (1 + rng.below(255)));
      bytes.set(run, at);
      return { params: { at, length, fill, near: span ? span.name : null, ...repair(rng, seed, bytes) }, bytes };
    },
  },
  truncate: {
    weight: 7,
    applies: (seed) => seed.bytes.byteLength > 1,
    mutate(rng, seed) {
      const n = seed.bytes.byteLength;
      // Uniform over the file, or within its first bytes where headers are cut.
      const at = rng.chance(0.3) ? rng.below(Math.min(n, 512)) : rng.below(n);
      return { params: { at, of: n }, bytes: seed.bytes.slice(0, at) };
    },
  },
  'truncate-boundary': {
    weight: 9,
    applies: (seed) => seed.layout.spans.some((s) => s.start < seed.bytes.byteLength),
    mutate(rng, seed) {
      const n = seed.bytes.byteLength;
      const span = pickSpan(rng, seed.layout, (s) => s.start < n);
      const cuts = {
        start: span.start,
        'inside header': span.start + Math.floor((span.body - span.start) / 2),
        body: span.body,
        middle: span.body + Math.floor((span.end - span.body) / 2),
        'before end': Math.max(span.start, span.end - 1),
        end: span.end,
      };
      // A cut at the end of the file would leave it whole.
      const where = rng.pick((Object.keys(cuts) as Array<keyof typeof cuts>).filter((k) => cuts[k] < n));
      const at = cuts[where];
      return { params: { span: spanName(seed.layout, span), where, at, of: seed.bytes.byteLength }, bytes: seed.bytes.slice(0, at) };
    },
  },
  'size-lie': {
    weight: 16,
    applies: (seed) => seed.layout.fields.some((f) => f.role === 'size'),
    mutate(rng, seed) {
      const field = pickField(rng, seed.layout, ['size']);
      const bytes = seed.bytes.slice();
      const span = field.span === undefined ? undefined : seed.layout.spans[field.span];
      const lie = chooseValue(rng, field, readField(bytes, field), span ? BigInt(bytes.byteLength - span.body) : undefined);
      writeField(bytes, field, lie.value);
      return { params: fieldParams(field, lie, seed.bytes, bytes, rng, seed), bytes };
    },
  },
  'huge-value': {
    weight: 14,
    applies: (seed) => seed.layout.fields.some((f) => VALUE_ROLES.includes(f.role)),
    mutate(rng, seed) {
      const field = pickField(rng, seed.layout, VALUE_ROLES);
      const bytes = seed.bytes.slice();
      const lie = chooseValue(rng, field, readField(bytes, field), undefined, true, nearLimit(seed, field));
      writeField(bytes, field, lie.value);
      return { params: fieldParams(field, lie, seed.bytes, bytes, rng, seed), bytes };
    },
  },
  'huge-picture': {
    // Both sides at once, just under the pixel limits (100 MP for images, 4096×2304 for video):
    // past the header check, into the decoder and the resize buffers.
    weight: 5,
    applies: (seed) => picturePairs(seed.layout).length > 0,
    mutate(rng, seed) {
      const [width, height] = rng.pick(picturePairs(seed.layout));
      const [w, h] = rng.pick(PICTURE_SIZES);
      const bytes = seed.bytes.slice();
      for (const [f, v] of [
        [width, w],
        [height, h],
      ] as const) {
        // Sizes stored minus one, or in 16.16 fixed point, are written so they read as the size.
        const stored = f.name.endsWith('minus_one') ? v - 1 : f.name.includes('tkhd') ? v * 65536 : v;
        writeField(bytes, f, BigInt(stored));
      }
      return {
        params: {
          width: width.name,
          height: height.name,
          size: `${w}x${h}`,
          written: `${readField(bytes, width)}x${readField(bytes, height)}`,
          ...repair(rng, seed, bytes),
        },
        bytes,
      };
    },
  },
  duplicate: {
    weight: 7,
    applies: (seed) => seed.layout.spans.some((s) => s.end > s.start),
    mutate(rng, seed) {
      const span = pickSpan(rng, seed.layout, (s) => s.end > s.start);
      const piece = seed.bytes.subarray(span.start, span.end);
      // One copy, or many of a small one (a thousand `trak`s, `IDAT`s, pages).
      const wanted = rng.chance(0.7) ? 1 : rng.logInt(2, 2000);
      const copies = Math.max(1, Math.min(wanted, Math.floor((MAX_OUTPUT_BYTES - seed.bytes.byteLength) / Math.max(1, piece.byteLength))));
      const at = rng.chance(0.7) ? span.end : rng.pick(seed.layout.spans).start;
      const inserted = new Uint8Array(piece.byteLength * copies);
      for (let i = 0; i < copies; i++) inserted.set(piece, i * piece.byteLength);
      const bytes = concat(seed.bytes.subarray(0, at), inserted, seed.bytes.subarray(at));
      const fixParents = at === span.end && rng.chance(0.5) && adjustParents(seed.layout, span, bytes, BigInt(inserted.byteLength));
      return { params: { span: spanName(seed.layout, span), length: piece.byteLength, copies, at, fixParents, ...repair(rng, seed, bytes) }, bytes };
    },
  },
  remove: {
    weight: 7,
    applies: (seed) => seed.layout.spans.some((s) => s.end > s.start),
    mutate(rng, seed) {
      const span = pickSpan(rng, seed.layout, (s) => s.end > s.start);
      const bytes = concat(seed.bytes.subarray(0, span.start), seed.bytes.subarray(span.end));
      const fixParents = rng.chance(0.5) && adjustParents(seed.layout, span, bytes, -BigInt(span.end - span.start));
      return {
        params: { span: spanName(seed.layout, span), start: span.start, length: span.end - span.start, fixParents, ...repair(rng, seed, bytes) },
        bytes,
      };
    },
  },
  splice: {
    weight: 6,
    applies: (seed, corpus) => corpus.length > 1 && seed.bytes.byteLength > 0,
    mutate(rng, seed, corpus) {
      const others = corpus.filter((s) => s.id !== seed.id);
      const same = others.filter((s) => s.layout.format === seed.layout.format);
      const other = same.length > 0 && rng.chance(0.6) ? rng.pick(same) : rng.pick(others);
      const cut = (s: SeedFile) => (s.layout.spans.length > 0 && rng.chance(0.7) ? boundary(rng, s.layout) : rng.below(s.bytes.byteLength + 1));
      const head = cut(seed);
      let tail = Math.max(cut(other), other.bytes.byteLength - (MAX_OUTPUT_BYTES - head));
      // Nothing cut from the file and nothing spliced in would leave it whole.
      if (head === seed.bytes.byteLength && tail === other.bytes.byteLength) tail = 0;
      const bytes = concat(seed.bytes.subarray(0, head), other.bytes.subarray(tail));
      return { params: { head, with: other.id, tail, ...repair(rng, seed, bytes) }, bytes };
    },
  },
  identity: {
    // The control: the unchanged file must be handled as the real media it is.
    weight: 2,
    applies: () => true,
    mutate: (_rng, seed) => ({ params: {}, bytes: seed.bytes.slice() }),
  },
} satisfies Record<string, Mutator>;

export type MutatorName = keyof typeof MUTATORS;
export const MUTATOR_NAMES = Object.keys(MUTATORS) as MutatorName[];

/** Picks a mutator that applies to the seed (among `allowed`) and runs it. */
export function mutate(rng: Rng, seed: SeedFile, corpus: readonly SeedFile[], allowed: readonly MutatorName[] = MUTATOR_NAMES): Mutation {
  const choices = allowed.filter((name) => MUTATORS[name].applies(seed, corpus)).map((name) => [name, MUTATORS[name].weight] as const);
  const mutator = choices.length > 0 ? rng.weighted(choices) : 'identity';
  const { params, bytes } = MUTATORS[mutator].mutate(rng, seed, corpus);
  return { mutator, params, bytes };
}

/** A span, picking its name first: every kind of box or chunk gets a chance, not just the numerous ones. */
function pickSpan(rng: Rng, layout: Layout, keep: (s: Span) => boolean = () => true): Span {
  const spans = layout.spans.filter(keep);
  const names = [...new Set(spans.map((s) => s.name))];
  const name = rng.pick(names);
  return rng.pick(spans.filter((s) => s.name === name));
}

function pickField(rng: Rng, layout: Layout, roles: readonly Role[]): Field {
  const fields = layout.fields.filter((f) => roles.includes(f.role));
  const present = roles.filter((r) => fields.some((f) => f.role === r));
  const role = rng.pick(present);
  return rng.pick(fields.filter((f) => f.role === role));
}

function boundary(rng: Rng, layout: Layout): number {
  const span = pickSpan(rng, layout);
  return rng.pick([span.start, span.body, span.end]);
}

function spanName(layout: Layout, span: Span): string {
  const names: string[] = [];
  for (let s: Span | undefined = span; s; s = s.parent === undefined ? undefined : layout.spans[s.parent]) names.unshift(s.name);
  return `${names.join('/')}@${span.start}`;
}

interface Lie {
  how: string;
  value: bigint;
}

/**
 * The value to write: the edges of the field's width, off-by-ones around the truth, and for size
 * fields the bytes actually left in the file and one more. Huge values lean on the maximum.
 */
const PICTURE_SIZES: ReadonlyArray<readonly [number, number]> = [
  [9999, 9999],
  [16383, 6000],
  [65535, 1525],
  [1525, 65535],
  [8192, 8192],
  [4096, 2304],
  [3000, 3000],
];

/** Width and height fields of one structure (IHDR, SOF, a sample entry, a WebP canvas, …). */
function picturePairs(layout: Layout): Array<[Field, Field]> {
  const byOwner = new Map<string, Field[]>();
  for (const f of layout.fields) {
    if (f.role !== 'dimension') continue;
    const owner = f.name.replace(/(pixel|display|canvas_|frame_)?(width|height)(_minus_one)?/i, '*');
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), f]);
  }
  const pairs: Array<[Field, Field]> = [];
  for (const fields of byOwner.values()) {
    const width = fields.find((f) => /width/i.test(f.name));
    const height = fields.find((f) => /height/i.test(f.name));
    if (width && height && width.bits >= 14 && height.bits >= 14) pairs.push([width, height]);
  }
  return pairs;
}

/**
 * A duration just under the engine's default limit (6 h), in the units of the rate beside it
 * (mvhd's timescale, STREAMINFO's sample rate): a lie that passes the limit check and is then
 * believed — output counts, buffers and loops sized from it.
 */
function nearLimit(seed: SeedFile, field: Field): bigint | undefined {
  if (field.role !== 'duration') return undefined;
  const owner = field.name.slice(0, field.name.lastIndexOf('.'));
  const rate = seed.layout.fields.find((f) => f.role === 'rate' && f.name.startsWith(`${owner}.`));
  const perSecond = rate ? readField(seed.bytes, rate) : 0n;
  return perSecond > 0n ? perSecond * BigInt(6 * 3600 - 60) : undefined;
}

function chooseValue(rng: Rng, field: Field, actual: bigint, remaining: bigint | undefined, huge = false, nearLimitValue?: bigint): Lie {
  const max = (1n << BigInt(field.bits)) - 1n;
  const options: Array<[string, bigint, number]> = [
    ['max', max, huge ? 6 : 4],
    ['max-1', max - 1n, 1],
    ['sign bit', 1n << BigInt(field.bits - 1), 2],
    ['sign bit - 1', (1n << BigInt(field.bits - 1)) - 1n, 2],
    ['zero', 0n, 3],
    ['one', 1n, 1],
    ['actual+1', actual + 1n, huge ? 1 : 3],
    ['actual-1', actual - 1n, huge ? 1 : 3],
    ['actual*2', actual * 2n, 2],
    ['actual*1000', actual * 1000n, huge ? 3 : 1],
    ['actual<<16', actual << 16n, huge ? 2 : 1],
    ['random', BigInt.asUintN(field.bits, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32())), 2],
    ['65535', 65535n, field.bits > 16 ? 1 : 0],
    ['2^31-1', 0x7fffffffn, field.bits > 31 ? 2 : 0],
    ['2^32-1', 0xffffffffn, field.bits > 32 ? 2 : 0],
  ];
  if (nearLimitValue !== undefined) options.push(['just under 6 h', nearLimitValue, 6]);
  if (remaining !== undefined) options.push(['remaining', remaining, 3], ['remaining+1', remaining + 1n, 3], ['remaining+8', remaining + 8n, 1]);
  // A "lie" equal to the truth would waste the case.
  const lies = options.filter(([, v, w]) => w > 0 && v >= 0n && v <= max && v !== actual);
  const [how, value] = rng.weighted(lies.map(([h, v, w]) => [[h, v] as const, w] as const));
  return { how, value };
}

function fieldParams(field: Field, lie: Lie, before: Uint8Array, after: Uint8Array, rng: Rng, seed: SeedFile): Params {
  return {
    field: field.name,
    offset: field.offset,
    bits: field.bits,
    was: readField(before, field).toString(),
    how: lie.how,
    now: lie.value.toString(),
    ...repair(rng, seed, after),
  };
}

/** With a checksummed format, recompute the checksums three times in four. */
function repair(rng: Rng, seed: SeedFile, bytes: Uint8Array): Params {
  if (!hasChecksums(seed.layout.format)) return {};
  if (!rng.chance(0.75)) return { checksumsFixed: false };
  const before = bytes.slice();
  fixChecksums(seed.layout.format, bytes);
  // Damage only to a checksum is undone by the repair: keep it damaged instead.
  if (equal(bytes, seed.bytes)) {
    bytes.set(before);
    return { checksumsFixed: false };
  }
  return { checksumsFixed: true };
}

/**
 * After inserting or removing bytes right after/at a span, moves its ancestors' size fields by
 * the same amount, so the containers stay consistent and the damage is what it looks like.
 * Field offsets before the change are still right: every ancestor's size field lies before it.
 */
function adjustParents(layout: Layout, span: Span, bytes: Uint8Array, delta: bigint): boolean {
  let changed = false;
  for (let p = span.parent === undefined ? undefined : layout.spans[span.parent]; p; p = p.parent === undefined ? undefined : layout.spans[p.parent]) {
    const field = p.size === undefined ? undefined : layout.fields[p.size];
    if (!field || field.offset >= span.start) continue;
    const value = readField(bytes, field);
    const max = (1n << BigInt(field.bits)) - 1n;
    if (value === max) continue; // "unknown" or "to the end": nothing to move
    writeField(bytes, field, value + delta < 0n ? 0n : value + delta);
    changed = true;
  }
  return changed;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
