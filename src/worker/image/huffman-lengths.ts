/**
 * Length-limited Huffman code lengths, shared by the JPEG (16 bits) and WebP lossless (15 and 7
 * bits) writers: the classic two-queue merge, with small counts raised to a floor that doubles
 * until no code is longer than the limit.
 */

/** Code lengths for `counts` (0 for an unused symbol), none longer than `limit`. */
export function codeLengths(counts: ArrayLike<number>, limit: number): Uint8Array {
  const n = counts.length;
  const lengths = new Uint8Array(n);
  const used: number[] = [];
  for (let i = 0; i < n; i++) if (counts[i]! > 0) used.push(i);
  if (used.length === 0) return lengths;
  if (used.length === 1) {
    lengths[used[0]!] = 1;
    return lengths;
  }
  for (let floor = 1; ; floor *= 2) {
    // Merge the two lightest nodes until one is left; depth of each leaf is its code length.
    const weight: number[] = [];
    const parent: number[] = [];
    const queue: number[] = [];
    for (const s of used) {
      weight.push(Math.max(counts[s]!, floor));
      parent.push(-1);
      queue.push(weight.length - 1);
    }
    queue.sort((a, b) => weight[a]! - weight[b]!);
    const merged: number[] = [];
    const take = (): number => {
      if (merged.length === 0 || (queue.length > 0 && weight[queue[0]!]! <= weight[merged[0]!]!)) return queue.shift()!;
      return merged.shift()!;
    };
    while (queue.length + merged.length > 1) {
      const a = take();
      const b = take();
      weight.push(weight[a]! + weight[b]!);
      parent.push(-1);
      parent[a] = parent[b] = weight.length - 1;
      merged.push(weight.length - 1);
    }
    let ok = true;
    used.forEach((s, leaf) => {
      let depth = 0;
      for (let node = leaf; parent[node]! >= 0; node = parent[node]!) depth++;
      lengths[s] = depth;
      if (depth > limit) ok = false;
    });
    if (ok) return lengths;
  }
}
