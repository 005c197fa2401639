/**
 * The chunking stage: reads one rendition's fragmented MP4 as FFmpeg wrote it (fragments of any
 * length), and writes a CMAF track: the init segment (ftyp + moov) and one media segment per
 * `segmentDuration` (styp + moof + mdat, one fragment each). Boundaries are measured on the
 * samples' presentation times: video segments start on a sync sample at or after each boundary
 * (the encoder placed IDR frames there), audio ones on the first frame at or after it, so every
 * rendition of a ladder cuts at the same instants and drift never accumulates. A last stretch
 * shorter than half a segment joins the segment before it: no track ends on a sliver.
 * Timing follows CMAF, with no edit list at all, so that players which ignore edit lists present
 * what those which apply them do: a track's start offset (the empty edit FFmpeg writes when a
 * stream starts after the others) moves into every `tfdt`; video composition offsets are shifted
 * (signed, trun version 1) so that each IDR frame presents at its decode time, with no B-frame
 * delay; and every track of a package is moved later on the media timeline by one programme offset
 * (at least the longest encoder priming), so that an audio track's priming samples (AAC's 1024,
 * Opus's pre-skip) fit before the instant its first real sample shares with the picture. Media time
 * minus the offset is the programme's time: DASH says so with `presentationTimeOffset`; HLS needs
 * nothing, every track being late by the same offset.
 * In single-file mode the track is one file instead: the init segment, a `sidx` indexing every
 * segment, then the segments (moof + mdat, no `styp`), each addressed by its byte range.
 * Reads through a file handle: memory holds one segment, whatever the file's length.
 */
import { type FileHandle, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { concatBytes } from '../util/bytes.js';
import { fragmentHeader, NON_SYNC, readBoxHeader, readInit, readMoof, type Sample, sampleEntryOf, styp, type TrackInfo, withoutEdits } from './bmff.js';
import type { SegmentProtector } from './encrypt-track.js';
import { DEFAULT_SEGMENT_NAMES, segmentName } from './segment-names.js';
import { sidx } from './sidx.js';

export interface SegmentInfo {
  /** 1-based, as in the segment's file name and `$Number$`. */
  number: number;
  file: string;
  /** Decode time of the first sample, in the track's timescale. */
  start: number;
  /** In the track's timescale. */
  duration: number;
  size: number;
  /** Set when the track is protected: false for a segment of the clear lead. */
  encrypted?: boolean;
  /** Single-file mode: where the segment's bytes start in `file`. */
  offset?: number;
}

export interface SegmentedTrack {
  track: TrackInfo;
  initFile: string;
  /** The segments' file name template, `$Number…$` unfilled. */
  mediaPattern: string;
  initSize: number;
  segments: SegmentInfo[];
  /** Sum of the segments' durations, in the track's timescale. */
  duration: number;
  /** Encoder priming (AAC 1024 samples, Opus pre-skip), in the timescale: presented before the programme starts. */
  priming: number;
  /** The programme offset in the timescale: media time minus this is programme time (DASH `presentationTimeOffset`). */
  presentationTimeOffset: number;
  /** Single-file mode: the byte ranges (inclusive) of the init segment and of the `sidx` in `initFile`. */
  ranges?: { init: [number, number]; index: [number, number] };
}

export interface SegmentOptions {
  /** Target segment length in seconds. */
  segmentDuration: number;
  /** Directory the segments go to. */
  dir: string;
  initName?: string;
  /** `$Number$` (or `$Number%05d$`) is replaced by the segment number. */
  mediaPattern?: string;
  /** Encrypts the track (Common Encryption): given its init segment, what to write instead and per segment. */
  protect?: (track: TrackInfo, init: Uint8Array) => SegmentProtector;
  /** Rewrites each finished media segment whole (AES-128 for HLS), given its number. */
  wholeSegment?: (number: number, bytes: Uint8Array) => Uint8Array;
  /** One file of this name for the whole track (init, `sidx`, segments) instead of `initName` and `mediaPattern`. */
  singleFile?: string;
  /** Seconds: samples presented from here on are left out (audio stops within a frame of the picture's end). */
  endAt?: number;
  /**
   * Seconds every track of the package is moved later by on the media timeline (see above); no
   * less than this track's priming. 0 when no track has priming.
   */
  programmeOffset?: number;
}

/** The file has an init segment at most: the encoder wrote no sample. */
export class NoFragmentsError extends Error {
  constructor() {
    super('the rendition holds no fragments');
  }
}

export async function segmentFile(path: string, options: SegmentOptions): Promise<SegmentedTrack> {
  return segmentFiles([path], options);
}

/**
 * One CMAF track from the parts of a rendition encoded one after the other (chunks of a parallel
 * encode, each starting at decode time 0 in its own file): the parts' samples follow each other
 * on one timeline, and the init segment is the first part's. Every part must carry the same
 * sample entry (codec configuration: the same SPS and PPS for H.264), or the track could not be
 * decoded with one init segment.
 */
export async function segmentFiles(paths: readonly string[], options: SegmentOptions): Promise<SegmentedTrack> {
  const handles: FileHandle[] = [];
  try {
    for (const path of paths) handles.push(await open(path, 'r'));
    return await segmentHandles(handles, options);
  } finally {
    await Promise.all(handles.map((fh) => fh.close()));
  }
}

/**
 * The track a rendition's (first) part describes in its init segment, read without its
 * fragments: the stitch learns every track's priming before it places any track on the timeline.
 */
export async function readTrackHead(path: string): Promise<TrackInfo> {
  const fh = await open(path, 'r');
  try {
    const initParts: Uint8Array[] = [];
    for await (const box of topLevel(fh)) {
      if (box.type === 'ftyp' || box.type === 'moov') initParts.push(box.bytes!);
      if (box.type === 'moov' || box.type === 'moof') break;
    }
    return readInit(concatBytes(initParts));
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${position + got}`);
    got += bytesRead;
  }
  return buf;
}

/** Walks the top-level boxes: yields the init bytes first, then each moof with its offset. */
async function* topLevel(fh: FileHandle): AsyncGenerator<{ type: string; start: number; bytes?: Uint8Array }> {
  const { size } = await fh.stat();
  let at = 0;
  while (at + 8 <= size) {
    const head = await readAt(fh, at, Math.min(16, size - at));
    const header = readBoxHeader(head, 0, head.byteLength)!;
    // Size 0 means "to the end of the file"; the header was read against 16 bytes only.
    const boxSize = new DataView(head.buffer).getUint32(0) === 0 ? size - at : header.end;
    const end = at + boxSize;
    if (end > size) throw new Error(`the ${header.type} box at ${at} runs past the end of the file`);
    const wanted = header.type === 'ftyp' || header.type === 'moov' || header.type === 'moof';
    yield { type: header.type, start: at, ...(wanted ? { bytes: await readAt(fh, at, boxSize) } : {}) };
    at = end;
  }
}

async function segmentHandles(handles: readonly FileHandle[], options: SegmentOptions): Promise<SegmentedTrack> {
  const single = options.singleFile;
  if (!single) return segmentInto(handles, options, null);
  // The index comes first but is known last: the segments go to a scratch file, then after it.
  const scratch = join(options.dir, `.${single}.segments`);
  const media = await open(scratch, 'wx');
  try {
    const track = await segmentInto(handles, options, media);
    await media.close();
    return await joinSingleFile(join(options.dir, single), track, scratch);
  } finally {
    await media.close().catch(() => {});
    await rm(scratch, { force: true });
  }
}

/** `media`: single-file mode, where the segments are appended; the init segment is kept in the result. */
async function segmentInto(
  handles: readonly FileHandle[],
  options: SegmentOptions,
  media: FileHandle | null,
): Promise<SegmentedTrack & { initBytes?: Uint8Array }> {
  const initName = options.singleFile ?? options.initName ?? DEFAULT_SEGMENT_NAMES.init;
  const pattern = options.singleFile ?? options.mediaPattern ?? DEFAULT_SEGMENT_NAMES.media;
  let initBytes: Uint8Array | undefined;
  let mediaBytes = 0;
  /** The output track: the first part's. */
  let track: TrackInfo | undefined;
  let sampleEntry: Uint8Array | undefined;
  const segments: SegmentInfo[] = [];
  /**
   * Samples waiting for their segment, with the part they are read from; `slot` is the segment's
   * place on the grid of segment boundaries (0 for the first), the same in every track.
   */
  let pending: { start: number; slot: number; samples: Array<{ sample: Sample; fh: FileHandle }> } | undefined;
  let boundary = 0;
  let step = 0;
  let priming = 0;
  /** The programme offset, in the timescale. */
  let shift = 0;
  /** Added to a sample's decode time on the encoder's timeline (priming at 0) to place it on the media timeline. */
  let base = 0;
  /** Where the next part's first sample goes on the output timeline (decode time, timescale). */
  let partStart = 0;
  let protector: SegmentProtector | undefined;
  /** Presentation time (timescale) from which samples are left out. */
  let end = Infinity;

  type Pending = NonNullable<typeof pending>;
  /**
   * A finished segment held back until the next one is known: a track's tail shorter than half a
   * segment (one AAC frame past the video's end, say) joins it instead of becoming a sliver that
   * some players stop before. Holds sample positions only; the data is read when it is written.
   */
  let held: Pending | undefined;

  const write = async (segment: Pending) => {
    if (!track) return;
    const number = segments.length + 1;
    const file = segmentName(pattern, number);
    const samples = segment.samples.map((s) => s.sample);
    const data = await readSamples(segment.samples);
    const extras = protector?.segment(segment.slot * options.segmentDuration, samples, data) ?? {};
    const header = fragmentHeader(number, track.trackId, segment.start, samples, extras);
    // A segment inside one file needs no type box of its own.
    const prefix = media ? new Uint8Array(0) : styp();
    let bytes: Uint8Array = new Uint8Array(prefix.byteLength + header.byteLength + data.byteLength);
    bytes.set(prefix);
    bytes.set(header, prefix.byteLength);
    bytes.set(data, prefix.byteLength + header.byteLength);
    if (options.wholeSegment) bytes = options.wholeSegment(number, bytes);
    let offset: Pick<SegmentInfo, 'offset'> = {};
    if (media) {
      await media.write(bytes);
      offset = { offset: mediaBytes };
      mediaBytes += bytes.byteLength;
    } else {
      await writeFile(join(options.dir, file), bytes);
    }
    const duration = samples.reduce((n, s) => n + s.duration, 0);
    const encrypted = protector ? { encrypted: extras.descriptionIndex !== 2 } : {};
    segments.push({ number, file, start: segment.start, duration, size: bytes.byteLength, ...encrypted, ...offset });
  };

  /** Ends the pending segment; `last`: no sample follows it. */
  const flush = async (last = false) => {
    if (!pending || pending.samples.length === 0 || !track) return;
    const length = pending.samples.reduce((n, s) => n + s.sample.duration, 0);
    if (last && held && length < step / 2) {
      held.samples.push(...pending.samples);
    } else {
      if (held) await write(held);
      held = pending;
    }
    pending = undefined;
  };

  for (const [part, fh] of handles.entries()) {
    const initParts: Uint8Array[] = [];
    let own: TrackInfo | undefined;
    let expectedNext: number | undefined;
    let ctoShift: number | undefined;
    let dtsBase = 0;
    for await (const box of topLevel(fh)) {
      if (box.type === 'ftyp' || box.type === 'moov') {
        if (own) throw new Error(`a ${box.type} box after the first fragment`);
        initParts.push(box.bytes!);
        continue;
      }
      if (box.type !== 'moof') continue;
      if (!own) {
        const init = concatBytes(initParts);
        own = readInit(init);
        const entry = sampleEntryOf(init);
        if (!track) {
          track = own;
          sampleEntry = entry;
          // No edit list: the B-frame delay goes into the composition offsets, the priming before
          // the programme offset.
          priming = track.handler === 'vide' ? 0 : track.editMediaTime;
          shift = Math.round((options.programmeOffset ?? 0) * track.timescale);
          base = shift - priming;
          if (base + track.startOffset < 0) throw new Error(`a programme offset of ${shift} ticks cannot hold a priming of ${priming}`);
          const edited = withoutEdits(init);
          protector = options.protect?.(track, edited);
          initBytes = protector?.init ?? edited;
          if (!media) await writeFile(join(options.dir, initName), initBytes);
          step = Math.round(options.segmentDuration * track.timescale);
          if (options.endAt !== undefined) end = Math.round(options.endAt * track.timescale);
          // The first boundary is one segment in: a track's first segment starts with the track,
          // priming included.
          boundary = step;
        } else {
          if (own.timescale !== track.timescale) throw new Error(`part ${part + 1} has timescale ${own.timescale}, the first part ${track.timescale}`);
          if (!sameBytes(entry, sampleEntry!)) throw new Error(`part ${part + 1} has another codec configuration than the first part`);
        }
      }
      const fragment = readMoof(box.bytes!, box.start, own);
      // The first part keeps the muxer's decode times; a later part starts where the previous ended.
      if (expectedNext === undefined && part > 0) dtsBase = fragment.baseDecodeTime;
      let dts = fragment.baseDecodeTime;
      if (expectedNext !== undefined && dts !== expectedNext) {
        // The muxer's decode times are authoritative; a jump means samples are missing or repeated.
        throw new Error(`fragment ${fragment.sequence} starts at ${dts}, the previous one ended at ${expectedNext}`);
      }
      ctoShift ??= own.handler === 'vide' ? firstPresentation(fragment.samples) : 0;
      for (const sample of fragment.samples) {
        sample.cto -= ctoShift;
        // The first part keeps its own start offset (a track starting after the others); later
        // parts continue where the previous one ended.
        const out = partStart + dts - dtsBase + (part === 0 ? track!.startOffset : 0);
        // Programme time: an IDR frame presents at its decode time once shifted; an audio sample
        // is late by the priming before it.
        const shown = out - priming;
        if (shown >= end) {
          dts += sample.duration;
          continue;
        }
        const sync = !(sample.flags & NON_SYNC);
        // Half a frame of tolerance: a boundary that falls between two frames belongs to the later.
        if (pending && sync && shown + sample.duration / 2 >= boundary) await flush();
        if (!pending) {
          while (boundary <= shown + sample.duration / 2) boundary += step;
          pending = { start: out + base, slot: Math.round(boundary / step) - 1, samples: [] };
        }
        pending.samples.push({ sample, fh });
        dts += sample.duration;
      }
      expectedNext = dts;
    }
    if (expectedNext !== undefined) partStart += expectedNext - dtsBase + (part === 0 ? track!.startOffset : 0);
  }
  await flush(true);
  if (held) await write(held);
  // No sample at all, or none before `endAt` (audio that would start after the picture ends).
  if (!track || !initBytes || segments.length === 0) throw new NoFragmentsError();
  const duration = segments.reduce((n, s) => n + s.duration, 0);
  return {
    track,
    initFile: initName,
    mediaPattern: pattern,
    initSize: initBytes.byteLength,
    segments,
    duration,
    priming,
    presentationTimeOffset: shift,
    ...(media ? { initBytes } : {}),
  };
}

/** Writes `path`: the init segment, the `sidx` of the segments, then the segments from `scratch`. */
async function joinSingleFile(path: string, segmented: SegmentedTrack & { initBytes?: Uint8Array }, scratch: string): Promise<SegmentedTrack> {
  const { initBytes, ...track } = segmented;
  const initSize = initBytes!.byteLength;
  const index = sidx({
    trackId: track.track.trackId,
    timescale: track.track.timescale,
    // Media time, as tfdt: video presents each segment's IDR frame at its decode time, audio its
    // first frame (priming included). `presentationTimeOffset` maps it to the programme.
    earliestPresentationTime: track.segments[0]?.start ?? 0,
    firstOffset: 0,
    references: track.segments.map((s) => ({ size: s.size, duration: s.duration })),
  });
  const base = initSize + index.byteLength;
  const out = await open(path, 'wx');
  try {
    await out.write(initBytes!);
    await out.write(index);
    const from = await open(scratch, 'r');
    try {
      const chunk = new Uint8Array(1 << 20);
      for (;;) {
        const { bytesRead } = await from.read(chunk, 0, chunk.byteLength);
        if (bytesRead === 0) break;
        await out.write(chunk, 0, bytesRead);
      }
    } finally {
      await from.close();
    }
  } finally {
    await out.close();
  }
  return {
    ...track,
    segments: track.segments.map((s) => ({ ...s, offset: base + s.offset! })),
    ranges: { init: [0, initSize - 1], index: [initSize, base - 1] },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
}

/** How far after its decode time the earliest picture of a run presents. */
function firstPresentation(samples: readonly Sample[]): number {
  let dts = 0;
  let earliest = Infinity;
  for (const s of samples) {
    earliest = Math.min(earliest, dts + s.cto);
    dts += s.duration;
  }
  return Number.isFinite(earliest) ? earliest : 0;
}

async function readSamples(samples: ReadonlyArray<{ sample: Sample; fh: FileHandle }>): Promise<Uint8Array> {
  const total = samples.reduce((n, s) => n + s.sample.size, 0);
  const out = new Uint8Array(total);
  let at = 0;
  let i = 0;
  // Samples of one source fragment are contiguous: read each run in one call.
  while (i < samples.length) {
    const { sample: first, fh } = samples[i]!;
    let runEnd = first.offset + first.size;
    let j = i + 1;
    while (j < samples.length && samples[j]!.fh === fh && samples[j]!.sample.offset === runEnd) runEnd += samples[j++]!.sample.size;
    const chunk = await readAt(fh, first.offset, runEnd - first.offset);
    out.set(chunk, at);
    at += chunk.byteLength;
    i = j;
  }
  return out;
}
