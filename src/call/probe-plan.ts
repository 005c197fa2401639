/** How a resolved input appears in a job (its name in the job directory), and the probe job. */
import type { JobLimits, PlanInput, ProbePlan } from '../model/plan.js';
import type { ResolvedInput } from './input.js';

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
