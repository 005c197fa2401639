/** `sandcodec probe FILE [--decode] [--json]`: what a file (or stdin, `-`) holds, as a report or ProbeResult JSON. */
import type { ProbeResult, StreamInfo } from '../../model/probe-result.js';
import { printable } from '../../util/printable.js';
import { type CommandContext, callLimits, printJson, withProgress } from '../context.js';
import { formatBytes, formatHz, formatKbps, formatSeconds } from '../format.js';
import { inputFrom, inputLabel } from '../pipes.js';

export async function probeCommand(ctx: CommandContext): Promise<void> {
  const file = ctx.positionals[0]!;
  const engine = await ctx.engine();
  const decode = ctx.values.decode === true;
  const result = await withProgress(ctx, 'probe', (progress) =>
    engine.probe(inputFrom(file, 'FILE'), { decode, signal: ctx.signal, ...callLimits(ctx), ...progress }),
  );
  if (ctx.common.json) printJson(ctx, result);
  else ctx.print(probeReport(inputLabel(file), result));
}

export function probeReport(file: string, p: ProbeResult): string {
  const rows: [string, string][] = [
    ['file', printable(file)],
    ['format', printable(p.formatLongName ? `${p.format} (${p.formatLongName})` : p.format)],
    ['duration', formatSeconds(p.duration) + (p.decodedDuration !== undefined ? `  (decoded: ${formatSeconds(p.decodedDuration)})` : '')],
    ['bitrate', formatKbps(p.bitrate)],
    ['size', `${formatBytes(p.size)} (${p.size} bytes)`],
  ];
  const tags = formatTags(p.tags);
  if (tags) rows.push(['tags', tags]);
  const label = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(label)}  ${v}`);
  lines.push(`streams (${p.streams.length})`);
  for (const s of p.streams) lines.push(`  ${streamLine(s)}`);
  return lines.join('\n');
}

export function streamLine(s: StreamInfo): string {
  const parts: string[] = [printable(s.profile ? `${s.codec} (${s.profile})` : s.codec)];
  if (s.type === 'audio') {
    if (s.sampleRate) parts.push(formatHz(s.sampleRate));
    if (s.channels) parts.push(`${s.channels} ch${s.channelLayout ? ` (${s.channelLayout})` : ''}`);
    if (s.sampleFormat) parts.push(s.bitsPerSample ? `${s.sampleFormat}, ${s.bitsPerSample}-bit` : s.sampleFormat);
  }
  if (s.type === 'video') {
    if (s.width && s.height) parts.push(`${s.width}×${s.height}`);
    if (s.attachedPicture) parts.push('cover art');
    else if (s.frameRate) parts.push(`${s.frameRate} fps`);
    if (s.pixelFormat) parts.push(s.pixelFormat);
  }
  if (s.bitrate) parts.push(formatKbps(s.bitrate));
  if (s.duration !== undefined) parts.push(formatSeconds(s.duration));
  const tags = formatTags(s.tags);
  if (tags) parts.push(`tags: ${tags}`);
  return `#${s.index} ${s.type}: ${parts.join(', ')}`;
}

/** Tags are the file's text: made printable, so a tag cannot drive the terminal or fake a line. */
function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => printable(`${k}=${v.length > 60 ? `${v.slice(0, 57)}...` : v}`.replace(/\s+/g, ' ')))
    .join('; ');
}
