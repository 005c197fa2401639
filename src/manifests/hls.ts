/**
 * HLS playlists (RFC 8216, version 7) over CMAF tracks: a media playlist per rendition with
 * `#EXT-X-MAP` for the init segment, and a master playlist. Audio renditions are `EXT-X-MEDIA`
 * entries, one group each, and every video variant is listed once per audio group so its
 * `BANDWIDTH` counts the audio it plays with. Without video, the audio renditions are the variants.
 */
import type { HlsProtection, ManifestProtection } from './protection.js';
import type { PackagedText, PackagedTrack } from './track.js';

const secs = (n: number) => n.toFixed(6);

/** The smallest whole number of seconds no segment exceeds (what `#EXT-X-TARGETDURATION` needs). */
export function targetDuration(track: PackagedTrack): number {
  const max = Math.max(...track.segments.map((s) => s.duration / track.timescale));
  // Durations come from integer ticks: a 4 s segment is exactly 4, so no float fuzz to absorb.
  return Math.max(1, Math.ceil(max));
}

/** KEYFORMAT of each DRM system in HLS. */
const KEYFORMATS: Readonly<Record<string, string>> = {
  clearkey: 'org.w3.clearkey',
  widevine: 'urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed',
};

/** `EXT-X-KEY` (or `EXT-X-SESSION-KEY`) attributes, one list per DRM system or the AES-128 key. */
function keyAttributes(p: HlsProtection, kind: PackagedTrack['kind'] | null): string[] {
  if (p.kind === 'aes-128') return [`METHOD=AES-128,URI="${p.keyUri}"`];
  return sampleAesKeys(p.protection, kind);
}

function sampleAesKeys(p: ManifestProtection, kind: PackagedTrack['kind'] | null): string[] {
  // SAMPLE-AES is cbcs in fMP4; SAMPLE-AES-CTR is cenc.
  const method = p.scheme === 'cbcs' ? 'SAMPLE-AES' : 'SAMPLE-AES-CTR';
  const kid = kind ? `,KEYID=0x${p.kids[kind].replace(/-/g, '')}` : '';
  return p.pssh.map((s) => `METHOD=${method},URI="data:text/plain;base64,${s.box}"${kid},KEYFORMAT="${KEYFORMATS[s.system]}",KEYFORMATVERSIONS="1"`);
}

export function mediaPlaylist(track: PackagedTrack, protection?: HlsProtection): string {
  const initName = track.init.slice(track.id.length + 1);
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${targetDuration(track)}`,
    '#EXT-X-MEDIA-SEQUENCE:1',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    track.ranges ? `#EXT-X-MAP:URI="${initName}",BYTERANGE="${byteRange(track.ranges.init)}"` : `#EXT-X-MAP:URI="${initName}"`,
  ];
  let keyed = false;
  for (const s of track.segments) {
    // The init segment stays clear; keys apply from the first protected segment (after a clear lead).
    const isProtected = protection?.kind === 'aes-128' || (protection !== undefined && s.encrypted !== false);
    if (protection && isProtected && !keyed) {
      lines.push(...keyAttributes(protection, track.kind).map((a) => `#EXT-X-KEY:${a}`));
      keyed = true;
    }
    lines.push(`#EXTINF:${secs(s.duration / track.timescale)},`);
    // Single-file mode: each segment is a range of the one file (its sidx is skipped, unused here).
    if (s.offset !== undefined) lines.push(`#EXT-X-BYTERANGE:${s.size}@${s.offset}`);
    lines.push(s.file);
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/** A subtitle track's playlist: its WebVTT segments on the package's grid. */
export function textPlaylist(text: PackagedText): string {
  const max = Math.max(...text.segments.map((s) => s.duration / 1000));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(max - 1e-9))}`,
    '#EXT-X-MEDIA-SEQUENCE:1',
    '#EXT-X-PLAYLIST-TYPE:VOD',
  ];
  for (const s of text.segments) lines.push(`#EXTINF:${secs(s.duration / 1000)},`, s.file);
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

const SUBTITLE_GROUP = 'subtitles';

export function masterPlaylist(video: PackagedTrack[], audio: PackagedTrack[], protection?: HlsProtection, text: readonly PackagedText[] = []): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  // Players can start licence requests before they load a media playlist.
  if (protection) lines.push(...keyAttributes(protection, null).map((a) => `#EXT-X-SESSION-KEY:${a}`));
  // A viewer's language preference may pick any subtitle track (AUTOSELECT); DEFAULT is the caller's.
  for (const t of text) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="${SUBTITLE_GROUP}",NAME="${t.label}",LANGUAGE="${t.language}",DEFAULT=${t.default ? 'YES' : 'NO'},AUTOSELECT=YES,FORCED=NO,URI="${t.playlist}"`,
    );
  }
  const subtitles = text.length ? [`SUBTITLES="${SUBTITLE_GROUP}"`] : [];
  if (video.length === 0) {
    for (const a of audio) {
      lines.push(
        `#EXT-X-STREAM-INF:${[`BANDWIDTH=${a.bandwidth}`, `AVERAGE-BANDWIDTH=${a.averageBandwidth}`, `CODECS="${a.codecs}"`, ...subtitles].join(',')}`,
        a.playlist,
      );
    }
    return `${lines.join('\n')}\n`;
  }
  audio.forEach((a, i) => {
    // Each rendition is a group of its own, so its NAME (the language's, for menus) may repeat.
    const language = a.language ? `,LANGUAGE="${a.language}"` : '';
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${groupId(a)}",NAME="${a.label ?? a.id}"${language},DEFAULT=${i === 0 ? 'YES' : 'NO'},AUTOSELECT=YES,CHANNELS="${a.channels ?? 2}",URI="${a.playlist}"`,
    );
  });
  const groups: Array<PackagedTrack | undefined> = audio.length ? audio : [undefined];
  for (const a of groups) {
    for (const v of video) {
      const attrs = [
        `BANDWIDTH=${v.bandwidth + (a?.bandwidth ?? 0)}`,
        `AVERAGE-BANDWIDTH=${v.averageBandwidth + (a?.averageBandwidth ?? 0)}`,
        `CODECS="${[v.codecs, ...(a ? [a.codecs] : [])].join(',')}"`,
        `RESOLUTION=${v.width}x${v.height}`,
        ...(v.frameRate ? [`FRAME-RATE=${v.frameRate.toFixed(3)}`] : []),
        ...(a ? [`AUDIO="${groupId(a)}"`] : []),
        ...subtitles,
      ];
      lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.playlist);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `length@offset` of an inclusive byte range. */
function byteRange([first, last]: [number, number]): string {
  return `${last - first + 1}@${first}`;
}

function groupId(track: PackagedTrack): string {
  return `audio-${track.id}`;
}
