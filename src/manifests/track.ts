/**
 * A packaged CMAF track as the manifest writers see it: what was measured on its segments
 * (durations, sizes, bit rates) and what its init segment says (codec string, size, rate).
 */
import type { SegmentedTrack, SegmentInfo } from '../packaging/segmenter.js';

export interface PackagedTrack {
  /** Rendition name, also its directory under the output directory: `720p`, `aac-128`. */
  id: string;
  kind: 'video' | 'audio';
  /** RFC 6381 codec string read from the track's sample entry. */
  codecs: string;
  timescale: number;
  /** Paths relative to the output directory. */
  init: string;
  /** The segments' path template, `$Number$` (or `$Number%0Nd$`) unfilled, as DASH's SegmentTemplate takes it. */
  mediaTemplate: string;
  /**
   * Single-file mode: `init` is the track's one file, each segment has its `offset` in it, and
   * these are the inclusive byte ranges of its init segment and of its `sidx`.
   */
  ranges?: { init: [number, number]; index: [number, number] };
  playlist: string;
  segments: SegmentInfo[];
  /** Seconds from the start of the presentation to the track's first presented sample. */
  start: number;
  /** Seconds presented: the segments' sample durations less the priming. */
  duration: number;
  /** Encoder priming (AAC 1024 samples, Opus pre-skip) in the timescale: the first samples, presented before the programme starts. */
  priming: number;
  /**
   * The package's programme offset in the timescale: a sample at media time (tfdt) `t` presents
   * at programme time `t - presentationTimeOffset` (DASH `presentationTimeOffset`). The same
   * instant in every track of a package, so HLS, which has no such field, stays in sync too.
   */
  presentationTimeOffset: number;
  /** Peak bit/s over the segments (a short last segment does not count unless it is the only one). */
  bandwidth: number;
  /** Total bytes (init included) over the duration. */
  averageBandwidth: number;
  width?: number;
  height?: number;
  frameRate?: number;
  channels?: number;
  sampleRate?: number;
  /** Nominal bit/s of the preset, for reports. */
  nominalBitrate?: number;
  /** BCP 47 language of an audio track (from the source's tag or an option). */
  language?: string;
  /** Human name of an audio track for players' menus (HLS `NAME`, DASH `Label`). */
  label?: string;
}

/** A packaged WebVTT subtitle track: a sidecar file (DASH) and segments (HLS), in `id/`. */
export interface PackagedText {
  /** Folder under the output directory: `subtitles-en`. */
  id: string;
  kind: 'text';
  /** BCP 47. */
  language: string;
  /** Human name for players' menus. */
  label: string;
  /** Selected by default (HLS `DEFAULT=YES`, DASH role `main`). */
  default: boolean;
  /** The whole file, relative to the output directory. */
  file: string;
  playlist: string;
  /** HLS segments on the package's segment grid; times in milliseconds. */
  segments: Array<{ number: number; file: string; start: number; duration: number }>;
  cues: number;
  /** Bit/s of the whole file over the programme. */
  bandwidth: number;
}

export function describeTrack(
  id: string,
  kind: PackagedTrack['kind'],
  segmented: SegmentedTrack,
  targetSeconds: number,
  extra: { frameRate?: number; nominalBitrate?: number } = {},
): PackagedTrack {
  const { track, segments } = segmented;
  const seconds = (s: SegmentInfo) => s.duration / track.timescale;
  const duration = (segmented.duration - segmented.priming) / track.timescale;
  // A final sliver (say 0.2 s holding a whole IDR frame) would read as a burst no player sees.
  const counted = segments.filter((s, i) => segments.length === 1 || i < segments.length - 1 || seconds(s) >= targetSeconds / 2);
  const peak = Math.max(...counted.map((s) => (s.size * 8) / seconds(s)));
  const head = segmented.ranges ? segmented.ranges.index[1] + 1 : segmented.initSize;
  const total = head + segments.reduce((n, s) => n + s.size, 0);
  return {
    id,
    kind,
    codecs: track.codecs,
    timescale: track.timescale,
    init: `${id}/${segmented.initFile}`,
    mediaTemplate: `${id}/${segmented.mediaPattern}`,
    playlist: `${id}/playlist.m3u8`,
    ...(segmented.ranges ? { ranges: segmented.ranges } : {}),
    segments,
    // Where the first sample after the priming presents on the programme's timeline.
    start: ((segments[0]?.start ?? 0) + segmented.priming - segmented.presentationTimeOffset) / track.timescale,
    duration,
    priming: segmented.priming,
    presentationTimeOffset: segmented.presentationTimeOffset,
    // The init segment counts in the average; the peak must never read lower than it.
    bandwidth: Math.ceil(Math.max(peak, (total * 8) / duration)),
    averageBandwidth: Math.ceil((total * 8) / duration),
    ...(kind === 'video' ? { width: track.width!, height: track.height! } : {}),
    ...(kind === 'audio' ? { channels: track.channels!, sampleRate: track.sampleRate! } : {}),
    ...(extra.frameRate ? { frameRate: extra.frameRate } : {}),
    ...(extra.nominalBitrate ? { nominalBitrate: extra.nominalBitrate } : {}),
  };
}
