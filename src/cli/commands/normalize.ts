/**
 * `sandcodec normalize IN -o OUT [--target -14] [--true-peak -1] [--policy gain|limit] [--preset P]`
 * and `sandcodec normalize --album A B C … -o DIR`: one gain for the whole set.
 */
import { basename, extname, join } from 'node:path';
import { OptionsError } from '../../errors.js';
import { getAudioPreset } from '../../model/presets.js';
import type { NormalizeOptions, NormalizePolicy, NormalizeResult } from '../../ops/normalize.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatBytes, formatGain, formatLevel, shownPath } from '../format.js';
import { finite } from '../values.js';
import { presetFor } from './transcode.js';

function levelOptions(ctx: CommandContext): Omit<NormalizeOptions, 'preset' | 'output'> {
  const o: Omit<NormalizeOptions, 'preset' | 'output'> = {};
  const target = ctx.values.target as string | undefined;
  if (target !== undefined) o.target = finite('--target', target);
  const ceiling = ctx.values['true-peak'] as string | undefined;
  if (ceiling !== undefined) o.truePeak = finite('--true-peak', ceiling);
  const policy = ctx.values.policy as string | undefined;
  if (policy !== undefined) {
    if (policy !== 'gain' && policy !== 'limit') throw new OptionsError('--policy', `must be gain or limit, got ${JSON.stringify(policy)}`);
    o.policy = policy as NormalizePolicy;
  }
  return o;
}

function describe(r: NormalizeResult, label: string, album = false): string[] {
  const bound = !album && r.policy === 'gain' && r.source.integrated !== null && Math.abs(r.source.integrated + r.gain - r.target) > 0.005;
  return [
    `${label} (${r.preset}, policy ${r.policy}, ${formatBytes(r.size)})`,
    `  source  ${formatLevel(r.source.integrated, 'LUFS')}, true peak ${formatLevel(r.source.truePeak, 'dBTP')}`,
    `  gain    ${formatGain(r.gain)}${bound ? ' (stopped at the true-peak headroom)' : ''}${r.passes > 1 ? `, ${r.passes} passes` : ''}`,
    `  output  ${formatLevel(r.output.integrated, 'LUFS')}, true peak ${formatLevel(r.output.truePeak, 'dBTP')}`,
    `  tags    ${
      Object.entries(r.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '(none: WAV has no field for them)'
    }`,
  ];
}

export async function normalizeCommand(ctx: CommandContext, warn: (text: string) => void): Promise<void> {
  const output = ctx.values.output as string;
  const levels = levelOptions(ctx);
  const engine = await ctx.engine();
  const common = { signal: ctx.signal, ...callLimits(ctx), ...writeOptions(ctx) };
  if (!ctx.values.album) {
    if (ctx.positionals.length > 1) throw new OptionsError('arguments', 'normalize takes one input; use --album A B C … -o DIR for a set of tracks');
    const input = ctx.positionals[0]!;
    const { preset, warning } = presetFor(output, ctx.values.preset as string | undefined, undefined, 'audio');
    if (warning && !ctx.common.json && !ctx.common.quiet) warn(`warning: ${warning}`);
    const r = await withProgress(ctx, 'normalize', (progress) => engine.normalize({ path: input }, { ...levels, preset, output, ...common, ...progress }));
    if (ctx.common.json) printJson(ctx, r);
    else ctx.print(describe(r, shownPath(r.path ?? output)).join('\n'));
    return;
  }
  const preset = (ctx.values.preset as string | undefined) ?? 'flac';
  const p = getAudioPreset(preset);
  if (!p) throw new OptionsError('--preset', `unknown preset ${JSON.stringify(preset)}`);
  const outputs = ctx.positionals.map((input) => join(output, `${basename(input, extname(input))}.${p.extension}`));
  if (new Set(outputs).size !== outputs.length) throw new OptionsError('--album', 'two tracks would be written to the same name in the output directory');
  const r = await withProgress(ctx, 'normalize', (progress) =>
    engine.normalizeAlbum(
      ctx.positionals.map((path) => ({ path })),
      { ...levels, preset, outputs, ...common, ...progress },
    ),
  );
  if (ctx.common.json) {
    printJson(ctx, r);
    return;
  }
  const target = r.tracks[0]!.target;
  const bound = Math.abs(r.albumLoudness + r.gain - target) > 0.005 ? ' (stopped at the true-peak headroom)' : '';
  ctx.print(
    [
      `album   ${formatLevel(r.albumLoudness, 'LUFS')} (${ctx.positionals.length} tracks gated together), gain ${formatGain(r.gain)}${bound}`,
      ...r.tracks.flatMap((t, i) => describe(t, shownPath(t.path ?? outputs[i]!), true)),
    ].join('\n'),
  );
}
