/**
 * The output node of an analyze plan: FFmpeg writes interleaved f32 PCM to it, and every chunk is
 * measured as it arrives (loudness meter, waveform peaks) and dropped. FFmpeg's writes are not
 * aligned to samples or frames, so a partial frame waits in a small staging buffer for the next
 * write; memory stays at the staging buffer plus the meter, whatever the duration.
 */
import { InternalError } from '../../errors.js';
import type { AnalysisData, AnalysisSpec } from '../../model/plan.js';
import type { ByteSink } from '../ffmpeg/sandbox-fs.js';
import { LoudnessMeter } from '../kernels/loudness.js';
import { PeaksAccumulator } from '../kernels/peaks.js';

const STAGING_FRAMES = 8192;

export class AnalysisSink implements ByteSink {
  written = 0;
  private readonly frameBytes: number;
  private readonly staging: Uint8Array;
  private readonly samples: Float32Array;
  private staged = 0;

  static async create(spec: AnalysisSpec): Promise<AnalysisSink> {
    const meter = spec.weights ? await LoudnessMeter.create({ sampleRate: spec.sampleRate, channels: spec.channels, weights: spec.weights }) : undefined;
    const peaks = spec.peaks
      ? new PeaksAccumulator(spec.channels, spec.peaks.samplesPerPixel, spec.peaks.bits, spec.peaks.splitChannels, spec.peaks.maxColumns)
      : undefined;
    return new AnalysisSink(spec.channels, meter, peaks);
  }

  private constructor(
    private readonly channels: number,
    private readonly meter: LoudnessMeter | undefined,
    private readonly peaks: PeaksAccumulator | undefined,
  ) {
    this.frameBytes = channels * 4;
    this.staging = new Uint8Array(STAGING_FRAMES * this.frameBytes);
    this.samples = new Float32Array(this.staging.buffer);
  }

  write(data: Uint8Array, position: number): number {
    // The raw muxer only appends; a seek back would mean re-measuring bytes already counted.
    if (position !== this.written) throw new InternalError(`analysis sink: write at ${position}, expected ${this.written}`);
    let at = 0;
    while (at < data.byteLength) {
      const n = Math.min(data.byteLength - at, this.staging.byteLength - this.staged);
      this.staging.set(data.subarray(at, at + n), this.staged);
      this.staged += n;
      at += n;
      const frames = Math.floor(this.staged / this.frameBytes);
      if (frames > 0) {
        this.measure(frames);
        const used = frames * this.frameBytes;
        this.staging.copyWithin(0, used, this.staged);
        this.staged -= used;
      }
    }
    this.written += data.byteLength;
    return data.byteLength;
  }

  read(): number {
    return 0;
  }

  truncate(): void {
    if (this.written > 0) throw new InternalError('analysis sink: truncated after PCM was measured');
  }

  close(): void {}

  /** The measurements; a dangling partial frame (a cut-off write) is dropped. */
  finish(): AnalysisData {
    const result: AnalysisData = { frames: Math.floor(this.written / this.frameBytes) };
    if (this.meter) {
      const m = this.meter.finish();
      result.loudness = {
        integrated: m.integrated,
        range: m.range,
        truePeak: m.truePeak,
        samplePeak: m.samplePeak,
        momentaryMax: m.momentaryMax,
        shortTermMax: m.shortTermMax,
        gating: this.meter.gatingHistogram(),
      };
    }
    if (this.peaks) result.peaks = this.peaks.finish();
    return result;
  }

  private measure(frames: number): void {
    const view = frames * this.channels === this.samples.length ? this.samples : this.samples.subarray(0, frames * this.channels);
    this.meter?.push(view);
    this.peaks?.push(view, frames);
  }
}
