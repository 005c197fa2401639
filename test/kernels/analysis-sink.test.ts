/**
 * The worker side of analyze plans, without FFmpeg: the sink that measures PCM as it is written
 * (writes cut anywhere, not on sample or frame boundaries) and the channel weights read from
 * FFmpeg's layout names.
 */
import { describe, expect, it } from 'vitest';
import { channelWeights } from '../../src/ops/channel-weights.js';
import { LoudnessMeter } from '../../src/worker/kernels/loudness.js';
import { PeaksAccumulator } from '../../src/worker/kernels/peaks.js';
import { AnalysisSink } from '../../src/worker/sinks/analysis.js';

function signal(frames: number, channels: number): Float32Array {
  const out = new Float32Array(frames * channels);
  let seed = 7;
  for (let i = 0; i < frames; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = (seed / 2 ** 32 - 0.5) * 0.2;
    for (let c = 0; c < channels; c++) out[i * channels + c] = 0.4 * Math.sin((i * (c + 1)) / 17) * Math.sin(i / 9000) + noise;
  }
  return out;
}

describe('AnalysisSink', () => {
  it('writes cut at odd byte counts measure exactly like whole frames pushed at once', async () => {
    const rate = 48000;
    const channels = 3;
    const pcm = signal(rate * 3 + 123, channels);
    const bytes = new Uint8Array(pcm.buffer);
    const spec = {
      sampleRate: rate,
      channels,
      weights: [1, 1, 1.41],
      peaks: { samplesPerPixel: 1000, bits: 16 as const, splitChannels: true, maxColumns: 1_000_000 },
    };
    const sink = await AnalysisSink.create(spec);
    // Cut sizes that are not multiples of 4 or of the 12-byte frame, some larger than the staging buffer.
    const cuts = [1, 3, 7, 5, 4097, 13, 12, 2, 99_999, 11, 300_001];
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const n = Math.min(cuts[i % cuts.length]!, bytes.length - at);
      // FFmpeg hands the sink views into the wasm heap at arbitrary offsets.
      const copy = new Uint8Array(n + 1).subarray(1);
      copy.set(bytes.subarray(at, at + n));
      expect(sink.write(copy, at)).toBe(n);
      at += n;
    }
    const got = sink.finish();

    const meter = await LoudnessMeter.create({ sampleRate: rate, channels, weights: [1, 1, 1.41] });
    meter.push(pcm);
    const want = meter.finish();
    const peaks = new PeaksAccumulator(channels, 1000, 16, true);
    peaks.push(pcm, pcm.length / channels);
    const wantPeaks = peaks.finish();

    expect(got.frames).toBe(pcm.length / channels);
    const { gating, ...loudness } = got.loudness!;
    expect(loudness).toEqual({
      integrated: want.integrated,
      range: want.range,
      truePeak: want.truePeak,
      samplePeak: want.samplePeak,
      momentaryMax: want.momentaryMax,
      shortTermMax: want.shortTermMax,
    });
    expect(gating.bins.length).toBeGreaterThan(0);
    expect(got.peaks!.length).toBe(Math.ceil(pcm.length / channels / 1000));
    expect(Array.from(got.peaks!.data)).toEqual(Array.from(wantPeaks.data));
  });

  it('a write that is not an append is refused (the raw muxer never seeks)', async () => {
    const sink = await AnalysisSink.create({ sampleRate: 8000, channels: 1, weights: [1] });
    sink.write(new Uint8Array(8), 0);
    expect(() => sink.write(new Uint8Array(4), 0)).toThrow(/expected 8/);
    expect(() => sink.truncate()).toThrow();
  });
});

describe('channelWeights', () => {
  it('reads FFmpeg layout names: LFE excluded, surrounds 1.41, 7.1 backs 1.0', () => {
    expect(channelWeights(1, 'mono')).toEqual([1]);
    expect(channelWeights(2, 'stereo')).toEqual([1, 1]);
    expect(channelWeights(6, '5.1')).toEqual([1, 1, 1, 0, 1.41, 1.41]);
    expect(channelWeights(6, '5.1(side)')).toEqual([1, 1, 1, 0, 1.41, 1.41]);
    expect(channelWeights(8, '7.1')).toEqual([1, 1, 1, 0, 1, 1, 1.41, 1.41]);
    expect(channelWeights(3, 'FL+FR+LFE')).toEqual([1, 1, 0]);
    expect(channelWeights(4, 'quad')).toEqual([1, 1, 1.41, 1.41]);
  });

  it('without a usable layout: defaults by count, else every channel 1', () => {
    expect(channelWeights(6, undefined)).toEqual([1, 1, 1, 0, 1.41, 1.41]);
    expect(channelWeights(5, 'unknown')).toEqual([1, 1, 1, 1.41, 1.41]);
    expect(channelWeights(4, undefined)).toEqual([1, 1, 1, 1]);
    // A layout whose channel count disagrees with the stream is not trusted.
    expect(channelWeights(2, '5.1')).toEqual([1, 1]);
  });
});
