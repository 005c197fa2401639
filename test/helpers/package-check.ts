/**
 * What a player (and a packaging validator) checks on a package: every manifest entry points at a
 * file; segments walk cleanly, start with an IDR frame (video), follow each other without gaps or
 * overlaps, and last the target duration within a frame (the last may be shorter); playlists and
 * MPD state the durations, codecs and sizes the segments actually have.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { PackagedTrack, PackageResult } from '../../dist/index.js';
import { isoSeconds, type Mpd, type Playlist, parseMpd, parsePlaylist } from './manifests.js';
import { nalTypes, readInitSegment, readSegment, walk } from './mp4.js';

export interface CheckedTrack {
  track: PackagedTrack;
  /** init + segments, concatenated: a playable fragmented MP4. */
  joined: Uint8Array;
  /** tfdt of each segment, in the timescale. */
  starts: number[];
  seconds: number;
}

const IDR = 5;
const VCL = new Set([1, 5]);

export function checkTrack(dir: string, track: PackagedTrack, target: number, frameSeconds: number | undefined): CheckedTrack {
  const initBytes = readFileSync(join(dir, track.init));
  expect(walk(initBytes).map((b) => b.type)).toEqual(['ftyp', 'moov']);
  const init = readInitSegment(initBytes);
  expect(init.timescale).toBe(track.timescale);
  if (track.kind === 'video') {
    expect(init.entry).toBe('avc1');
    // The codec string is the SPS's profile, constraint flags and level, whatever the manifests say.
    expect(track.codecs.toLowerCase()).toBe(init.avcCodec);
    expect([init.width, init.height]).toEqual([track.width, track.height]);
  }
  // Timing is carried by tfdt, signed composition offsets and the manifests, never by an edit list
  // (which some players ignore): the priming is presented before the programme offset.
  expect(init.editMediaTime).toBeUndefined();
  expect(track.presentationTimeOffset).toBeGreaterThanOrEqual(track.priming);
  const parts: Uint8Array[] = [initBytes];
  const starts: number[] = [];
  let expected: number | undefined;
  let total = 0;
  track.segments.forEach((seg, i) => {
    const bytes = readFileSync(join(dir, track.id, seg.file));
    expect(bytes.byteLength).toBe(seg.size);
    const frag = readSegment(bytes);
    expect(frag.topLevel).toEqual(['styp', 'moof', 'mdat']);
    // Continuity: each segment starts where the previous one ended.
    if (expected !== undefined) expect(frag.tfdt).toBe(expected);
    const duration = frag.samples.reduce((n, s) => n + s.duration, 0);
    expect(duration).toBe(seg.duration);
    starts.push(frag.tfdt);
    expected = frag.tfdt + duration;
    total += duration;
    // Programme time: media time less the programme offset; the priming presents before 0.
    if (i === 0) expect(frag.tfdt + track.priming - track.presentationTimeOffset).toBe(Math.round(track.start * track.timescale));
    const seconds = (duration - (i === 0 ? track.priming : 0)) / track.timescale;
    const end = (frag.tfdt + duration - track.presentationTimeOffset) / track.timescale;
    // Audio: within one of its frames (AAC 1024 samples, FLAC 4608, Opus 960).
    const tolerance = frameSeconds ?? Math.max(...frag.samples.map((x) => x.duration)) / track.timescale;
    if (i < track.segments.length - 1) {
      // Every segment but the last ends on a boundary; a track that starts late has a short first one.
      expect(Math.abs(end - Math.round(end / target) * target)).toBeLessThanOrEqual(tolerance + 1e-9);
      if (i > 0 || track.start < tolerance) expect(Math.abs(seconds - target)).toBeLessThanOrEqual(tolerance + 1e-9);
    } else {
      // The last: a whole segment at most, or one with a tail under half a segment folded in.
      expect(seconds).toBeLessThan(target * 1.5 + tolerance + 1e-9);
      if (track.segments.length > 1) expect(seconds).toBeGreaterThanOrEqual(target / 2 - 1e-9);
    }
    const folded = i === track.segments.length - 1 && seconds > target + tolerance + 1e-9;
    if (track.kind === 'video') {
      const first = frag.samples[0]!;
      expect(first.flags & 0x10000, `segment ${seg.number} of ${track.id} starts on a sync sample`).toBe(0);
      const types = nalTypes(bytes.subarray(first.offset, first.offset + first.size), init.nalLengthSize!);
      expect(
        types.find((t) => VCL.has(t)),
        `segment ${seg.number} of ${track.id} starts with an IDR`,
      ).toBe(IDR);
      // No other IDR inside the segment: GOPs are exactly one segment long (a folded tail brings its own).
      const inside = frag.samples.slice(1).filter((s) => !(s.flags & 0x10000)).length;
      expect(inside, `IDR frames inside segment ${seg.number} of ${track.id}`).toBe(folded ? 1 : 0);
      // The IDR presents first, at the segment's decode time: B-frame reordering delays nothing.
      let dts = frag.tfdt;
      const presented = frag.samples.map((s) => {
        const at = dts + s.cto;
        dts += s.duration;
        return at;
      });
      expect(Math.min(...presented), `segment ${seg.number} of ${track.id} presents from its tfdt`).toBe(frag.tfdt);
      expect(presented[0]).toBe(frag.tfdt);
    }
    parts.push(bytes);
  });
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.byteLength;
  }
  expect((total - track.priming) / track.timescale).toBeCloseTo(track.duration, 6);
  return { track, joined, starts, seconds: total / track.timescale };
}

export interface CheckedPackage {
  master?: Playlist;
  mpd?: Mpd;
  tracks: CheckedTrack[];
}

export function checkPackage(result: PackageResult, frameSeconds: number | undefined): CheckedPackage {
  const dir = result.outputDir;
  const target = result.segmentDuration;
  const tracks = [...result.video, ...result.audio].map((t) => checkTrack(dir, t, target, t.kind === 'video' ? frameSeconds : undefined));
  const out: CheckedPackage = { tracks };
  if (result.hls) {
    const master = parsePlaylist(readFileSync(result.hls, 'utf8'));
    out.master = master;
    expect(master.tags.get('#EXT-X-VERSION')).toEqual(['7']);
    expect(master.tags.has('#EXT-X-INDEPENDENT-SEGMENTS')).toBe(true);
    for (const t of [...result.video, ...result.audio]) {
      const pl = parsePlaylist(readFileSync(join(dir, t.playlist), 'utf8'));
      expect(pl.tags.get('#EXT-X-VERSION')).toEqual(['7']);
      expect(pl.tags.get('#EXT-X-PLAYLIST-TYPE')).toEqual(['VOD']);
      expect(pl.tags.has('#EXT-X-ENDLIST')).toBe(true);
      expect(pl.tags.has('#EXT-X-INDEPENDENT-SEGMENTS')).toBe(true);
      const map = pl.tags.get('#EXT-X-MAP')![0]!;
      expect(existsSync(join(dir, t.id, /URI="([^"]+)"/.exec(map)![1]!))).toBe(true);
      expect(pl.segments.map((s) => s.uri)).toEqual(t.segments.map((s) => s.file));
      pl.segments.forEach((s, i) => {
        expect(existsSync(join(dir, t.id, s.uri))).toBe(true);
        expect(s.duration).toBeCloseTo(t.segments[i]!.duration / t.timescale, 5);
      });
      const max = Math.max(...pl.segments.map((s) => s.duration));
      expect(Number(pl.tags.get('#EXT-X-TARGETDURATION')![0])).toBe(Math.ceil(max - 1e-6));
    }
    for (const v of master.variants) {
      expect(existsSync(join(dir, v.uri))).toBe(true);
      expect(Number(v.attrs.BANDWIDTH)).toBeGreaterThanOrEqual(Number(v.attrs['AVERAGE-BANDWIDTH']));
      expect(v.attrs.CODECS).toBeTruthy();
    }
    for (const m of master.media) {
      expect(m.TYPE).toBe('AUDIO');
      expect(existsSync(join(dir, m.URI!))).toBe(true);
    }
  }
  if (result.dash) {
    const mpd = parseMpd(readFileSync(result.dash, 'utf8'));
    out.mpd = mpd;
    expect(mpd.attrs.type).toBe('static');
    expect(isoSeconds(mpd.attrs.mediaPresentationDuration!)).toBeCloseTo(result.duration, 2);
    expect(isoSeconds(mpd.attrs.minBufferTime!)).toBeGreaterThan(0);
    const all = [...result.video, ...result.audio];
    expect(mpd.representations.map((r) => r.id).sort()).toEqual(all.map((t) => t.id).sort());
    // One programme offset for every track (each in its own ticks): players that apply it, and
    // HLS players that see only media time, present the tracks in step.
    const offsets = all.map((t) => t.presentationTimeOffset / t.timescale);
    for (const [i, t] of all.entries()) expect(Math.abs(offsets[i]! - offsets[0]!)).toBeLessThanOrEqual(0.5 / t.timescale + 0.5 / all[0]!.timescale);
    for (const rep of mpd.representations) {
      const t = all.find((x) => x.id === rep.id)!;
      expect(rep.mimeType).toBe(t.kind === 'video' ? 'video/mp4' : 'audio/mp4');
      expect(rep.attrs.codecs).toBe(t.codecs);
      expect(Number(rep.attrs.bandwidth)).toBe(t.bandwidth);
      expect(rep.timescale).toBe(t.timescale);
      expect(rep.presentationTimeOffset).toBe(t.presentationTimeOffset);
      expect(existsSync(join(dir, rep.initialization))).toBe(true);
      const checked = tracks.find((c) => c.track === t)!;
      expect(rep.timeline.map((s) => s.t)).toEqual(checked.starts);
      expect(rep.timeline.map((s) => s.d)).toEqual(t.segments.map((s) => s.duration));
      rep.timeline.forEach((_, i) => {
        expect(existsSync(join(dir, rep.media.replace('$Number$', String(rep.startNumber + i))))).toBe(true);
      });
    }
  }
  return out;
}
