/**
 * The stitch stage of a package (main thread, TypeScript): the parts each job wrote for a
 * rendition — one per chunk for video, one for audio — become one CMAF track (init segment and
 * one media segment per boundary, decode times continuous across the parts, see
 * packaging/segmenter.ts), and HLS playlists and a DASH MPD are written from the measured
 * segments. Memory holds one segment at a time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { mpd } from '../manifests/dash.js';
import { masterPlaylist, mediaPlaylist, textPlaylist } from '../manifests/hls.js';
import { type HlsProtection, manifestProtection } from '../manifests/protection.js';
import { describeTrack, type PackagedText, type PackagedTrack } from '../manifests/track.js';
import type { TrackInfo } from '../packaging/bmff.js';
import { protectTrack } from '../packaging/encrypt-track.js';
import { DEFAULT_SEGMENT_NAMES, forRendition, type SegmentNames } from '../packaging/segment-names.js';
import { NoFragmentsError, readTrackHead, segmentFiles } from '../packaging/segmenter.js';
import { encryptSegmentAes128, type PackageProtection } from './package-encryption.js';
import type { PackageJob } from './package-plan.js';

/** What a job wrote: one fragmented MP4 per rendition it encoded. */
export interface ChunkResult {
  /** The job's id in the plan. */
  job: string;
  files: Array<{ rendition: string; path: string; size: number }>;
}

export interface StitchTrack {
  id: string;
  kind: 'video' | 'audio';
  frameRate?: number;
  nominalBitrate?: number;
}

/**
 * Every rendition's parts, in chunk order: each job must have a result, and each result the
 * files of exactly the renditions its job encodes.
 */
export function partsByRendition(jobs: readonly PackageJob[], results: readonly ChunkResult[]): Map<string, string[]> {
  const byJob = new Map(results.map((r) => [r.job, r]));
  const parts = new Map<string, Array<{ chunk: number; path: string }>>();
  for (const job of jobs) {
    const result = byJob.get(job.id);
    if (!result) throw new InputError(`stitch: no result for job ${job.id}`, { job: job.id });
    for (const rendition of job.renditions) {
      const file = result.files.find((f) => f.rendition === rendition);
      if (!file) throw new InputError(`stitch: the result of job ${job.id} has no file for ${rendition}`, { job: job.id });
      const list = parts.get(rendition) ?? [];
      list.push({ chunk: job.kind === 'video' ? job.chunk : 0, path: file.path });
      parts.set(rendition, list);
    }
  }
  return new Map([...parts].map(([id, list]) => [id, list.sort((a, b) => a.chunk - b.chunk).map((p) => p.path)]));
}

export interface TrackTiming {
  /** Seconds every track is moved later by on the media timeline (see packaging/segmenter.ts). */
  programmeOffset?: number;
  /** Programme seconds from which samples are left out. */
  endAt?: number;
}

/**
 * The package's programme offset, in seconds: the longest priming of its audio renditions (read
 * from each one's first part), so that every track's priming fits before the programme's start.
 * 0 without priming (video alone, FLAC): media time is then programme time.
 */
export async function programmeOffset(parts: ReadonlyMap<string, readonly string[]>, audio: readonly string[]): Promise<number> {
  let offset = 0;
  for (const id of audio) {
    const first = parts.get(id)?.[0];
    if (!first) continue;
    const head = await readTrackHead(first).catch((err: Error) => {
      throw new InputError(`package: the ${id} rendition has no readable init segment: ${err.message}`, {}, { cause: err });
    });
    offset = Math.max(offset, head.editMediaTime / head.timescale);
  }
  return offset;
}

/** One rendition's parts as a CMAF track in `dir/<id>/`. */
export async function stitchTrack(
  dir: string,
  t: StitchTrack,
  parts: readonly string[],
  segmentDuration: number,
  protection: PackageProtection,
  names: SegmentNames = DEFAULT_SEGMENT_NAMES,
  timing: TrackTiming = {},
): Promise<PackagedTrack> {
  const { endAt, programmeOffset } = timing;
  await mkdir(join(dir, t.id));
  const { encryption, hlsAes128 } = protection;
  const segmented = await segmentFiles(parts, {
    segmentDuration,
    dir: join(dir, t.id),
    initName: forRendition(names.init, t.id),
    mediaPattern: forRendition(names.media, t.id),
    ...(names.singleFile ? { singleFile: forRendition(names.singleFile, t.id) } : {}),
    ...(endAt !== undefined ? { endAt } : {}),
    ...(programmeOffset ? { programmeOffset } : {}),
    ...(encryption ? { protect: (track: TrackInfo, init: Uint8Array) => protectTrack(encryption, track, init) } : {}),
    ...(hlsAes128 ? { wholeSegment: (n: number, bytes: Uint8Array) => encryptSegmentAes128(hlsAes128.key, n, bytes) } : {}),
  }).catch((err: Error) => {
    // The encoder finished without a single fragment (the input held nothing it could decode), or
    // none of it falls before the picture's end (audio that would start after the video ends).
    if (err instanceof NoFragmentsError)
      throw new InputError(`package: nothing was decoded from the input for the ${t.id} rendition, or none of it plays before the picture ends`);
    throw new InputError(`package: the parts of the ${t.id} rendition do not make one track: ${err.message}`, {}, { cause: err });
  });
  return describeTrack(t.id, t.kind, segmented, segmentDuration, {
    ...(t.frameRate ? { frameRate: t.frameRate } : {}),
    ...(t.nominalBitrate ? { nominalBitrate: t.nominalBitrate } : {}),
  });
}

/** The manifests of the stitched tracks, in `dir`. */
export async function writeManifests(
  dir: string,
  formats: readonly string[],
  video: PackagedTrack[],
  audio: PackagedTrack[],
  protection: PackageProtection,
  text: readonly PackagedText[] = [],
): Promise<void> {
  const cenc = protection.encryption ? manifestProtection(protection.encryption) : undefined;
  const hls: HlsProtection | undefined = cenc
    ? { kind: 'cenc', protection: cenc }
    : protection.hlsAes128
      ? { kind: 'aes-128', keyUri: protection.hlsAes128.keyUri }
      : undefined;
  if (formats.includes('hls')) {
    for (const t of [...video, ...audio]) await writeFile(join(dir, t.playlist), mediaPlaylist(t, hls));
    for (const t of text) await writeFile(join(dir, t.playlist), textPlaylist(t));
    await writeFile(join(dir, 'master.m3u8'), masterPlaylist(video, audio, hls, text));
  }
  if (formats.includes('dash')) await writeFile(join(dir, 'manifest.mpd'), mpd(video, audio, cenc, text));
}
