/** Seeded damage for real files: the same seed gives the same bytes, so a failure replays exactly. */

/** xorshift32: a deterministic stream of 32-bit numbers from a seed. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A copy of `bytes` with `count` single-bit flips at seeded positions. */
export function flipBits(bytes: Uint8Array, count: number, seed: number): Uint8Array {
  const next = xorshift(seed);
  const out = bytes.slice();
  for (let i = 0; i < count; i++) {
    const at = next() % out.length;
    out[at] = out[at]! ^ (1 << (next() % 8));
  }
  return out;
}

/** The bytes as a plan input source, shared with the worker without a copy. */
export function sharedSource(bytes: Uint8Array): { type: 'shared'; buffer: SharedArrayBuffer; byteLength: number } {
  const buffer = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(buffer).set(bytes);
  return { type: 'shared', buffer, byteLength: bytes.byteLength };
}
