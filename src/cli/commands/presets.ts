/** `sandcodec presets [--json]`: the audio presets a ladder or transcode can name. */
import { AUDIO_PRESETS } from '../../model/presets.js';
import { type CommandContext, printJson } from '../context.js';
import { formatKbps, table } from '../format.js';

export async function presetsCommand(ctx: CommandContext): Promise<void> {
  const presets = Object.values(AUDIO_PRESETS);
  if (ctx.common.json) {
    printJson(ctx, presets);
    return;
  }
  ctx.print(
    table(
      [
        { header: 'preset' },
        { header: 'codec' },
        { header: 'encoder' },
        { header: 'file' },
        { header: 'bitrate', align: 'right' },
        { header: 'rate control' },
        { header: 'notes' },
      ],
      presets.map((p) => [
        p.name,
        p.codec,
        p.encoder,
        `.${p.extension}`,
        p.bitrate ? formatKbps(p.bitrate) : 'lossless',
        p.rateControl,
        [p.sampleRate ? `${p.sampleRate} Hz` : '', p.maxChannels ? `≤ ${p.maxChannels} ch` : ''].filter(Boolean).join(', '),
      ]),
    ),
  );
}
