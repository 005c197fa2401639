/**
 * Which demuxers may open an input: an allow-list of real media containers. FFmpeg probes every
 * input against all of its demuxers, and among them are formats that turn text into media (an
 * SBaGen script of 34 bytes becomes hours of synthesized audio, any text file becomes video
 * through `tty`), lists and playlists that name other files, and network session descriptions.
 * Listing what may open an input, rather than what may not, keeps a format added to a future
 * build out until someone decides it belongs.
 */
import { InputError, UnsupportedError } from '../../errors.js';
import type { FFmpegCore } from './core.js';

/**
 * Containers and elementary streams of audio, video and still images that uploads come in. A
 * name matches any demuxer it is part of (`mov` opens `mov,mp4,m4a,3gp,3g2,mj2`). Loosely probed
 * raw streams seldom uploaded as such (MPEG-4 part 2 and MPEG-1/2 video, raw MJPEG) stay out:
 * a damaged container probes as one of them more often than a real upload is one.
 */
export const ACCEPTED_DEMUXERS: readonly string[] = [
  // audio
  'aac',
  'ac3',
  'aiff',
  'amr',
  'amrnb',
  'amrwb',
  'ape',
  'au',
  'caf',
  'dsf',
  'dts',
  'dtshd',
  'eac3',
  'flac',
  'loas',
  'mlp',
  'mp3',
  'mpc',
  'mpc8',
  'ogg',
  'tak',
  'truehd',
  'tta',
  'w64',
  'wav',
  'wv',
  // video (and audio in video containers)
  'mov',
  'matroska',
  'avi',
  'asf',
  'flv',
  'mpegts',
  'mpeg',
  'mxf',
  'dv',
  'nut',
  'ivf',
  'obu',
  'h264',
  'hevc',
  'yuv4mpegpipe',
  'gif',
  'apng',
  // still images, recognised by content
  'jpeg_pipe',
  'png_pipe',
  'webp_pipe',
  'gif_pipe',
  'bmp_pipe',
  'tiff_pipe',
];

/**
 * Formats that are not media at all: text, scripts, subtitles, metadata, lists, playlists,
 * manifests and device or network descriptions. An input probed as one of them is invalid
 * input; any other demuxer outside the allow-list is media we do not take (E_UNSUPPORTED).
 */
const NOT_MEDIA = new Set([
  'adf',
  'aqtitle',
  'ass',
  'bin',
  'concat',
  'dash',
  'data',
  'ffmetadata',
  'hls',
  'idf',
  'jacosub',
  'lavfi',
  'lrc',
  'mcc',
  'microdvd',
  'mpl2',
  'mpsub',
  'pjs',
  'realtext',
  'rtp',
  'rtsp',
  'sami',
  'sap',
  'sbg',
  'scc',
  'sdp',
  'srt',
  'stl',
  'subviewer',
  'subviewer1',
  'tedcaptions',
  'tty',
  'vobsub',
  'vplayer',
  'webm_dash_manifest',
  'webvtt',
  'xbin',
]);

/**
 * The image pipeline names an input after the still format it read from the header itself
 * (`in.jpeg`), and for such a name FFmpeg's `image2` demuxer outbids the content-sniffing pipes
 * whenever the content probes weakly (any BMP, a JPEG cut before its end). `image2` then decodes
 * by that extension — the format the pipeline already checked — so it may open these inputs, and
 * only these: uploads are never named so (ops/probe.ts drops still-image extensions).
 */
const CHECKED_STILL_NAME = /\.(?:jpeg|png|webp|gif|bmp|tiff)$/;

/** The `-format_whitelist` for an input at `path`. */
export function whitelistFor(path: string, whitelist: string): string {
  return CHECKED_STILL_NAME.test(path) ? `${whitelist},image2` : whitelist;
}

/** Raw formats a plan may force on the data it made itself (decoded frames it hands back). */
export const PLAN_RAW_FORMATS: readonly string[] = ['rawvideo'];

export interface DemuxerTable {
  /** The `-format_whitelist` value for untrusted inputs. */
  whitelist: string;
  /** Long names by demuxer name, for messages. */
  longNames: Map<string, string>;
}

const tables = new WeakMap<WebAssembly.Module, DemuxerTable>();
/** The table of the core that ran last on this thread, for messages. */
let table: DemuxerTable | undefined;

/** The build's demuxers, listed once per thread and core. */
export async function demuxerTable(core: FFmpegCore): Promise<DemuxerTable> {
  table = tables.get(core.module);
  if (table) return table;
  const demuxers = await core.listDemuxers();
  const names = new Set(demuxers.flatMap((d) => d.name.split(',')));
  table = {
    whitelist: ACCEPTED_DEMUXERS.filter((name) => names.has(name)).join(','),
    longNames: new Map(demuxers.map((d) => [d.name, d.longName])),
  };
  tables.set(core.module, table);
  return table;
}

/** The error for an input that probed as a demuxer outside the allow-list. */
export function refusedFormatError(demuxer: string, log: string[]): InputError | UnsupportedError {
  const longName = table?.longNames.get(demuxer);
  const named = longName ? `the ${demuxer} format (${longName})` : `the ${demuxer} format`;
  if (demuxer.split(',').some((name) => NOT_MEDIA.has(name))) {
    return new InputError(`the input is in ${named}: text, a script, a list or a playlist, which is not accepted as media`, { log, demuxer });
  }
  return new UnsupportedError(`the input is in ${named}, a media format that is not accepted here`, { log, demuxer });
}
