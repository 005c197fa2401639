/**
 * `ladder` (and `transcode`, a ladder of one): one FFmpeg run decodes the source once and
 * encodes every rendition from the same decoded audio, each to its own output file.
 */

import type { ResolvedInput } from '../call/input.js';
import { UnsupportedError } from '../errors.js';
import type { FFmpegPlan, JobLimits, OutputSink } from '../model/plan.js';
import { type AudioPreset, encoderArgs } from '../model/presets.js';
import { type ProbeResult, primaryAudio } from '../model/probe-result.js';
import { planInput } from './probe.js';

export interface RenditionTarget {
  preset: AudioPreset;
  sink: OutputSink;
}

export function outputName(preset: AudioPreset, index: number): string {
  return `out${index}.${preset.extension}`;
}

export function ladderPlan(phase: string, input: ResolvedInput, probe: ProbeResult, targets: RenditionTarget[], limits: JobLimits): FFmpegPlan {
  const audio = primaryAudio(probe);
  if (!audio) throw new UnsupportedError(`the input has no audio stream (found: ${probe.streams.map((s) => s.type).join(', ') || 'nothing'})`);
  const inPlan = planInput(input);
  const args = ['-xerror', '-i', `/job/${inPlan.name}`];
  targets.forEach((t, i) => {
    args.push(
      '-map',
      `0:${audio.index}`,
      ...encoderArgs(t.preset, audio),
      '-map_metadata',
      '0',
      '-f',
      t.preset.format,
      ...(t.preset.format === 'ipod' ? ['-movflags', '+faststart'] : []),
      `/job/${outputName(t.preset, i)}`,
    );
  });
  return {
    op: 'ffmpeg',
    phase,
    inputs: [inPlan],
    outputs: targets.map((t, i) => ({ name: outputName(t.preset, i), sink: t.sink })),
    args,
    limits,
  };
}
