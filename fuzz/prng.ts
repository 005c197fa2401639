/**
 * A seeded PRNG (sfc32, seeded through splitmix32) so every case is a pure function of the run's
 * seed and its own index: a case replays alone, in any order, on any machine.
 */

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seeds: Array<number | string>) {
    let h = 0x9e3779b9;
    for (const s of seeds) h = mix(h ^ (typeof s === 'number' ? s >>> 0 : hashString(s)));
    let x = h;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix(x);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** 32 random bits as an unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    if (!(n >= 1)) throw new RangeError(`below(${n})`);
    return Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)] as T;
  }

  /** Picks by weight; entries of weight 0 are never picked. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((n, [, w]) => n + w, 0);
    let r = this.float() * total;
    for (const [item, w] of items) {
      if (r < w) return item;
      r -= w;
    }
    const last = items.findLast(([, w]) => w > 0);
    if (!last) throw new RangeError('weighted pick with no positive weight');
    return last[0];
  }

  /** Small numbers more often than large ones: uniform over the exponent, then over the mantissa. */
  logInt(lo: number, hi: number): number {
    const span = Math.max(1, hi - lo + 1);
    return Math.min(hi, lo + Math.floor(Math.exp(this.float() * Math.log(span))) - 1);
  }
}

function mix(x: number): number {
  let z = x >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Deterministic filler bytes for overwritten runs and spliced junk. */
export function randomBytes(rng: Rng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 4) {
    const v = rng.u32();
    for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
  }
  return out;
}
