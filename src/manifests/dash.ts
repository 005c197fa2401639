/**
 * A static DASH MPD (ISO/IEC 23009-1, DASH-IF IOP live profile addressing) over the same CMAF
 * segments the HLS playlists use: `SegmentTemplate` with `$Number$` and a `SegmentTimeline` of
 * the measured segment durations. Video renditions share one AdaptationSet; audio gets one per
 * codec, since players do not switch codecs within a set.
 */
import type { ManifestProtection } from './protection.js';
import type { PackagedText, PackagedTrack } from './track.js';

const iso = (seconds: number) => `PT${seconds.toFixed(3)}S`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** `schemeIdUri` and `value` of each DRM system's ContentProtection (DASH-IF IOP). */
const DASH_SYSTEMS: Readonly<Record<string, { uri: string; value: string }>> = {
  clearkey: { uri: 'urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e', value: 'ClearKey1.0' },
  widevine: { uri: 'urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed', value: 'Widevine' },
};

/** The ContentProtection elements of an AdaptationSet: the scheme with its default KID, then one per DRM system. */
function contentProtection(p: ManifestProtection, kind: PackagedTrack['kind'], indent: string): string[] {
  return [
    `${indent}<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="${p.scheme}" cenc:default_KID="${p.kids[kind]}"/>`,
    ...p.pssh.map(
      (s) =>
        `${indent}<ContentProtection schemeIdUri="${DASH_SYSTEMS[s.system]!.uri}" value="${DASH_SYSTEMS[s.system]!.value}"><cenc:pssh>${s.box}</cenc:pssh></ContentProtection>`,
    ),
  ];
}

export function mpd(video: PackagedTrack[], audio: PackagedTrack[], protection?: ManifestProtection, text: readonly PackagedText[] = []): string {
  const all = [...video, ...audio];
  const duration = Math.max(...all.map((t) => t.start + t.duration));
  const maxSegment = Math.max(...all.flatMap((t) => t.segments.map((s) => s.duration / t.timescale)));
  // One file per track, indexed by its sidx, is the on-demand profile's addressing.
  const profile = all.every((t) => t.ranges) ? 'urn:mpeg:dash:profile:isoff-on-demand:2011' : 'urn:mpeg:dash:profile:isoff-live:2011';
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"${protection ? ' xmlns:cenc="urn:mpeg:cenc:2013"' : ''} profiles="${profile}" type="static" mediaPresentationDuration="${iso(duration)}" minBufferTime="${iso(Math.ceil(maxSegment))}">`,
    `  <Period id="0" start="PT0S">`,
  ];
  let setId = 0;
  if (video.length) {
    const maxW = Math.max(...video.map((v) => v.width ?? 0));
    const maxH = Math.max(...video.map((v) => v.height ?? 0));
    const fr = video[0]!.frameRate;
    out.push(
      `    <AdaptationSet id="${setId++}" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1" maxWidth="${maxW}" maxHeight="${maxH}"${fr ? ` frameRate="${frameRate(fr)}"` : ''} par="${par(video[0]!)}">`,
    );
    if (protection) out.push(...contentProtection(protection, 'video', '      '));
    for (const v of video) {
      out.push(`      <Representation id="${esc(v.id)}" bandwidth="${v.bandwidth}" codecs="${v.codecs}" width="${v.width}" height="${v.height}" sar="1:1">`);
      out.push(...template(v, '        '), '      </Representation>');
    }
    out.push('    </AdaptationSet>');
  }
  const byCodec = new Map<string, PackagedTrack[]>();
  for (const a of audio) {
    const family = a.codecs.split('.')[0]!;
    byCodec.set(family, [...(byCodec.get(family) ?? []), a]);
  }
  for (const tracks of byCodec.values()) {
    const language = tracks[0]!.language ? ` lang="${esc(tracks[0]!.language)}"` : '';
    out.push(`    <AdaptationSet id="${setId++}" contentType="audio" mimeType="audio/mp4"${language} segmentAlignment="true" startWithSAP="1">`);
    if (tracks[0]!.label) out.push(`      <Label>${esc(tracks[0]!.label)}</Label>`);
    if (protection) out.push(...contentProtection(protection, 'audio', '      '));
    for (const a of tracks) {
      out.push(`      <Representation id="${esc(a.id)}" bandwidth="${a.bandwidth}" codecs="${a.codecs}" audioSamplingRate="${a.sampleRate}">`);
      out.push(`        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${a.channels}"/>`);
      out.push(...template(a, '        '), '      </Representation>');
    }
    out.push('    </AdaptationSet>');
  }
  // Subtitles as sidecar WebVTT files, one AdaptationSet per track.
  for (const t of text) {
    out.push(
      `    <AdaptationSet id="${setId++}" contentType="text" mimeType="text/vtt" lang="${esc(t.language)}">`,
      `      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="${t.default ? 'main' : 'subtitle'}"/>`,
      `      <Label>${esc(t.label)}</Label>`,
      `      <Representation id="${esc(t.id)}" bandwidth="${t.bandwidth}">`,
      `        <BaseURL>${esc(t.file)}</BaseURL>`,
      '      </Representation>',
      '    </AdaptationSet>',
    );
  }
  out.push('  </Period>', '</MPD>', '');
  return out.join('\n');
}

function template(t: PackagedTrack, indent: string): string[] {
  // Media time (tfdt, S@t, the sidx's earliest presentation time) less this is the period's time.
  const pto = t.presentationTimeOffset ? ` presentationTimeOffset="${t.presentationTimeOffset}"` : '';
  if (t.ranges) {
    const range = ([first, last]: [number, number]) => `${first}-${last}`;
    return [
      `${indent}<BaseURL>${esc(t.init)}</BaseURL>`,
      `${indent}<SegmentBase timescale="${t.timescale}"${pto} indexRange="${range(t.ranges.index)}" indexRangeExact="true">`,
      `${indent}  <Initialization range="${range(t.ranges.init)}"/>`,
      `${indent}</SegmentBase>`,
    ];
  }
  const media = t.mediaTemplate;
  const lines = [
    `${indent}<SegmentTemplate timescale="${t.timescale}"${pto} initialization="${esc(t.init)}" media="${esc(media)}" startNumber="1">`,
    `${indent}  <SegmentTimeline>`,
  ];
  // Runs of equal durations collapse into one S with a repeat count.
  let i = 0;
  while (i < t.segments.length) {
    const s = t.segments[i]!;
    let r = 0;
    while (i + r + 1 < t.segments.length && t.segments[i + r + 1]!.duration === s.duration) r++;
    lines.push(`${indent}    <S t="${s.start}" d="${s.duration}"${r ? ` r="${r}"` : ''}/>`);
    i += r + 1;
  }
  lines.push(`${indent}  </SegmentTimeline>`, `${indent}</SegmentTemplate>`);
  return lines;
}

function frameRate(fps: number): string {
  if (Number.isInteger(fps)) return String(fps);
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - ntsc / 1.001) < 0.001) return `${ntsc * 1000}/1001`;
  return String(Math.round(fps * 1000) / 1000);
}

function par(v: PackagedTrack): string {
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const w = v.width ?? 1;
  const h = v.height ?? 1;
  const g = gcd(w, h);
  return `${w / g}:${h / g}`;
}
