/**
 * What a structure walker reports about a file: its spans (boxes, chunks, segments, pages,
 * frames — where each starts, where its body starts, where it ends) and the numeric fields worth
 * lying about (size fields, counts, durations, dimensions, channel counts, rates). Mutators work
 * on this description only, so one set of mutators serves every format.
 */

export type Role = 'size' | 'count' | 'duration' | 'dimension' | 'channels' | 'rate' | 'value';

export interface Field {
  /** Where it is, for people: `moov/trak/mdia/mdhd.duration`. */
  name: string;
  role: Role;
  /** First byte of the field. */
  offset: number;
  /** Width in bits (at most 64). */
  bits: number;
  /**
   * Bits to skip in the first byte: from its top for big-endian fields (FLAC, EBML vints), from
   * its bottom for little-endian ones (WebP VP8L). 0 for byte-aligned fields.
   */
  bit?: number;
  /** Little-endian: the value's lowest bit first. */
  le?: boolean;
  /** ID3v2 sizes: 7 value bits per byte, big-endian. */
  syncsafe?: boolean;
  /** For a size field: the span it measures. */
  span?: number;
}

export interface Span {
  name: string;
  start: number;
  /** Where the header ends and the payload (or the children) begin. */
  body: number;
  end: number;
  depth: number;
  parent?: number;
  /** The field stating this span's size, when it has one. */
  size?: number;
}

export interface Layout {
  format: string;
  spans: Span[];
  fields: Field[];
}

/** Bounds on what a walker records: a walk is plan-time work and must stay cheap on any file. */
export const MAX_SPANS = 20_000;
export const MAX_FIELDS = 20_000;

export class LayoutBuilder {
  readonly spans: Span[] = [];
  readonly fields: Field[] = [];

  constructor(
    readonly format: string,
    readonly bytes: Uint8Array,
  ) {}

  get full(): boolean {
    return this.spans.length >= MAX_SPANS || this.fields.length >= MAX_FIELDS;
  }

  /** Records a span (clamped to the file) and, when given, the field that states its size. */
  span(name: string, start: number, body: number, end: number, parent: number | undefined, size?: Omit<Field, 'role' | 'name' | 'span'>): number {
    const n = this.bytes.byteLength;
    const depth = parent === undefined ? 0 : (this.spans[parent]?.depth ?? 0) + 1;
    const index = this.spans.length;
    const span: Span = { name, start: Math.min(start, n), body: Math.min(body, n), end: Math.min(end, n), depth };
    if (parent !== undefined) span.parent = parent;
    if (this.spans.length < MAX_SPANS) this.spans.push(span);
    if (size) {
      const f = this.field(`${this.path(index)}.size`, 'size', size);
      if (f !== undefined) {
        span.size = f;
        this.fields[f]!.span = index;
      }
    }
    return index;
  }

  /** Records a field if it lies wholly inside the file; returns its index. */
  field(name: string, role: Role, at: Omit<Field, 'role' | 'name'>): number | undefined {
    const lastByte = at.offset + Math.ceil(((at.bit ?? 0) + at.bits) / 8);
    if (at.offset < 0 || lastByte > this.bytes.byteLength || this.fields.length >= MAX_FIELDS) return undefined;
    this.fields.push({ name, role, ...at });
    return this.fields.length - 1;
  }

  /** `moov/trak/mdia` for a span, from its ancestors' names. */
  path(index: number | undefined): string {
    const names: string[] = [];
    for (let i = index; i !== undefined; i = this.spans[i]?.parent) {
      const s = this.spans[i];
      if (!s) break;
      names.unshift(s.name);
    }
    return names.join('/');
  }

  done(): Layout {
    return { format: this.format, spans: this.spans, fields: this.fields };
  }
}

export function fourcc(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let i = at; i < at + 4 && i < bytes.byteLength; i++) {
    const c = bytes[i]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  }
  return s;
}

export function u16be(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
}

export function u24be(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) << 16) | ((b[at + 1] ?? 0) << 8) | (b[at + 2] ?? 0);
}

export function u32be(b: Uint8Array, at: number): number {
  return (((b[at] ?? 0) << 24) | ((b[at + 1] ?? 0) << 16) | ((b[at + 2] ?? 0) << 8) | (b[at + 3] ?? 0)) >>> 0;
}

export function u16le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

export function u32le(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

export function ascii(b: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** A field's value (bits beyond the file read as 0). */
export function readField(b: Uint8Array, f: Field): bigint {
  if (f.le) {
    let v = 0n;
    for (let i = f.bits - 1; i >= 0; i--) {
      const p = (f.bit ?? 0) + i;
      v = (v << 1n) | BigInt(((b[f.offset + (p >> 3)] ?? 0) >> (p & 7)) & 1);
    }
    return v;
  }
  if (f.syncsafe) {
    let v = 0n;
    for (let k = 0; k < f.bits / 7; k++) v = (v << 7n) | BigInt((b[f.offset + k] ?? 0) & 0x7f);
    return v;
  }
  let v = 0n;
  const first = f.offset * 8 + (f.bit ?? 0);
  for (let i = 0; i < f.bits; i++) {
    const p = first + i;
    v = (v << 1n) | BigInt(((b[p >> 3] ?? 0) >> (7 - (p & 7))) & 1);
  }
  return v;
}

/** Writes a value into a field, truncated to its width; bytes beyond the file are left alone. */
export function writeField(b: Uint8Array, f: Field, value: bigint): void {
  const v = value & ((1n << BigInt(f.bits)) - 1n);
  if (f.le) {
    for (let i = 0; i < f.bits; i++) {
      const p = (f.bit ?? 0) + i;
      const at = f.offset + (p >> 3);
      if (at >= b.byteLength) continue;
      const mask = 1 << (p & 7);
      b[at] = (v >> BigInt(i)) & 1n ? b[at]! | mask : b[at]! & ~mask;
    }
    return;
  }
  if (f.syncsafe) {
    const n = f.bits / 7;
    for (let k = 0; k < n; k++) if (f.offset + k < b.byteLength) b[f.offset + k] = Number((v >> BigInt(7 * (n - 1 - k))) & 0x7fn);
    return;
  }
  const first = f.offset * 8 + (f.bit ?? 0);
  for (let i = 0; i < f.bits; i++) {
    const p = first + i;
    if (p >> 3 >= b.byteLength) continue;
    const bit = Number((v >> BigInt(f.bits - 1 - i)) & 1n);
    const mask = 1 << (7 - (p & 7));
    b[p >> 3] = bit ? b[p >> 3]! | mask : b[p >> 3]! & ~mask;
  }
}
