/**
 * `sandcodec package IN -o DIR [--format hls|dash|both] [--ladder 1080p,720p,…] [--audio aac-128,…]
 * [--segment-duration 4] [--chunk-seconds 16] [--audio-only] [--single-file] [--subtitles LANG=PATH …]
 * [--audio-language LANG] [--audio-name NAME] [--encrypt cenc|cbcs --key-id HEX --key HEX
 * [--clear-lead S] [--pssh clearkey,widevine] | --hls-aes128 --key HEX --key-uri URI]`: CMAF segments
 * with HLS and/or DASH manifests, clear or protected.
 */
import { basename } from 'node:path';
import { OptionsError } from '../../errors.js';
import type { PackageFormat, PackageResult } from '../../ops/package.js';
import type { EncryptionOptions, HlsAes128Options } from '../../ops/package-encryption.js';
import type { SubtitleOption } from '../../ops/package-text.js';
import { type CommandContext, callLimits, printJson, withProgress, writeOptions } from '../context.js';
import { formatFactor, formatKbps, formatSeconds, shownPath, table } from '../format.js';
import { duration, list } from '../values.js';

function formats(value: unknown): PackageFormat[] {
  if (value === undefined || value === 'both') return ['hls', 'dash'];
  if (value === 'hls' || value === 'dash') return [value];
  throw new OptionsError('--format', `must be hls, dash or both, got ${JSON.stringify(value)}`);
}

/** `--key HEX`, or `--key env:NAME` so the key stays out of the process list and shell history. */
function keyValue(value: string): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice(4);
  const key = process.env[name];
  if (key === undefined) throw new OptionsError('--key', `names the environment variable ${name}, which is not set`);
  return key;
}

/** The protection flags as the engine's `encryption` or `hlsAes128` option. */
function protection(v: CommandContext['values']): { encryption?: EncryptionOptions; hlsAes128?: HlsAes128Options } {
  const key = v.key === undefined ? undefined : keyValue(v.key as string);
  if (v['hls-aes128']) {
    if (v.encrypt !== undefined) throw new OptionsError('--hls-aes128', 'and --encrypt are two ways to protect a package: choose one');
    if (key === undefined || v['key-uri'] === undefined) throw new OptionsError('--hls-aes128', 'needs --key and --key-uri');
    return { hlsAes128: { key, keyUri: v['key-uri'] as string } };
  }
  if (v.encrypt === undefined) {
    const stray = ['key-id', 'key', 'clear-lead', 'pssh', 'key-uri'].find((f) => v[f] !== undefined);
    if (stray) throw new OptionsError(`--${stray}`, 'needs --encrypt cenc|cbcs (or --hls-aes128)');
    return {};
  }
  if (v['key-id'] === undefined || key === undefined) throw new OptionsError('--encrypt', 'needs --key-id and --key');
  return {
    encryption: {
      scheme: v.encrypt as EncryptionOptions['scheme'],
      keys: [{ kid: v['key-id'] as string, key }],
      ...(v['clear-lead'] !== undefined ? { clearLead: duration('--clear-lead', v['clear-lead'] as string, 'zero allowed') } : {}),
      ...(v.pssh !== undefined ? { systems: list('--pssh', v.pssh as string) as EncryptionOptions['systems'] } : {}),
    },
  };
}

/** `--subtitles LANG=PATH` (language tags hold no '='; a path may). */
function subtitle(value: string): SubtitleOption {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new OptionsError('--subtitles', `must be LANG=PATH (e.g. en=subs/en.vtt), got ${JSON.stringify(value)}`);
  return { language: value.slice(0, at), path: value.slice(at + 1) };
}

export async function packageCommand(ctx: CommandContext): Promise<void> {
  const input = ctx.positionals[0]!;
  const v = ctx.values;
  const options = {
    ...protection(v),
    outputDir: v.output as string,
    formats: formats(v.format),
    ...(v.ladder !== undefined ? { video: list('--ladder', v.ladder as string) } : {}),
    ...(v.audio !== undefined ? { audio: list('--audio', v.audio as string) } : {}),
    ...(v['segment-duration'] !== undefined ? { segmentDuration: duration('--segment-duration', v['segment-duration'] as string) } : {}),
    ...(v['chunk-seconds'] !== undefined ? { chunkSeconds: duration('--chunk-seconds', v['chunk-seconds'] as string) } : {}),
    ...(v['audio-only'] ? { audioOnly: true } : {}),
    ...(v['init-template'] !== undefined ? { initTemplate: v['init-template'] as string } : {}),
    ...(v['segment-template'] !== undefined ? { segmentTemplate: v['segment-template'] as string } : {}),
    ...(v['single-file'] ? { singleFile: true } : {}),
    ...(v.subtitles !== undefined ? { subtitles: (v.subtitles as unknown as string[]).map(subtitle) } : {}),
    ...(v['audio-language'] !== undefined ? { audioLanguage: v['audio-language'] as string } : {}),
    ...(v['audio-name'] !== undefined ? { audioName: v['audio-name'] as string } : {}),
  };
  const engine = await ctx.engine();
  const result = await withProgress(ctx, 'package', (progress) =>
    engine.package({ path: input }, { ...options, signal: ctx.signal, ...callLimits(ctx), ...writeOptions(ctx), ...progress }),
  );
  if (ctx.common.json) printJson(ctx, { ...result, video: result.video.map(brief), audio: result.audio.map(brief) });
  else ctx.print(packageReport(input, result));
}

/** Segment lists are long: the JSON report gives their count and files' pattern instead. */
function brief(t: PackageResult['video'][number]) {
  const { segments, ...rest } = t;
  return { ...rest, segments: segments.length, maxSegmentDuration: Math.max(...segments.map((s) => s.duration / t.timescale)) };
}

export function packageReport(input: string, r: PackageResult): string {
  const rows = [...r.video, ...r.audio].map((t) => [
    t.id,
    t.codecs,
    t.kind === 'video' ? `${t.width}x${t.height}` : `${t.channels} ch ${t.sampleRate} Hz`,
    String(t.segments.length),
    formatKbps(t.averageBandwidth),
    formatKbps(t.bandwidth),
  ]);
  const columns = [
    { header: 'rendition' },
    { header: 'codecs' },
    { header: 'format' },
    { header: 'segments', align: 'right' as const },
    { header: 'average', align: 'right' as const },
    { header: 'peak', align: 'right' as const },
  ];
  const lines = [`package of ${basename(input)} → ${shownPath(r.outputDir)}`, '', table(columns, rows), ''];
  if (r.hls) lines.push(`HLS:  ${shownPath(r.hls)}`);
  if (r.dash) lines.push(`DASH: ${shownPath(r.dash)}`);
  for (const s of r.skipped) lines.push(`skipped ${s.rung}: ${s.reason}`);
  lines.push(
    `${formatSeconds(r.duration, 2)} in ${r.segmentDuration} s segments, packaged in ${formatSeconds(r.elapsedMs / 1000, 2)} (${formatFactor(r.realtimeFactor)})`,
  );
  return lines.join('\n');
}
