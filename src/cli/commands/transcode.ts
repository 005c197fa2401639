/**
 * `sandcodec transcode IN -o OUT [--preset NAME]`: one rendition, the preset implied by OUT's
 * extension. IN and OUT may be `-` (stdin, stdout; a piped output needs --preset).
 */
import { extname } from 'node:path';
import { OptionsError } from '../../errors.js';
import { AUDIO_PRESET_NAMES, getAudioPreset } from '../../model/presets.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatBytes, formatDeviation, formatFactor, formatKbps, formatSeconds, shownPath } from '../format.js';
import { inputFrom, toStdout, writeStdout } from '../pipes.js';

/**
 * The preset a file name implies. `.aac` is left out on purpose: the AAC presets write MP4
 * (`.m4a`), and raw ADTS under an `.aac` name would be a different format from what it says.
 */
export const PRESET_BY_EXTENSION: Readonly<Record<string, string>> = Object.freeze({
  '.ogg': 'vorbis-160',
  '.oga': 'vorbis-160',
  '.opus': 'opus-160',
  '.m4a': 'aac-256',
  '.mp3': 'mp3-320',
  '.flac': 'flac',
  '.wav': 'wav',
});

export function presetFor(output: string, explicit: string | undefined): { preset: string; warning?: string } {
  if (toStdout(output)) {
    if (explicit === undefined) throw new OptionsError('--preset', 'is required when the output is stdout (-o -): there is no file name to take it from');
    const preset = getAudioPreset(explicit);
    if (!preset) throw new OptionsError('--preset', `unknown preset ${JSON.stringify(explicit)} (known: ${AUDIO_PRESET_NAMES.join(', ')})`);
    return { preset: preset.name };
  }
  const ext = extname(output).toLowerCase();
  if (explicit !== undefined) {
    const preset = getAudioPreset(explicit);
    if (!preset) throw new OptionsError('--preset', `unknown preset ${JSON.stringify(explicit)} (known: ${AUDIO_PRESET_NAMES.join(', ')})`);
    const warning =
      ext !== `.${preset.extension}`
        ? `preset ${preset.name} writes .${preset.extension} (${preset.format}), but the output is named ${ext || 'without an extension'}`
        : undefined;
    return { preset: preset.name, ...(warning ? { warning } : {}) };
  }
  const implied = PRESET_BY_EXTENSION[ext];
  if (!implied) {
    throw new OptionsError(
      '--preset',
      `cannot tell the preset from ${JSON.stringify(ext || output)}: name the output .${Object.keys(PRESET_BY_EXTENSION)
        .map((e) => e.slice(1))
        .join(', .')} or pass --preset`,
    );
  }
  return { preset: implied };
}

export async function transcodeCommand(ctx: CommandContext, warn: (text: string) => void): Promise<void> {
  const input = ctx.positionals[0]!;
  const output = ctx.values.output as string;
  const { preset, warning } = presetFor(output, ctx.values.preset as string | undefined);
  if (warning && !ctx.common.json && !ctx.common.quiet) warn(`warning: ${warning}`);
  const source = inputFrom(input);
  const piped = toStdout(output);
  const engine = await ctx.engine();
  const result = await withProgress(ctx, preset, (progress) =>
    engine.transcode(source, { preset, ...(piped ? {} : { output, ...writeOptions(ctx) }), signal: ctx.signal, ...callLimits(ctx), ...progress }),
  );
  if (piped) await writeStdout(result.bytes!);
  if (ctx.common.json) {
    printJson(ctx, result);
    return;
  }
  const nominal = getAudioPreset(preset)!.bitrate;
  ctx.print(
    [
      `${result.path ? shownPath(result.path) : 'stdout'} (${preset}, ${result.codec})`,
      `  size      ${formatBytes(result.size)} (${result.size} bytes)`,
      `  bitrate   ${formatKbps(result.bitrate)}${nominal ? ` (nominal ${formatKbps(nominal)}, ${formatDeviation(result.bitrate, nominal)})` : ''}`,
      `  source    ${formatSeconds(result.source.duration)} of ${result.source.format}`,
      `  elapsed   ${formatSeconds(result.elapsedMs / 1000, 2)}, ${formatFactor(result.realtimeFactor)}`,
    ].join('\n'),
  );
}
