/** `probe`: what is in a file — container, duration, bitrate, and each stream's parameters. */

import type { ResolvedInput } from '../call/input.js';
import type { FFmpegPlan, JobLimits, PlanInput, ProbePlan } from '../model/plan.js';
import type { ProbeResult } from '../model/probe-result.js';

/**
 * Still-image extensions that make FFmpeg pick its `image2` sequence demuxer by name alone; the
 * content-sniffing `*_pipe` demuxers recognise these formats anyway, and report them better (no
 * made-up bitrate), so a file probes the same whether it came as a path or as bytes.
 */
const SNIFFED_IMAGE_EXTENSIONS = new Set(['jpg', 'jpeg', 'jpe', 'jfif', 'png', 'bmp', 'tif', 'tiff', 'webp']);

export function inputName(input: ResolvedInput, index = 0): string {
  return input.ext && !SNIFFED_IMAGE_EXTENSIONS.has(input.ext) ? `in${index}.${input.ext}` : `in${index}`;
}

export function planInput(input: ResolvedInput, index = 0): PlanInput {
  return { name: inputName(input, index), source: input.source };
}

export function probePlan(input: ResolvedInput, limits: JobLimits): ProbePlan {
  return { op: 'probe', phase: 'probe', inputs: [planInput(input)], outputs: [], limits };
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
    args: ['-xerror', '-i', `/job/${inPlan.name}`, '-map', `0:${stream.index}`, '-f', 'null', '-'],
    limits,
  };
}
