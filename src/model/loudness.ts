/** Loudness results as every layer shares them: the kernel, the worker's data and `engine.loudness`. */

/**
 * One loudness measurement, the shape every layer shares (kernel, worker data, `engine.loudness`).
 * `null` means "not measurable": no gated block (silence, or under 400 ms of audio) for
 * `integrated`, no gated short-term value for `range`, no complete window for the maxima.
 * `-Infinity` means measured digital silence (`truePeak`, `samplePeak`).
 */
export interface LoudnessMeasure {
  /** Gated programme loudness, LUFS (BS.1770-4). */
  integrated: number | null;
  /** Loudness range, LU (EBU Tech 3342). */
  range: number | null;
  /** Highest 4× interpolated peak over all channels, dBTP (never below `samplePeak`). */
  truePeak: number;
  /** Highest |sample| over all channels, dBFS. */
  samplePeak: number;
  /** Highest 400 ms loudness, evaluated every sub-block (≤ 5 ms), LUFS. */
  momentaryMax: number | null;
  /** Highest 3 s loudness, evaluated every sub-block (≤ 5 ms), LUFS. */
  shortTermMax: number | null;
}
