/**
 * `sandcodec resize IN -o OUT --width W [--height H] [--fit …] …`: one image, the format taken
 * from OUT's extension (.jpg .jpeg .png .webp) unless --format names it. IN and OUT may be `-`
 * (stdin, stdout; a piped output needs --format).
 */
import { OptionsError } from '../../errors.js';
import { type FitMode, OUTPUT_FORMATS, type OutputFormat, type ResizeKernel } from '../../model/image-spec.js';
import type { ImageTarget } from '../../ops/image.js';
import type { ImageSetResult } from '../../ops/image-call.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatBytes, formatSeconds, shownPath } from '../format.js';
import { inputFrom, toStdout, writeStdout } from '../pipes.js';

function int(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new OptionsError(`--${flag}`, `must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

/** The image options the shared flags set (validated by the engine, which names the option). */
export function targetFlags(values: CommandContext['values']): ImageTarget {
  const t: ImageTarget = {};
  if (values.fit !== undefined) t.fit = values.fit as FitMode;
  if (values.position !== undefined) t.position = values.position as string;
  if (values.kernel !== undefined) t.kernel = values.kernel as ResizeKernel;
  const quality = int('quality', values.quality);
  if (quality !== undefined) t.quality = quality;
  if (values.background !== undefined) t.background = values.background as string;
  if (values['no-enlarge']) t.withoutEnlargement = true;
  if (values['keep-metadata']) t.keepMetadata = true;
  if (values['linear-light']) t.linearLight = true;
  if (values['chroma-444']) t.chromaSubsampling = '4:4:4';
  if (values.progressive) t.progressive = true;
  if (values.lossless) t.lossless = true;
  const level = int('compression-level', values['compression-level']);
  if (level !== undefined) t.compressionLevel = level;
  return t;
}

/** `--max-pixels N` and `--shrink-on-load on|fast|off`: the job's options. */
export function maxPixelsFlag(values: CommandContext['values']): { maxPixels?: number; shrinkOnLoad?: boolean | 'fast' } {
  const maxPixels = int('max-pixels', values['max-pixels']);
  const shrink = values['shrink-on-load'];
  const modes: Record<string, boolean | 'fast'> = { on: true, fast: 'fast', off: false };
  if (shrink !== undefined && !(String(shrink) in modes)) throw new OptionsError('--shrink-on-load', `must be on, fast or off, got ${JSON.stringify(shrink)}`);
  return { ...(maxPixels === undefined ? {} : { maxPixels }), ...(shrink === undefined ? {} : { shrinkOnLoad: modes[String(shrink)]! }) };
}

export function describeSet(result: Omit<ImageSetResult, 'images'>, lines: string[]): string {
  const { source, timings } = result;
  return [
    ...lines,
    `  source    ${source.format} ${source.width}×${source.height}${source.orientation !== 1 ? ` (EXIF orientation ${source.orientation})` : ''}, ICC ${source.icc}`,
    `  decode    ${source.decoder}${result.lowres ? `, at 1/${1 << result.lowres} (shrink-on-load)` : ''}, ${formatSeconds(timings.decodeMs / 1000, 3)}`,
    `  elapsed   ${formatSeconds(result.elapsedMs / 1000, 3)} (resize ${formatSeconds(timings.resizeMs / 1000, 3)}, encode ${formatSeconds(timings.encodeMs / 1000, 3)})`,
  ].join('\n');
}

export async function resizeCommand(ctx: CommandContext): Promise<void> {
  const input = ctx.positionals[0]!;
  const output = ctx.values.output as string;
  const piped = toStdout(output);
  const format = ctx.values.format as string | undefined;
  if (format !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new OptionsError('--format', `must be one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  if (piped && format === undefined) throw new OptionsError('--format', 'is required when the output is stdout (-o -): there is no file name to take it from');
  const width = int('width', ctx.values.width);
  const height = int('height', ctx.values.height);
  if (width === undefined && height === undefined) throw new OptionsError('--width', 'is required (or --height)');
  const engine = await ctx.engine();
  const result = await withProgress(ctx, 'resize', (progress) =>
    engine.resize(inputFrom(input), {
      ...targetFlags(ctx.values),
      ...(format !== undefined ? { format: format as OutputFormat } : {}),
      ...(width !== undefined ? { width } : {}),
      ...(height !== undefined ? { height } : {}),
      ...maxPixelsFlag(ctx.values),
      ...(piped ? {} : { output, ...writeOptions(ctx) }),
      signal: ctx.signal,
      ...callLimits(ctx),
      ...progress,
    }),
  );
  if (piped) await writeStdout(result.bytes!);
  if (ctx.common.json) {
    printJson(ctx, result);
    return;
  }
  ctx.print(
    describeSet(result, [
      `${result.path ? shownPath(result.path) : 'stdout'} (${result.format} ${result.width}×${result.height}, ${formatBytes(result.size)})`,
    ]),
  );
}
