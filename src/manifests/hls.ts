/**
 * HLS playlists (RFC 8216, version 7) over CMAF tracks: a media playlist per rendition with
 * `#EXT-X-MAP` for the init segment, and a master playlist. Audio renditions are `EXT-X-MEDIA`
 * entries, one group each, and every video variant is listed once per audio group so its
 * `BANDWIDTH` counts the audio it plays with. Without video, the audio renditions are the variants.
 */
import type { PackagedTrack } from './track.js';

const secs = (n: number) => n.toFixed(6);

/** The smallest whole number of seconds no segment exceeds (what `#EXT-X-TARGETDURATION` needs). */
export function targetDuration(track: PackagedTrack): number {
  const max = Math.max(...track.segments.map((s) => s.duration / track.timescale));
  // Durations come from integer ticks: a 4 s segment is exactly 4, so no float fuzz to absorb.
  return Math.max(1, Math.ceil(max));
}

export function mediaPlaylist(track: PackagedTrack): string {
  const initName = track.init.slice(track.id.length + 1);
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${targetDuration(track)}`,
    '#EXT-X-MEDIA-SEQUENCE:1',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-MAP:URI="${initName}"`,
  ];
  for (const s of track.segments) lines.push(`#EXTINF:${secs(s.duration / track.timescale)},`, s.file);
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

export function masterPlaylist(video: PackagedTrack[], audio: PackagedTrack[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (video.length === 0) {
    for (const a of audio) {
      lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${a.bandwidth},AVERAGE-BANDWIDTH=${a.averageBandwidth},CODECS="${a.codecs}"`, a.playlist);
    }
    return `${lines.join('\n')}\n`;
  }
  audio.forEach((a, i) => {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="${groupId(a)}",NAME="${a.id}",DEFAULT=${i === 0 ? 'YES' : 'NO'},AUTOSELECT=YES,CHANNELS="${a.channels ?? 2}",URI="${a.playlist}"`,
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
      ];
      lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.playlist);
    }
  }
  return `${lines.join('\n')}\n`;
}

function groupId(track: PackagedTrack): string {
  return `audio-${track.id}`;
}
