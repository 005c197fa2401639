/** `sandcodec loudness FILE [--json]`: EBU R128 / BS.1770-4 loudness of the first audio stream (FILE `-`: stdin). */
import type { Loudness } from '../../ops/loudness.js';
import { type CommandContext, callLimits, withProgress } from '../context.js';
import { formatLevel } from '../format.js';
import { inputFrom, inputLabel } from '../pipes.js';

/** The `--json` shape: exactly these keys, in this order (`-Infinity` prints as `null`). */
export function loudnessJson(m: Loudness): string {
  const { integrated, range, truePeak, samplePeak, momentaryMax, shortTermMax } = m;
  return JSON.stringify({ integrated, range, truePeak, samplePeak, momentaryMax, shortTermMax });
}

export function loudnessLines(m: Loudness, indent = '  '): string[] {
  return [
    `${indent}integrated      ${formatLevel(m.integrated, 'LUFS')}`,
    `${indent}range           ${formatLevel(m.range, 'LU')}`,
    `${indent}true peak       ${formatLevel(m.truePeak, 'dBTP')}`,
    `${indent}sample peak     ${formatLevel(m.samplePeak, 'dBFS')}`,
    `${indent}momentary max   ${formatLevel(m.momentaryMax, 'LUFS')}`,
    `${indent}short-term max  ${formatLevel(m.shortTermMax, 'LUFS')}`,
  ];
}

export async function loudnessCommand(ctx: CommandContext): Promise<void> {
  const input = ctx.positionals[0]!;
  const engine = await ctx.engine();
  const m = await withProgress(ctx, 'loudness', (progress) =>
    engine.loudness(inputFrom(input, 'FILE'), { signal: ctx.signal, ...callLimits(ctx), ...progress }),
  );
  if (ctx.common.json) {
    ctx.print(loudnessJson(m));
    return;
  }
  ctx.print([inputLabel(input), ...loudnessLines(m)].join('\n'));
}
