/**
 * `sandcodec presets [--json]`: every preset there is, from the one table each lives in: the
 * audio presets (transcode, ladder, normalize; those CMAF carries also package), the video file
 * presets of transcode, the H.264 rungs of a package, and the image outputs of resize and cover.
 */
import { COVER_SIZES, IMAGE_OUTPUTS } from '../../model/image-spec.js';
import { AUDIO_PRESETS, VIDEO_LADDER, VIDEO_PRESETS } from '../../model/presets.js';
import { type CommandContext, printJson } from '../context.js';
import { table } from '../format.js';

export async function presetsCommand(ctx: CommandContext): Promise<void> {
  const audio = Object.values(AUDIO_PRESETS);
  const video = Object.values(VIDEO_PRESETS);
  const ladder = Object.values(VIDEO_LADDER);
  if (ctx.common.json) {
    printJson(ctx, { audio, video, ladder, images: { formats: IMAGE_OUTPUTS, coverSizes: COVER_SIZES } });
    return;
  }
  const audioTable = table(
    [{ header: 'preset' }, { header: 'codec' }, { header: 'file' }, { header: 'bitrate', align: 'right' }, { header: 'mode' }, { header: 'notes' }],
    audio.map((p) => [
      p.name,
      p.codec,
      `.${p.extension}`,
      p.bitrate ? `${p.bitrate / 1000} kbit/s` : 'lossless',
      p.rateControl,
      [p.sampleRate ? `${p.sampleRate / 1000} kHz` : '', p.maxChannels ? `≤ ${p.maxChannels} ch` : '', p.cmaf ? 'package' : ''].filter(Boolean).join(', '),
    ]),
  );
  const videoTable = table(
    [{ header: 'preset' }, { header: 'video' }, { header: 'quality' }, { header: 'size' }, { header: 'audio' }, { header: 'file' }],
    video.map((p) => [
      p.name,
      p.codec === 'h264' ? 'H.264' : 'VP9',
      `${p.codec === 'h264' ? 'CRF' : 'CQ'} ${p.quality} ≤ rung peak`,
      `≤ ${p.maxSize}p`,
      p.audio.name,
      `.${p.extension}`,
    ]),
  );
  const ladderTable = table(
    [
      { header: 'rung' },
      { header: 'short side', align: 'right' },
      { header: 'average', align: 'right' },
      { header: 'peak', align: 'right' },
      { header: 'profile' },
    ],
    ladder.map((r) => [r.name, `${r.size} px`, `${r.bitrate / 1000} kbit/s`, `${r.maxrate / 1000} kbit/s`, r.profile]),
  );
  const imageTable = table(
    [{ header: 'format' }, { header: 'file' }, { header: 'encoder' }, { header: 'defaults' }],
    Object.entries(IMAGE_OUTPUTS).map(([name, f]) => [name, `.${f.extension}`, f.encoder, f.defaults]),
  );
  ctx.print(
    [
      'Audio presets (transcode, ladder, normalize; "package": --audio of package too)',
      audioTable,
      '',
      'Video presets (transcode)',
      videoTable,
      '',
      'Package video ladder (package --ladder)',
      ladderTable,
      '',
      `Image outputs (resize, cover; cover sizes ${COVER_SIZES.join(', ')} px by default)`,
      imageTable,
    ].join('\n'),
  );
}
