/** `probe`: what is in a file — container, duration, bitrate, and each stream's parameters. */

import type { MediaInput, ResolvedInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import * as v from '../call/validate.js';
import type { FFmpegPlan, JobLimits } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import type { ProbeResult } from '../model/probe-result.js';

export interface ProbeOptions {
  /** Also decode the first audio (else video) stream and report `decodedDuration`. */
  decode?: boolean;
}

export const PROBE_KEYS = ['decode'] as const;

export function resolveProbe(o: ProbeOptions): { decode: boolean } {
  return { decode: v.optional(o.decode, false, (x) => v.boolean('decode', x)) };
}

/**
 * Reading headers costs nothing whatever they claim, so a plain probe reports any duration; a
 * decoding probe is held to `maxDurationSeconds` like every operation that decodes.
 */
export async function probeCall(call: Call, media: MediaInput, o: { decode: boolean }): Promise<ProbeResult> {
  const input = await call.input(media);
  const probe = await call.probe(input, { limitDuration: o.decode });
  const plan = o.decode ? decodePlan(input, probe, call.jobLimits) : undefined;
  if (plan) {
    const decoded = await call.run(plan, call.tracker.phase('decode', probe.duration));
    probe.decodedDuration = decoded.mediaSeconds ?? 0;
    // The worker throttles its reports and may drop the last one: close the phase here.
    call.tracker.emit('decode', 1, probe.decodedDuration, undefined);
  }
  return probe;
}

/**
 * Decodes the first audio stream (or, without one, the first video stream) to nowhere, to learn
 * the duration a player would actually play — container headers can be wrong by hundreds of ms.
 */
export function decodePlan(input: ResolvedInput, probe: ProbeResult, limits: JobLimits): FFmpegPlan | undefined {
  const stream = probe.streams.find((s) => s.type === 'audio') ?? probe.streams.find((s) => s.type === 'video' && !s.attachedPicture);
  if (!stream) return undefined;
  const inPlan = planInput(input);
  return {
    op: 'ffmpeg',
    phase: 'decode',
    inputs: [inPlan],
    outputs: [],
    args: ['-i', jobPath(inPlan.name), '-map', `0:${stream.index}`, '-f', 'null', '-'],
    limits,
  };
}
