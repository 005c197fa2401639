/**
 * Trimming and fades of a transcode: which stretch of the source is encoded (`start`,
 * `duration`), and how its audio (and picture) fade in and out. Audio is cut on the sample the
 * times name: the decode runs from the start of the file and `atrim` counts samples, so a 30 s
 * preview is exactly 30 s of the source's samples whatever the container's seek index says.
 * Video outputs are re-encoded, so their cut is frame-accurate: the input is sought to the
 * keyframe before `start`, and FFmpeg decodes from there and drops what comes before `start`.
 */
import * as v from '../call/validate.js';
import { OptionsError } from '../errors.js';
import type { ProbeResult } from '../model/probe-result.js';

export interface EditOptions {
  /** Seconds into the source where the output starts (default 0). */
  start?: number;
  /** Seconds of the source the output holds (default: to the end). */
  duration?: number;
  /** Seconds of fade-in from silence (and from black, for video) at the output's start. */
  fadeIn?: number;
  /** Seconds of fade-out to silence (and to black) at the output's end. */
  fadeOut?: number;
}

export const EDIT_KEYS = ['start', 'duration', 'fadeIn', 'fadeOut'] as const;

export interface Edit {
  start: number;
  duration: number | undefined;
  fadeIn: number;
  fadeOut: number;
}

/** Longest stretch any of the times may name: a day, far past any limit an engine runs with. */
const MAX_SECONDS = 86_400;

/** The edit the options ask for, or undefined when they ask for none. */
export function resolveEdit(o: EditOptions): Edit | undefined {
  const start = v.optional(o.start, 0, (x) => v.number('start', x, 0, MAX_SECONDS));
  const duration = v.optional(o.duration, undefined, (x) => v.number('duration', x, 0, MAX_SECONDS, true));
  const fadeIn = v.optional(o.fadeIn, 0, (x) => v.number('fadeIn', x, 0, MAX_SECONDS));
  const fadeOut = v.optional(o.fadeOut, 0, (x) => v.number('fadeOut', x, 0, MAX_SECONDS));
  if (duration !== undefined && fadeIn + fadeOut > duration) {
    throw new OptionsError('fadeIn', `must fit with the fade-out in the duration: ${fadeIn} s in and ${fadeOut} s out in ${duration} s`);
  }
  if (start === 0 && duration === undefined && fadeIn === 0 && fadeOut === 0) return undefined;
  return { start, duration, fadeIn, fadeOut };
}

/** The stretch of `source` an edit encodes: where it starts, and how long it runs (null: not known). */
export interface Span {
  start: number;
  duration: number | null;
  /** The output ends before the source does (`duration` given and shorter than what is left). */
  cut: boolean;
}

/** The edit checked against the source it cuts: a start inside it, fades inside what is kept. */
export function editSpan(edit: Edit | undefined, source: ProbeResult): Span {
  if (!edit) return { start: 0, duration: source.duration, cut: false };
  const length = source.duration;
  if (length !== null && edit.start >= length) {
    throw new OptionsError('start', `is past the end of the input: ${edit.start} s into ${length.toFixed(3)} s`);
  }
  const left = length === null ? null : length - edit.start;
  const duration = edit.duration === undefined ? left : left === null ? edit.duration : Math.min(edit.duration, left);
  if (edit.fadeOut > 0 && duration === null) {
    throw new OptionsError('fadeOut', 'needs to know where the output ends: the input does not state its duration, so give a duration too');
  }
  if (duration !== null && edit.fadeIn + edit.fadeOut > duration + 1e-9) {
    throw new OptionsError('fadeIn', `must fit with the fade-out in the output: ${edit.fadeIn} s in and ${edit.fadeOut} s out in ${duration.toFixed(3)} s`);
  }
  return { start: edit.start, duration, cut: edit.duration !== undefined && (left === null || edit.duration < left) };
}

/** Seconds as FFmpeg reads them, to the microsecond it keeps. */
export function seconds(s: number): string {
  return s.toFixed(6);
}

/** The fades of an edit as `afade` filters (audio) or `fade` filters (video), timed from the output's start. */
export function fadeFilters(kind: 'afade' | 'fade', edit: Edit, span: Span): string[] {
  const filters: string[] = [];
  if (edit.fadeIn > 0) filters.push(`${kind}=t=in:st=0:d=${seconds(edit.fadeIn)}`);
  if (edit.fadeOut > 0) filters.push(`${kind}=t=out:st=${seconds(span.duration! - edit.fadeOut)}:d=${seconds(edit.fadeOut)}`);
  return filters;
}

/**
 * The audio filter of an audio-only transcode: the kept samples (counted at the source's rate,
 * when it states one) from a decode of the whole file, timestamps from zero, then the fades.
 */
export function audioEditFilter(edit: Edit | undefined, span: Span, sampleRate: number | undefined): string | undefined {
  if (!edit) return undefined;
  const filters: string[] = [];
  if (span.start > 0 || span.cut) {
    const trim =
      sampleRate !== undefined
        ? [
            `start_sample=${Math.round(span.start * sampleRate)}`,
            ...(span.cut ? [`end_sample=${Math.round(span.start * sampleRate) + Math.round(span.duration! * sampleRate)}`] : []),
          ]
        : [`start=${seconds(span.start)}`, ...(span.cut ? [`duration=${seconds(span.duration!)}`] : [])];
    filters.push(`atrim=${trim.join(':')}`, 'asetpts=PTS-STARTPTS');
  }
  filters.push(...fadeFilters('afade', edit, span));
  return filters.length ? filters.join(',') : undefined;
}
