/**
 * `sandcodec transcode IN -o OUT [--preset NAME] [--codec … --bitrate … --start … --fade-in …]`:
 * one output, the preset implied by OUT's extension, its settings changed by the flags. IN and
 * OUT may be `-` (stdin, stdout; a piped output needs --preset).
 */
import { extname } from 'node:path';
import { OptionsError } from '../../errors.js';
import { AUDIO_CODECS, AUDIO_PRESET_NAMES, type AudioCodec, getPreset, PRESET_NAMES, type Preset } from '../../model/presets.js';
import type { ArtworkOptions } from '../../ops/artwork.js';
import type { PresetOption, PresetSettings } from '../../ops/custom-preset.js';
import type { EditOptions } from '../../ops/edit.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatBytes, formatDeviation, formatFactor, formatKbps, formatSeconds, shownPath } from '../format.js';
import { inputFrom, toStdout, writeStdout } from '../pipes.js';
import { bitrate, duration, integer, sampleRate } from '../values.js';

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
  '.mp4': 'mp4-h264-aac',
  '.m4v': 'mp4-h264-aac',
  '.webm': 'webm-vp9-opus',
});

/** What the command writes: `audio` (normalize) refuses the video presets. */
export type PresetKinds = 'any' | 'audio';

function known(flag: string, name: string, kinds: PresetKinds): Preset {
  const names = kinds === 'audio' ? AUDIO_PRESET_NAMES : PRESET_NAMES;
  const preset = getPreset(name);
  if (!preset || !names.includes(name)) {
    const what = preset ? `${name} is a video preset, and this command writes audio` : `unknown preset ${JSON.stringify(name)}`;
    throw new OptionsError(flag, `${what} (known: ${names.join(', ')})`);
  }
  return preset;
}

/** The extension a preset writes, after a --codec that changes an audio preset's container. */
function extensionOf(preset: Preset, codec: string | undefined): string {
  if (preset.kind === 'audio' && codec !== undefined && Object.hasOwn(AUDIO_CODECS, codec)) return AUDIO_CODECS[codec as AudioCodec].extension;
  return preset.extension;
}

export function presetFor(output: string, explicit: string | undefined, codec?: string, kinds: PresetKinds = 'any'): { preset: string; warning?: string } {
  if (toStdout(output)) {
    if (explicit === undefined) throw new OptionsError('--preset', 'is required when the output is stdout (-o -): there is no file name to take it from');
    return { preset: known('--preset', explicit, kinds).name };
  }
  const ext = extname(output).toLowerCase();
  if (explicit !== undefined) {
    const preset = known('--preset', explicit, kinds);
    const wanted = extensionOf(preset, codec);
    const warning =
      ext !== `.${wanted}`
        ? `preset ${preset.name}${codec ? ` with --codec ${codec}` : ''} writes .${wanted}, but the output is named ${ext || 'without an extension'}`
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
  const wanted = extensionOf(known('--preset', implied, kinds), codec);
  const warning = ext !== `.${wanted}` ? `--codec ${codec} writes .${wanted}, but the output is named ${ext}` : undefined;
  return { preset: implied, ...(warning ? { warning } : {}) };
}

/** The preset option: the name, or the name with the settings the flags change. */
export function presetOption(name: string, values: CommandContext['values']): PresetOption {
  const text = (flag: string) => values[flag] as string | undefined;
  const settings: Omit<PresetSettings, 'base'> = {
    ...(text('codec') !== undefined ? { codec: text('codec') as AudioCodec } : {}),
    ...(text('bitrate') !== undefined ? { bitrate: bitrate('--bitrate', text('bitrate')!) } : {}),
    ...(text('sample-rate') !== undefined ? { sampleRate: sampleRate('--sample-rate', text('sample-rate')!) } : {}),
    ...(text('channels') !== undefined ? { channels: integer('--channels', text('channels')!) } : {}),
    ...(text('video-bitrate') !== undefined ? { videoBitrate: bitrate('--video-bitrate', text('video-bitrate')!) } : {}),
    ...(text('size') !== undefined ? { size: integer('--size', text('size')!.replace(/p$/i, '')) } : {}),
  };
  return Object.keys(settings).length ? { base: name, ...settings } : name;
}

export function editOptions(values: CommandContext['values']): EditOptions {
  const text = (flag: string) => values[flag] as string | undefined;
  return {
    ...(text('start') !== undefined ? { start: duration('--start', text('start')!, 'zero allowed') } : {}),
    ...(text('duration') !== undefined ? { duration: duration('--duration', text('duration')!) } : {}),
    ...(text('fade-in') !== undefined ? { fadeIn: duration('--fade-in', text('fade-in')!, 'zero allowed') } : {}),
    ...(text('fade-out') !== undefined ? { fadeOut: duration('--fade-out', text('fade-out')!, 'zero allowed') } : {}),
  };
}

export async function transcodeCommand(ctx: CommandContext, warn: (text: string) => void): Promise<void> {
  const input = ctx.positionals[0]!;
  const output = ctx.values.output as string;
  const { preset, warning } = presetFor(output, ctx.values.preset as string | undefined, ctx.values.codec as string | undefined);
  const option = presetOption(preset, ctx.values);
  const edit = editOptions(ctx.values);
  const art = artworkOptions(ctx.values);
  if (warning && !ctx.common.json && !ctx.common.quiet) warn(`warning: ${warning}`);
  const source = inputFrom(input);
  const piped = toStdout(output);
  const engine = await ctx.engine();
  const result = await withProgress(ctx, preset, (progress) =>
    engine.transcode(source, {
      preset: option,
      ...edit,
      ...art,
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
  const named = getPreset(preset)!;
  const nominal = typeof option === 'object' && option.bitrate !== undefined ? option.bitrate : named.kind === 'audio' ? named.bitrate : undefined;
  const custom = result.custom
    ? ` with ${Object.entries(result.custom)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`
    : '';
  const picture = result.video?.width ? `, ${result.video.codec} ${result.video.width}x${result.video.height}` : '';
  const kept = result.start > 0 || (result.source.duration !== null && result.duration !== null && result.duration < result.source.duration - 0.001);
  ctx.print(
    [
      `${result.path ? shownPath(result.path) : 'stdout'} (${preset}${custom}, ${result.codec}${picture})`,
      `  size      ${formatBytes(result.size)} (${result.size} bytes)`,
      `  bitrate   ${formatKbps(result.bitrate)}${nominal && named.kind === 'audio' ? ` (nominal ${formatKbps(nominal)}, ${formatDeviation(result.bitrate, nominal)})` : ''}`,
      `  source    ${formatSeconds(result.source.duration)} of ${result.source.format}`,
      ...(kept ? [`  kept      ${formatSeconds(result.duration)} from ${formatSeconds(result.start, 3)}`] : []),
      ...(result.cover !== 'none' ? [`  cover     ${result.cover === 'given' ? 'the given picture' : "the source's"}`] : []),
      `  elapsed   ${formatSeconds(result.elapsedMs / 1000, 2)}, ${formatFactor(result.realtimeFactor)}`,
    ].join('\n'),
  );
}

/** The cover and tag options of --cover, --no-cover, --tag KEY=VALUE and --strip-tags. */
export function artworkOptions(values: CommandContext['values']): ArtworkOptions {
  const cover = values.cover as string | undefined;
  if (cover !== undefined && values['no-cover']) throw new OptionsError('--cover', 'and --no-cover cannot both be given');
  const tags: Record<string, string> = {};
  for (const entry of (values.tag as unknown as string[] | undefined) ?? []) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new OptionsError('--tag', `must be KEY=VALUE, got ${JSON.stringify(entry)}`);
    tags[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return {
    ...(cover !== undefined ? { cover: { path: cover } } : values['no-cover'] ? { cover: 'drop' as const } : {}),
    ...(Object.keys(tags).length ? { tags } : {}),
    ...(values['strip-tags'] ? { stripTags: true } : {}),
  };
}
