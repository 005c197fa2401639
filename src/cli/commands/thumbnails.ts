/** `sandcodec thumbnails IN -o DIR [--every 10] [--sprite 10x10 --width 160]`: poster, images and storyboard. */
import { OptionsError } from '../../errors.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { shownPath } from '../format.js';
import { duration, integer } from '../values.js';

function grid(value: unknown): { columns: number; rows: number } {
  const m = /^(\d+)x(\d+)$/.exec(String(value));
  if (!m) throw new OptionsError('--sprite', `must be COLUMNSxROWS, e.g. 10x10, got ${JSON.stringify(value)}`);
  return { columns: Number(m[1]), rows: Number(m[2]) };
}

export async function thumbnailsCommand(ctx: CommandContext): Promise<void> {
  const input = ctx.positionals[0]!;
  const v = ctx.values;
  const sprite = {
    ...(v.sprite !== undefined ? grid(v.sprite) : {}),
    ...(v.width !== undefined ? { width: integer('--width', v.width as string) } : {}),
  };
  const engine = await ctx.engine();
  const result = await withProgress(ctx, 'thumbnails', (progress) =>
    engine.thumbnails(
      { path: input },
      {
        outputDir: v.output as string,
        ...(v.every !== undefined ? { every: duration('--every', v.every as string) } : {}),
        sprite,
        signal: ctx.signal,
        ...callLimits(ctx),
        ...writeOptions(ctx),
        ...progress,
      },
    ),
  );
  if (ctx.common.json) {
    printJson(ctx, { ...result, source: undefined });
    return;
  }
  const lines = [`thumbnails of ${input} → ${shownPath(result.outputDir)}`];
  if (result.poster) lines.push(`poster: ${shownPath(result.poster.path)} (${result.poster.width}x${result.poster.height} at ${result.poster.time} s)`);
  if (result.imageSize)
    lines.push(`images: ${result.images.length} at ${result.imageSize.width}x${result.imageSize.height}, one every ${result.images[1]?.time ?? '-'} s`);
  if (result.sprite) {
    const s = result.sprite;
    lines.push(
      `storyboard: ${s.count} thumbnails of ${s.width}x${s.height} on ${s.sheets.length} sheet(s) of ${s.columns}x${s.rows}, cues in ${shownPath(s.vtt)}`,
    );
  }
  ctx.print(lines.join('\n'));
}
