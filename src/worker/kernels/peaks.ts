/**
 * Waveform peaks for players: the min and max sample of every pixel column, in the JSON format of
 * BBC audiowaveform (version 2), so existing waveform renderers (peaks.js, wavesurfer) read it.
 * The accumulator runs in the worker on decoded PCM chunks; its output grows with the number of
 * columns, never with the number of samples, and never past `maxColumns` (the caller's memory
 * bound: a header that understates the duration cannot get past it). Past it, columns are
 * counted, not kept, and the result says so: the caller refuses it with the limit's error.
 */

export class PeaksAccumulator {
  private readonly outChannels: number;
  private readonly min: Float64Array;
  private readonly max: Float64Array;
  private inColumn = 0;
  private columns = 0;
  /** Columns past `maxColumns`, counted and dropped. */
  private overflow = 0;
  private data: Int16Array;
  private readonly scale: number;
  private readonly lo: number;
  private readonly hi: number;

  constructor(
    private readonly channels: number,
    private readonly samplesPerPixel: number,
    bits: 8 | 16,
    private readonly split: boolean,
    private readonly maxColumns = Number.MAX_SAFE_INTEGER,
  ) {
    this.outChannels = split ? channels : 1;
    this.min = new Float64Array(this.outChannels).fill(Infinity);
    this.max = new Float64Array(this.outChannels).fill(-Infinity);
    this.data = new Int16Array(Math.min(1024, maxColumns) * 2 * this.outChannels);
    this.scale = bits === 8 ? 127 : 32767;
    this.lo = bits === 8 ? -128 : -32768;
    this.hi = bits === 8 ? 127 : 32767;
  }

  /** `frames` whole interleaved frames of `samples`. */
  push(samples: Float32Array, frames: number): void {
    const ch = this.channels;
    const spp = this.samplesPerPixel;
    const { min, max } = this;
    let i = 0;
    while (i < frames) {
      const end = Math.min(frames, i + spp - this.inColumn);
      if (this.split) {
        for (let c = 0; c < ch; c++) {
          let lo = min[c]!,
            hi = max[c]!;
          for (let f = i; f < end; f++) {
            const v = samples[f * ch + c]!;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
          min[c] = lo;
          max[c] = hi;
        }
      } else {
        // Channels are mixed to one by their mean, as audiowaveform does without --split-channels.
        let lo = min[0]!,
          hi = max[0]!;
        const inv = 1 / ch;
        for (let f = i; f < end; f++) {
          let v = 0;
          for (let c = 0; c < ch; c++) v += samples[f * ch + c]!;
          v *= inv;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        min[0] = lo;
        max[0] = hi;
      }
      this.inColumn += end - i;
      i = end;
      if (this.inColumn === spp) this.closeColumn();
    }
  }

  finish(): { data: Int16Array; length: number; channels: number; overflow: number } {
    if (this.inColumn > 0) this.closeColumn();
    const data = this.data.slice(0, this.columns * 2 * this.outChannels);
    return { data, length: this.columns, channels: this.outChannels, overflow: this.overflow };
  }

  private closeColumn(): void {
    const n = this.outChannels;
    if (this.columns >= this.maxColumns) {
      this.overflow++;
      this.resetColumn();
      return;
    }
    if ((this.columns + 1) * 2 * n > this.data.length) {
      const grown = new Int16Array(Math.min(this.data.length * 2, this.maxColumns * 2 * n));
      grown.set(this.data);
      this.data = grown;
    }
    const at = this.columns * 2 * n;
    for (let c = 0; c < n; c++) {
      this.data[at + 2 * c] = this.quantize(this.min[c]!, Math.floor);
      this.data[at + 2 * c + 1] = this.quantize(this.max[c]!, Math.ceil);
    }
    this.columns++;
    this.resetColumn();
  }

  private resetColumn(): void {
    this.min.fill(Infinity);
    this.max.fill(-Infinity);
    this.inColumn = 0;
  }

  // Rounding outward keeps a column's range covering every sample in it.
  private quantize(x: number, round: (v: number) => number): number {
    return Math.min(this.hi, Math.max(this.lo, round(x * this.scale)));
  }
}
