/**
 * `loudness`: the BS.1770-4 / EBU R128 measurement of a file, and the gated loudness of several
 * programmes together (an album), from the kernel's gating histograms.
 */
import type { LoudnessMeasure } from '../model/loudness.js';
import type { AnalysisData } from '../model/plan.js';

/** What `engine.loudness` returns. */
export type Loudness = LoudnessMeasure;

export type GatingHistogram = NonNullable<AnalysisData['loudness']>['gating'];

// Must match the kernel's histogram (assembly/loudness/index.ts).
const HIST_FLOOR = -70;
const BINS_PER_LU = 200;

const lufs = (energy: number) => -0.691 + 10 * Math.log10(energy);

/**
 * BS.1770-4 gating over the blocks of every histogram together: the -70 LUFS absolute gate is
 * already applied in the kernel, then the relative gate 10 LU under the mean of all blocks, as
 * the kernel does for one programme (the threshold bin is resolved by its mean block).
 */
export function gatedLoudness(histograms: readonly GatingHistogram[]): number | null {
  const counts = new Map<number, number>();
  const energies = new Map<number, number>();
  let n = 0;
  let e = 0;
  for (const h of histograms) {
    h.bins.forEach((bin, i) => {
      counts.set(bin, (counts.get(bin) ?? 0) + h.counts[i]!);
      energies.set(bin, (energies.get(bin) ?? 0) + h.energies[i]!);
      n += h.counts[i]!;
      e += h.energies[i]!;
    });
  }
  if (n === 0) return null;
  const threshold = lufs(e / n) - 10;
  const t = Math.floor((threshold - HIST_FLOOR) * BINS_PER_LU);
  let gn = 0;
  let ge = 0;
  for (const [bin, count] of counts) {
    const energy = energies.get(bin)!;
    if (bin > t || (bin === t && lufs(energy / count) > threshold)) {
      gn += count;
      ge += energy;
    }
  }
  return gn > 0 ? lufs(ge / gn) : null;
}
