/** `sandcodec cover IN -o DIR [--sizes 640,300,64] [--format jpeg|png|webp]`: a cover-art set from one decode. */
import { OptionsError } from '../../errors.js';
import type { OutputFormat } from '../../model/image-spec.js';
import { COVER_SIZES } from '../../model/image-spec.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatBytes, shownPath } from '../format.js';
import { describeSet, maxPixelsFlag, targetFlags } from './resize.js';

export function parseSizes(value: unknown): number[] {
  if (value === undefined) return [...COVER_SIZES];
  const sizes = String(value)
    .split(',')
    .map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new OptionsError('--sizes', `must be a comma-separated list of pixel sizes, e.g. 640,300,64; got ${JSON.stringify(value)}`);
  }
  return sizes;
}

export async function coverCommand(ctx: CommandContext): Promise<void> {
  const input = ctx.positionals[0]!;
  const sizes = parseSizes(ctx.values.sizes);
  const format = (ctx.values.format as OutputFormat | undefined) ?? 'jpeg';
  // Square covers: each size is a width × height box filled by `cover` (a square source fills it exactly).
  const targets = sizes.map((size) => ({ ...targetFlags(ctx.values), width: size, height: size, format }));
  const engine = await ctx.engine();
  const result = await withProgress(ctx, 'cover', (progress) =>
    engine.imageSet({ path: input }, targets, {
      outputDir: ctx.values.output as string,
      ...maxPixelsFlag(ctx.values),
      signal: ctx.signal,
      ...callLimits(ctx),
      ...writeOptions(ctx),
      ...progress,
    }),
  );
  if (ctx.common.json) {
    printJson(ctx, result);
    return;
  }
  const { images, ...rest } = result;
  ctx.print(
    describeSet(
      rest,
      images.map((i) => `${shownPath(i.path!)} (${i.format} ${i.width}×${i.height}, ${formatBytes(i.size)})`),
    ),
  );
}
