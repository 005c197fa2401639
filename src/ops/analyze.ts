/**
 * `analyze`: one decode of the first audio stream to f32 PCM, measured in the worker as FFmpeg
 * writes it (see ffmpeg/analysis-sink.ts) — loudness, waveform peaks, or both from the same pass.
 */

import type { ResolvedInput } from '../call/input.js';
import { InternalError, LimitError, UnsupportedError } from '../errors.js';
import type { AnalysisData, AnalyzePlan, JobLimits, JobResult, Plan, WorkerEvent } from '../model/plan.js';
import { type ProbeResult, primaryAudio, type StreamInfo } from '../model/probe-result.js';
import type { Limits } from '../options.js';
import type { ProgressTracker } from '../progress.js';
import { channelWeights } from './channel-weights.js';
import type { Loudness } from './loudness.js';
import { type ResolvedPeaks, samplesPerPixel, toWaveform, type Waveform } from './peaks.js';
import { planInput } from './probe.js';

/** What an engine call hands the operation modules: its job runner, bound to the call. */
export interface CallJobs {
  limits: Limits;
  jobLimits: JobLimits;
  probe(input: ResolvedInput): Promise<ProbeResult>;
  run(plan: Plan, onStats?: ReturnType<ProgressTracker['phase']>): Promise<JobResult>;
  tracker: ProgressTracker;
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

export function analyzePlan(input: ResolvedInput, audio: StreamInfo, want: { loudness: boolean; peaks?: ResolvedPeaks }, limits: JobLimits): AnalyzePlan {
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
      '-xerror',
      '-i',
      `/job/${inPlan.name}`,
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
      '/job/pcm',
    ],
    analysis: {
      sampleRate,
      channels,
      ...(want.loudness ? { weights: channelWeights(channels, audio.channelLayout) } : {}),
      ...(peaks ? { peaks: { samplesPerPixel: samplesPerPixel(peaks, sampleRate), bits: peaks.bits, splitChannels: peaks.splitChannels } } : {}),
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
export function spanHandler(jobs: CallJobs, span: ProgressSpan, duration: number | null): (event: WorkerEvent) => void {
  return (event) => {
    if (event.type !== 'stats') return;
    const fraction = duration && duration > 0 ? Math.min(1, event.seconds / duration) : 0;
    jobs.tracker.emit(span.phase, span.from + (span.to - span.from) * fraction, event.seconds, event.speed);
  };
}

/** Probes, then measures in one decode pass. */
export async function analyzeInput(
  jobs: CallJobs,
  input: ResolvedInput,
  want: { loudness: boolean; peaks?: ResolvedPeaks },
  span: ProgressSpan = { phase: 'analyze', from: 0, to: 1 },
): Promise<DetailedAnalysis> {
  const source = await jobs.probe(input);
  const audio = primaryAudio(source);
  if (!audio) throw new UnsupportedError(`the input has no audio stream (found: ${source.streams.map((s) => s.type).join(', ') || 'nothing'})`);
  if (source.duration !== null && source.duration > jobs.limits.maxDurationSeconds) {
    throw new LimitError(
      'maxDurationSeconds',
      `the input plays ${source.duration.toFixed(1)} s, longer than maxDurationSeconds (${jobs.limits.maxDurationSeconds} s)`,
      {
        max: jobs.limits.maxDurationSeconds,
        actual: source.duration,
      },
    );
  }
  const plan = analyzePlan(input, audio, want, jobs.jobLimits);
  const result = await jobs.run(plan, spanHandler(jobs, span, source.duration));
  const data = result.analysis;
  if (!data) throw new InternalError('analyze: the worker returned no measurement');
  const { sampleRate, channels } = plan.analysis;
  const out: DetailedAnalysis = { source, duration: data.frames / sampleRate, sampleRate, channels };
  // The worker throttles its reports and may drop the last one: close the span here.
  jobs.tracker.emit(span.phase, span.to, out.duration, undefined);
  if (data.loudness) {
    const { gating, ...loudness } = data.loudness;
    out.loudness = loudness;
    out.gating = gating;
  }
  if (data.peaks && plan.analysis.peaks) {
    out.peaks = toWaveform(data.peaks, sampleRate, plan.analysis.peaks.samplesPerPixel, plan.analysis.peaks.bits);
  }
  return out;
}

/** The public part of an analysis. */
export function publicAnalysis(a: DetailedAnalysis): AnalysisResult {
  const { loudness, peaks, duration, sampleRate, channels } = a;
  return { ...(loudness ? { loudness } : {}), ...(peaks ? { peaks } : {}), duration, sampleRate, channels };
}
