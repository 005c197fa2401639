/**
 * `analyze`: one decode of the first audio stream to f32 PCM, measured in the worker as FFmpeg
 * writes it (see ffmpeg/analysis-sink.ts) — loudness, waveform peaks, or both from the same pass.
 */

import type { MediaInput, ResolvedInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import * as v from '../call/validate.js';
import { AbortedError, InternalError, LimitError, OptionsError, UnsupportedError } from '../errors.js';
import type { AnalysisData, AnalyzePlan, JobLimits, WorkerEvent } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import { type ProbeResult, primaryAudio, type StreamInfo } from '../model/probe-result.js';
import { channelWeights } from './channel-weights.js';
import type { Loudness } from './loudness.js';
import { type PeaksOptions, type ResolvedPeaks, resolvePeaks, samplesPerPixel, toWaveform, type Waveform } from './peaks.js';

export interface AnalyzeOptions {
  /** Measure loudness (default true). */
  loudness?: boolean;
  /** Also compute waveform peaks, from the same decode. */
  peaks?: PeaksOptions;
}

export const ANALYZE_KEYS = ['loudness', 'peaks'] as const;

export interface ResolvedAnalyze {
  loudness: boolean;
  peaks?: ResolvedPeaks;
}

export function resolveAnalyze(o: AnalyzeOptions): ResolvedAnalyze {
  const loudness = v.optional(o.loudness, true, (x) => v.boolean('loudness', x));
  const peaks = o.peaks === undefined ? undefined : resolvePeaks(o.peaks);
  if (!loudness && !peaks) throw new OptionsError('loudness', 'is false and no peaks were asked: nothing to measure');
  return { loudness, ...(peaks ? { peaks } : {}) };
}

/** `analyze`, `loudness` and `peaks`: one measurement of one input. */
export async function analyzeCall(call: Call, media: MediaInput, want: ResolvedAnalyze): Promise<AnalysisResult> {
  const result = await analyzeInput(call, await call.input(media), want);
  // A measurement has no side effects: an abort raised by its last progress event still counts.
  if (call.signal.aborted) throw new AbortedError();
  return publicAnalysis(result);
}

export interface AnalysisResult {
  /** Present unless `loudness: false` was asked. */
  loudness?: Loudness;
  /** Present when `peaks` was asked. */
  peaks?: Waveform;
  /** Seconds of audio decoded and measured. */
  duration: number;
  sampleRate: number;
  channels: number;
}

/** An analysis with what album gating needs; not part of the public result. */
export interface DetailedAnalysis extends AnalysisResult {
  source: ProbeResult;
  gating?: NonNullable<AnalysisData['loudness']>['gating'];
}

// The loudness kernel's limits; rarer rates are resampled into its range for the measurement.
const MIN_RATE = 8000;
const MAX_RATE = 384000;
const MAX_CHANNELS = 8;

export function analyzePlan(input: ResolvedInput, audio: StreamInfo, want: ResolvedAnalyze, limits: JobLimits): AnalyzePlan {
  const channels = audio.channels;
  if (!channels) throw new UnsupportedError('the audio stream does not state its channel count');
  if (want.loudness && channels > MAX_CHANNELS) throw new UnsupportedError(`loudness supports up to ${MAX_CHANNELS} channels, the input has ${channels}`);
  const sampleRate = Math.min(MAX_RATE, Math.max(MIN_RATE, audio.sampleRate ?? 48000));
  const inPlan = planInput(input);
  const peaks = want.peaks;
  return {
    op: 'analyze',
    phase: 'analyze',
    inputs: [inPlan],
    outputs: [{ name: 'pcm', sink: { type: 'analysis' } }],
    // -ar/-ac pin the PCM to what the worker's meter was created for, whatever the decoder does.
    args: [
      '-i',
      jobPath(inPlan.name),
      '-map',
      `0:${audio.index}`,
      '-c:a',
      'pcm_f32le',
      '-ar',
      String(sampleRate),
      '-ac',
      String(channels),
      '-f',
      'f32le',
      jobPath('pcm'),
    ],
    analysis: {
      sampleRate,
      channels,
      ...(want.loudness ? { weights: channelWeights(channels, audio.channelLayout) } : {}),
      ...(peaks
        ? {
            peaks: {
              samplesPerPixel: samplesPerPixel(peaks, sampleRate),
              bits: peaks.bits,
              splitChannels: peaks.splitChannels,
              maxColumns: Math.floor(limits.maxReturnedBytes / (PEAK_VALUE_BYTES * 2 * (peaks.splitChannels ? channels : 1))),
            },
          }
        : {}),
    },
    limits,
  };
}

/** Where one job's progress falls within the call's 0..1 (a call may run several jobs). */
export interface ProgressSpan {
  phase: string;
  from: number;
  to: number;
}

/** The event handler mapping one job's media time onto `span` of the call's progress. */
export function spanHandler(call: Call, span: ProgressSpan, duration: number | null): (event: WorkerEvent) => void {
  return (event) => {
    if (event.type !== 'stats') return;
    const fraction = duration && duration > 0 ? Math.min(1, event.seconds / duration) : 0;
    call.tracker.emit(span.phase, span.from + (span.to - span.from) * fraction, event.seconds, event.speed);
  };
}

/** Bytes one peaks value costs the caller: a number in the returned `data` array. */
const PEAK_VALUE_BYTES = 8;

/** Probes, then measures in one decode pass. */
export async function analyzeInput(
  call: Call,
  input: ResolvedInput,
  want: ResolvedAnalyze,
  span: ProgressSpan = { phase: 'analyze', from: 0, to: 1 },
): Promise<DetailedAnalysis> {
  const source = await call.probe(input);
  const audio = primaryAudio(source);
  if (!audio) throw new UnsupportedError(`the input has no audio stream (found: ${source.streams.map((s) => s.type).join(', ') || 'nothing'})`);
  const plan = analyzePlan(input, audio, want, call.jobLimits);
  const peaks = plan.analysis.peaks;
  if (peaks && source.duration !== null) {
    // Refused up front when the stated duration already needs more columns than the limit allows;
    // the worker holds the same bound while it measures, whatever the header said.
    const columns = Math.ceil((source.duration * plan.analysis.sampleRate) / peaks.samplesPerPixel);
    if (columns > peaks.maxColumns) throw peaksLimit(call, columns, peaks.maxColumns);
  }
  const result = await call.run(plan, spanHandler(call, span, source.duration));
  const data = result.analysis;
  if (!data) throw new InternalError('analyze: the worker returned no measurement');
  const { sampleRate, channels } = plan.analysis;
  const out: DetailedAnalysis = { source, duration: data.frames / sampleRate, sampleRate, channels };
  // The worker throttles its reports and may drop the last one: close the span here.
  call.tracker.emit(span.phase, span.to, out.duration, undefined);
  if (data.loudness) {
    const { gating, ...loudness } = data.loudness;
    out.loudness = loudness;
    out.gating = gating;
  }
  if (data.peaks && peaks) {
    if (data.peaks.overflow > 0) throw peaksLimit(call, data.peaks.length + data.peaks.overflow, peaks.maxColumns);
    out.peaks = toWaveform(data.peaks, sampleRate, peaks.samplesPerPixel, peaks.bits);
  }
  return out;
}

function peaksLimit(call: Call, columns: number, max: number): LimitError {
  return new LimitError(
    'maxReturnedBytes',
    `the waveform would have ${columns} columns, more than maxReturnedBytes (${call.limits.maxReturnedBytes} bytes) allows (${max}): ask for fewer pixels per second`,
    { max: call.limits.maxReturnedBytes },
  );
}

/** The public part of an analysis. */
export function publicAnalysis(a: DetailedAnalysis): AnalysisResult {
  const { loudness, peaks, duration, sampleRate, channels } = a;
  return { ...(loudness ? { loudness } : {}), ...(peaks ? { peaks } : {}), duration, sampleRate, channels };
}
