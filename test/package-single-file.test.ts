/**
 * Single-file packages: one plan's jobs run once and are stitched both ways, as segment files and
 * as one file per rendition. Each single file is exactly the init segment, a `sidx` indexing every
 * segment, then the very moof + mdat bytes of the segment files; the HLS byte ranges and the DASH
 * `SegmentBase` ranges land on those boxes; the FFmpeg core decodes the file to the same frames and
 * samples as the segmented package; and a cenc-protected single file decrypts to the clear samples.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkResult, createEngine, type Engine, OptionsError, type PackagedTrack, type PackagePlan, type PackageResult } from '../dist/index.js';
import { readProtection } from '../dist/packaging/cenc-boxes.js';
import { decryptSegment } from '../dist/packaging/decrypt-track.js';
import { readSidx } from '../dist/packaging/sidx.js';
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { parsePlaylist } from './helpers/manifests.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';
import { readSegment, walk } from './helpers/mp4.js';
import { encodeParts } from './helpers/package-parts.js';

const KID = '0123456789abcdef0123456789abcdef';
const KEY = '00112233445566778899aabbccddeeff';

let engine: Engine;
let dir: string;
const source = media('video', 'oa4-launch-vp8-vorbis.webm');
let plan: PackagePlan;
let results: ChunkResult[];
let segmented: PackageResult;
let single: PackageResult;
let protectedSingle: PackageResult;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  ({ plan, results } = await encodeParts(engine, source, { video: ['360p', '240p'], audio: ['aac-64'], segmentDuration: 1 }, dir));
  segmented = await engine.stitch(plan, results, { outputDir: join(dir, 'segmented') });
  single = await engine.stitch(plan, results, { outputDir: join(dir, 'single'), singleFile: true });
  protectedSingle = await engine.stitch(plan, results, {
    outputDir: join(dir, 'cenc'),
    singleFile: true,
    encryption: { scheme: 'cenc', keys: [{ kid: KID, key: KEY }], systems: ['clearkey'] },
  });
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

const bytes = async (pkg: PackageResult, rel: string) => new Uint8Array(await readFile(join(pkg.outputDir, rel)));
const tracks = (pkg: PackageResult) => [...pkg.video, ...pkg.audio];
const trackOf = (pkg: PackageResult, id: string) => tracks(pkg).find((t) => t.id === id)!;

describe('a single-file package', () => {
  it('writes one file per rendition: ftyp, moov, sidx, then a moof and an mdat per segment', async () => {
    expect(single.video.map((t) => t.id)).toEqual(['360p', '240p']);
    for (const t of tracks(single)) {
      expect(t.init).toBe(`${t.id}/${t.id}.mp4`);
      expect((await readdir(join(single.outputDir, t.id))).sort()).toEqual([`${t.id}.mp4`, 'playlist.m3u8']);
      const file = await bytes(single, t.init);
      const top = walk(file).map((b) => b.type);
      expect(top.slice(0, 3)).toEqual(['ftyp', 'moov', 'sidx']);
      expect(top.slice(3)).toEqual(t.segments.flatMap(() => ['moof', 'mdat']));
      expect(t.segments.length).toBeGreaterThan(1);
      expect(new Set(t.segments.map((s) => s.file))).toEqual(new Set([`${t.id}.mp4`]));
    }
  });

  it('indexes every segment in its sidx: sizes, durations, start, and a sync sample first', async () => {
    for (const t of tracks(single)) {
      const file = await bytes(single, t.init);
      const [, , sidxBox] = walk(file);
      const index = readSidx(file, sidxBox!.start);
      expect(index.end).toBe(t.ranges!.index[1] + 1);
      expect(index.timescale).toBe(t.timescale);
      expect(index.firstOffset).toBe(0);
      expect(index.references.map((r) => r.duration)).toEqual(t.segments.map((s) => s.duration));
      expect(index.references.map((r) => r.size)).toEqual(t.segments.map((s) => s.size));
      // Walking the references from the end of the sidx lands on each moof, and ends at the end of the file.
      let at = index.end + index.firstOffset;
      index.references.forEach((r, i) => {
        expect(at, `segment ${i + 1} of ${t.id}`).toBe(t.segments[i]!.offset);
        const fragment = readSegment(file.subarray(at, at + r.size));
        expect(fragment.topLevel).toEqual(['moof', 'mdat']);
        if (i === 0) expect(fragment.tfdt).toBe(index.earliestPresentationTime);
        expect(fragment.tfdt).toBe(t.segments[i]!.start);
        if (t.kind === 'video') expect(fragment.samples[0]!.flags & 0x10000).toBe(0);
        at += r.size;
      });
      expect(at).toBe(file.byteLength);
    }
  });

  it('holds the init segment and the very segments of the segmented package', async () => {
    for (const t of tracks(single)) {
      const s = trackOf(segmented, t.id);
      const file = await bytes(single, t.init);
      const init = await bytes(segmented, s.init);
      expect(t.ranges!.init).toEqual([0, init.byteLength - 1]);
      expect(Buffer.from(file.subarray(0, init.byteLength)).equals(init)).toBe(true);
      for (const [i, seg] of s.segments.entries()) {
        const whole = await bytes(segmented, `${s.id}/${seg.file}`);
        // The segment file is styp + moof + mdat; the single file keeps moof + mdat.
        const styp = walk(whole)[0]!;
        expect(styp.type).toBe('styp');
        const body = whole.subarray(styp.end);
        const inFile = file.subarray(t.segments[i]!.offset!, t.segments[i]!.offset! + t.segments[i]!.size);
        expect(Buffer.from(inFile).equals(body), `segment ${i + 1} of ${t.id}`).toBe(true);
      }
    }
  });

  it('HLS: the map and every segment are byte ranges of the one file', async () => {
    for (const t of tracks(single)) {
      const text = await readFile(join(single.outputDir, t.playlist), 'utf8');
      const lines = text.split('\n');
      expect(lines).toContain(`#EXT-X-MAP:URI="${t.id}.mp4",BYTERANGE="${t.ranges!.init[1] + 1}@0"`);
      const ranges = lines.filter((l) => l.startsWith('#EXT-X-BYTERANGE:')).map((l) => l.slice('#EXT-X-BYTERANGE:'.length));
      expect(ranges).toEqual(t.segments.map((s) => `${s.size}@${s.offset}`));
      const playlist = parsePlaylist(text);
      expect(playlist.segments.map((s) => s.uri)).toEqual(t.segments.map(() => `${t.id}.mp4`));
      playlist.segments.forEach((s, i) => {
        expect(s.duration).toBeCloseTo(t.segments[i]!.duration / t.timescale, 5);
      });
    }
  });

  it('DASH: the on-demand profile, with a SegmentBase whose ranges are the init segment and the sidx', async () => {
    const xml = await readFile(single.dash!, 'utf8');
    expect(xml).toContain('profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"');
    expect(xml).not.toContain('SegmentTemplate');
    for (const t of tracks(single)) {
      const rep = xml.slice(xml.indexOf(`<Representation id="${t.id}"`));
      const block = rep.slice(0, rep.indexOf('</Representation>'));
      expect(block).toContain(`<BaseURL>${t.id}/${t.id}.mp4</BaseURL>`);
      // The sidx's earliest presentation time is media time, as tfdt: the offset maps it to the period.
      expect(t.presentationTimeOffset).toBeGreaterThan(0);
      expect(block).toContain(
        `<SegmentBase timescale="${t.timescale}" presentationTimeOffset="${t.presentationTimeOffset}" indexRange="${t.ranges!.index.join('-')}" indexRangeExact="true">`,
      );
      expect(block).toContain(`<Initialization range="0-${t.ranges!.init[1]}"/>`);
      const file = await bytes(single, t.init);
      const [first, last] = t.ranges!.index;
      expect(walk(file.subarray(first, last + 1)).map((b) => b.type)).toEqual(['sidx']);
    }
  });

  it('the FFmpeg core decodes each file to the segmented package’s frames and samples', async () => {
    const files = resolveCore('stock');
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 512 * 1024 ** 2,
      core: files,
    });
    const decode = async (t: PackagedTrack, input: Uint8Array, key: string | null) => {
      core.setHeapBudget(512 * 1024 ** 2);
      core.FS.writeFile('/in.mp4', input);
      const raw = t.kind === 'video' ? ['-map', '0:v:0', '-c:v', 'rawvideo', '-f', 'rawvideo'] : ['-map', '0:a:0', '-c:a', 'pcm_s16le', '-f', 's16le'];
      const decrypt = key ? ['-fflags', '+ignidx', '-decryption_key', key] : [];
      const exit = await core.exec(['-hide_banner', '-loglevel', 'error', ...decrypt, '-i', '/in.mp4', ...raw, '/out.raw']);
      expect(exit.code, t.id).toBe(0);
      return createHash('md5')
        .update(core.FS.readFile('/out.raw') as Uint8Array)
        .digest('hex');
    };
    for (const t of tracks(segmented)) {
      const parts = [await bytes(segmented, t.init), ...(await Promise.all(t.segments.map((s) => bytes(segmented, `${t.id}/${s.file}`))))];
      const want = await decode(t, Buffer.concat(parts), null);
      expect(await decode(t, await bytes(single, trackOf(single, t.id).init), null), t.id).toBe(want);
      expect(await decode(t, await bytes(protectedSingle, trackOf(protectedSingle, t.id).init), KEY), `${t.id} cenc`).toBe(want);
    }
  });

  it('a cenc single file decrypts, range by range, to the clear file’s bytes', async () => {
    for (const t of tracks(protectedSingle)) {
      const file = await bytes(protectedSingle, t.init);
      const clearFile = await bytes(single, trackOf(single, t.id).init);
      const init = file.subarray(0, t.ranges!.init[1] + 1);
      expect(readProtection(init).tenc.perSampleIvSize).toBe(8);
      for (const [i, s] of t.segments.entries()) {
        const { samples, aux } = decryptSegment(init, file.subarray(s.offset!, s.offset! + s.size), Buffer.from(KEY, 'hex'));
        expect(aux).not.toBeNull();
        const c = trackOf(single, t.id).segments[i]!;
        const clearSegment = clearFile.subarray(c.offset!, c.offset! + c.size);
        const clearSamples = readSegment(clearSegment).samples.map((x) => clearSegment.subarray(x.offset, x.offset + x.size));
        expect(samples.length).toBe(clearSamples.length);
        samples.forEach((sample, k) => {
          expect(Buffer.from(sample).equals(clearSamples[k]!), `sample ${k} of segment ${i + 1} of ${t.id}`).toBe(true);
        });
      }
    }
    const xml = await readFile(protectedSingle.dash!, 'utf8');
    expect(xml).toContain('urn:mpeg:dash:mp4protection:2011');
    expect(xml).toContain('<SegmentBase');
  });

  it('refuses names of segment files and whole-segment AES-128 with it, naming the option', async () => {
    const refused = async (options: Record<string, unknown>) => {
      const err = await engine.stitch(plan, results, { outputDir: join(dir, 'x'), ...options }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OptionsError);
      return (err as OptionsError).details.option;
    };
    expect(await refused({ singleFile: true, segmentTemplate: 'seg-$Number$.m4s' })).toBe('segmentTemplate');
    expect(await refused({ singleFile: true, initTemplate: 'init.mp4' })).toBe('initTemplate');
    expect(await refused({ singleFile: 'yes' })).toBe('singleFile');
    const aes = await engine
      .package({ path: source }, { outputDir: join(dir, 'x'), formats: ['hls'], singleFile: true, hlsAes128: { key: KEY, keyUri: 'https://keys.example/k' } })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(aes).toBeInstanceOf(OptionsError);
    expect((aes as OptionsError).details.option).toBe('singleFile');
  });
});
