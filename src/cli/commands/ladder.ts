/** `sandcodec ladder IN -o DIR --presets a,b,c`: every rendition from one decode of the source. */
import { basename, extname } from 'node:path';
import { getAudioPreset } from '../../model/presets.js';
import type { LadderResult } from '../../ops/ladder.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatBytes, formatDeviation, formatFactor, formatKbps, formatSeconds, table } from '../format.js';
import { list } from '../values.js';
import { artworkOptions } from './transcode.js';

export async function ladderCommand(ctx: CommandContext): Promise<void> {
  const input = ctx.positionals[0]!;
  const presets = list('--presets', ctx.values.presets as string);
  const engine = await ctx.engine();
  const result = await withProgress(ctx, 'ladder', (progress) =>
    engine.ladder({ path: input }, presets, {
      outputDir: ctx.values.output as string,
      ...artworkOptions(ctx.values),
      signal: ctx.signal,
      ...callLimits(ctx),
      ...writeOptions(ctx),
      ...progress,
    }),
  );
  if (ctx.common.json) printJson(ctx, result);
  else ctx.print(ladderReport(basename(input, extname(input)), result));
}

/** One row per rendition, plus decoded durations when the caller measured them. */
export function renditionTable(result: LadderResult, decoded?: (number | undefined)[]): string {
  const columns = [
    { header: 'preset' },
    { header: 'codec' },
    { header: 'file' },
    { header: 'size', align: 'right' as const },
    { header: 'bitrate', align: 'right' as const },
    { header: 'nominal', align: 'right' as const },
    { header: 'vs nominal', align: 'right' as const },
    ...(decoded ? [{ header: 'decoded', align: 'right' as const }] : []),
  ];
  const rows = result.renditions.map((r, i) => {
    const nominal = getAudioPreset(r.preset)?.bitrate;
    return [
      r.preset,
      r.codec,
      r.path ? basename(r.path) : '-',
      formatBytes(r.size),
      formatKbps(r.bitrate),
      nominal ? formatKbps(nominal) : 'lossless',
      formatDeviation(r.bitrate, nominal),
      ...(decoded ? [formatSeconds(decoded[i])] : []),
    ];
  });
  return table(columns, rows);
}

export function ladderSummary(result: LadderResult): string {
  const n = result.renditions.length;
  return `${n} rendition${n === 1 ? '' : 's'} of ${formatSeconds(result.source.duration, 2)} in ${formatSeconds(result.elapsedMs / 1000, 2)} (${formatFactor(result.realtimeFactor)})`;
}

function ladderReport(name: string, result: LadderResult): string {
  return [`ladder of ${name}`, '', renditionTable(result), '', ladderSummary(result)].join('\n');
}
