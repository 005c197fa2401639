/**
 * `sandcodec demo [-o DIR]` (what `npm start` runs): makes 30 s of music-like audio in the
 * sandbox, encodes a music service's whole ladder from it, and checks every rendition by
 * decoding it — the engine end to end with nothing to download or install. It also makes a short
 * test video, so the README's tour has a picture and a movie to work on.
 */
import { join } from 'node:path';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatHz, formatSeconds } from '../format.js';
import { duration } from '../values.js';
import { ladderSummary, renditionTable } from './ladder.js';

export const DEMO_PRESETS = Object.freeze(['vorbis-96', 'vorbis-160', 'vorbis-320', 'opus-96', 'opus-160', 'aac-128', 'aac-256', 'mp3-320', 'flac']);

const BASE_NAME = 'sample-music';
const VIDEO_NAME = 'sample-video.mp4';
/** The tour's video: short and small, made in about a second. */
const VIDEO = Object.freeze({ seconds: 6, width: 640, height: 360, frameRate: 24 });

export async function demoCommand(ctx: CommandContext): Promise<void> {
  const dir = (ctx.values.output as string | undefined) ?? 'out';
  const seconds = ctx.values.seconds === undefined ? 30 : duration('--seconds', ctx.values.seconds as string);
  const call = { signal: ctx.signal, ...callLimits(ctx) };
  const write = { ...call, ...writeOptions(ctx) };
  const engine = await ctx.engine();
  const human = !ctx.common.json;
  const step = (text: string) => {
    if (human) ctx.print(text);
  };

  const sourcePath = join(dir, `${BASE_NAME}.flac`);
  step(`sandcodec demo: ${engine.workers} worker${engine.workers === 1 ? '' : 's'}, writing to ${dir}/`);
  step('');
  await withProgress(ctx, 'generate', (onProgress) => engine.generate({ kind: 'music', seconds, preset: 'flac', output: sourcePath, ...write, ...onProgress }));
  const source = await engine.probe({ path: sourcePath }, call);
  const audio = source.streams.find((s) => s.type === 'audio');
  step(`source  ${sourcePath}`);
  step(
    `        ${source.format}, ${formatSeconds(source.duration, 2)}, ${formatHz(audio?.sampleRate)}, ${audio?.channels ?? '?'} ch${audio?.channelLayout ? ` (${audio.channelLayout})` : ''}, ${audio?.codec ?? '?'}`,
  );
  step('');

  const ladder = await withProgress(ctx, 'ladder', (onProgress) =>
    engine.ladder({ path: sourcePath }, [...DEMO_PRESETS], { outputDir: dir, baseName: BASE_NAME, ...write, ...onProgress }),
  );
  // Container durations can be off by hundreds of ms (MP3 padding, Ogg Opus pre-skip); decoding
  // every rendition is what shows it plays exactly as long as the source.
  const decoded = await Promise.all(ladder.renditions.map(async (r) => (await engine.probe({ path: r.path! }, { decode: true, ...call })).decodedDuration));

  const videoPath = join(dir, VIDEO_NAME);
  const video = await withProgress(ctx, 'video', (onProgress) => engine.generateVideo({ ...VIDEO, output: videoPath, ...write, ...onProgress }));

  if (!human) {
    printJson(ctx, { source: { path: sourcePath, ...source }, ladder, decodedDurations: decoded, video });
    return;
  }
  step(`ladder  ${DEMO_PRESETS.length} renditions from one decode of the source`);
  step('');
  step(renditionTable(ladder, decoded));
  step('');
  step(ladderSummary(ladder));
  step('');
  step(`video   ${videoPath}`);
  step(`        ${formatSeconds(VIDEO.seconds, 2)}, ${VIDEO.width}×${VIDEO.height} at ${VIDEO.frameRate} fps, H.264 and AAC (for the tour in README.md)`);
}
