/** `sandcodec peaks IN -o peaks.json [--pixels-per-second N] [--bits 8|16]`: audiowaveform JSON (IN, OUT: `-` for stdin, stdout). */
import { writeOutputFile } from '../../call/outputs.js';
import { OptionsError } from '../../errors.js';
import type { PeaksOptions } from '../../ops/peaks.js';
import { type CommandContext, callLimits, printJson, withProgress } from '../context.js';
import { inputFrom, toStdout, writeStdout } from '../pipes.js';
import { integer, positive } from '../values.js';

export async function peaksCommand(ctx: CommandContext): Promise<void> {
  const input = ctx.positionals[0]!;
  const output = ctx.values.output as string;
  const options: PeaksOptions = {};
  const pps = ctx.values['pixels-per-second'] as string | undefined;
  if (pps !== undefined) options.pixelsPerSecond = positive('--pixels-per-second', pps);
  const spp = ctx.values['samples-per-pixel'] as string | undefined;
  if (spp !== undefined) options.samplesPerPixel = integer('--samples-per-pixel', spp);
  const bits = ctx.values.bits as string | undefined;
  if (bits !== undefined) {
    if (bits !== '8' && bits !== '16') throw new OptionsError('--bits', `must be 8 or 16, got ${JSON.stringify(bits)}`);
    options.bits = Number(bits) as 8 | 16;
  }
  if (ctx.values['split-channels']) options.splitChannels = true;
  const engine = await ctx.engine();
  // The call's record stays out of the audiowaveform file; --json reports it.
  const { call, ...waveform } = await withProgress(ctx, 'peaks', (progress) =>
    engine.peaks(inputFrom(input), { ...options, signal: ctx.signal, ...callLimits(ctx), ...progress }),
  );
  if (toStdout(output)) await writeStdout(`${JSON.stringify(waveform)}\n`);
  else await writeOutputFile(output, JSON.stringify(waveform), { option: '--output', overwrite: ctx.values.force === true });
  const { data: _data, ...summary } = waveform;
  if (ctx.common.json) {
    printJson(ctx, { path: toStdout(output) ? null : output, ...summary, call });
    return;
  }
  ctx.print(
    `${toStdout(output) ? 'stdout' : output}: ${waveform.length} columns × ${waveform.channels} channel${waveform.channels === 1 ? '' : 's'}, ` +
      `${waveform.samples_per_pixel} samples per pixel at ${waveform.sample_rate} Hz, ${waveform.bits}-bit`,
  );
}
