/**
 * Protected packages, proven on real bytes: one plan's jobs run once, and their parts are stitched
 * clear, with cenc, with cbcs (per-track keys, clear lead) and with whole-segment AES-128. Every
 * protected segment decrypts to the clear package's samples bit for bit (this package's own
 * decryptor), the FFmpeg core decrypts the cenc and cbcs tracks itself and decodes the same frames
 * and audio, and every box the players read (sinf, tenc, pssh, senc, saiz, saio) says what it must.
 * The same parts also stitch under other segment names.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunkResult, createEngine, type Engine, type PackagedTrack, type PackagePlan, type PackageResult } from '../dist/index.js';
import { readProtection } from '../dist/packaging/cenc-boxes.js';
import { decryptSegment } from '../dist/packaging/decrypt-track.js';
import { ParameterSets, sliceHeaderSize } from '../dist/packaging/h264-headers.js';
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';
import { readInitSegment, readSegment } from './helpers/mp4.js';
import { encodeParts } from './helpers/package-parts.js';

const KID = '0123456789abcdef0123456789abcdef';
const KEY = '00112233445566778899aabbccddeeff';
const VIDEO_KID = 'aaaaaaaa-bbbb-cccc-dddd-000000000001';
const VIDEO_KEY = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
const AUDIO_KID = 'aaaaaaaabbbbccccdddd000000000002';
const AUDIO_KEY = '1f2e3d4c5b6a79880716253443526170';
const AES_KEY = '5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a';
const hex = (s: string) => Buffer.from(s.replace(/-/g, ''), 'hex');
const uuid = (s: string) => {
  const h = s.replace(/-/g, '');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

let engine: Engine;
let dir: string;
const source = media('video', 'oa4-launch-vp8-vorbis.webm');
let plan: PackagePlan;
let results: ChunkResult[];
let clear: PackageResult;
let cenc: PackageResult;
let cbcs: PackageResult;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  ({ plan, results } = await encodeParts(engine, source, { video: ['360p', '240p'], audio: ['aac-64'], segmentDuration: 1 }, dir));
  clear = await engine.stitch(plan, results, { outputDir: join(dir, 'clear') });
  cenc = await engine.stitch(plan, results, {
    outputDir: join(dir, 'cenc'),
    encryption: { scheme: 'cenc', keys: [{ kid: KID, key: KEY }], systems: ['clearkey', 'widevine'] },
  });
  cbcs = await engine.stitch(plan, results, {
    outputDir: join(dir, 'cbcs'),
    encryption: {
      scheme: 'cbcs',
      keys: [
        { kid: VIDEO_KID, key: VIDEO_KEY, type: 'video' },
        { kid: AUDIO_KID, key: AUDIO_KEY, type: 'audio' },
      ],
      clearLead: 1,
    },
  });
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

const bytes = async (pkg: PackageResult, rel: string) => new Uint8Array(await readFile(join(pkg.outputDir, rel)));
const trackOf = (pkg: PackageResult, id: string) => [...pkg.video, ...pkg.audio].find((t) => t.id === id)!;
const segmentPath = (t: PackagedTrack, file: string) => `${t.id}/${file}`;

/** The samples of a clear segment, read with the tests' own box reader. */
function clearSamples(segment: Uint8Array): Uint8Array[] {
  return readSegment(segment).samples.map((s) => segment.slice(s.offset, s.offset + s.size));
}

const TRACKS = ['360p', '240p', 'aac-64'];

describe.each([
  ['cenc', () => cenc, (_kind: string) => KEY],
  ['cbcs', () => cbcs, (kind: string) => (kind === 'video' ? VIDEO_KEY : AUDIO_KEY)],
] as Array<[string, () => PackageResult, (kind: string) => string]>)('%s package', (scheme, pkg, keyFor) => {
  it.each(TRACKS)('%s: every segment decrypts to the clear samples, bit for bit', async (id) => {
    const t = trackOf(pkg(), id);
    const c = trackOf(clear, id);
    const init = await bytes(pkg(), t.init);
    expect(t.segments.length).toBe(c.segments.length);
    expect(t.segments.length).toBeGreaterThan(1);
    let encryptedSegments = 0;
    for (const [i, s] of t.segments.entries()) {
      const protectedSegment = await bytes(pkg(), segmentPath(t, s.file));
      const expected = clearSamples(await bytes(clear, segmentPath(c, c.segments[i]!.file)));
      const out = decryptSegment(init, protectedSegment, hex(keyFor(t.kind)));
      expect(out.samples.length).toBe(expected.length);
      expect(
        out.samples.every((sample, k) => Buffer.from(sample).equals(expected[k]!)),
        `${id} segment ${s.number}`,
      ).toBe(true);
      // What was stored differs from the clear samples wherever a segment is protected.
      const stored = clearSamples(protectedSegment);
      const changed = stored.filter((sample, k) => !Buffer.from(sample).equals(expected[k]!)).length;
      if (s.encrypted) {
        encryptedSegments++;
        expect(out.aux === null).toBe(false);
        expect(changed).toBeGreaterThan(expected.length / 2);
      } else {
        expect(out.aux).toBeNull();
        expect(changed).toBe(0);
      }
    }
    expect(encryptedSegments).toBe(scheme === 'cbcs' ? t.segments.length - 1 : t.segments.length);
  });

  it.each(TRACKS)('%s: sample entry, sinf and tenc as the scheme says', async (id) => {
    const t = trackOf(pkg(), id);
    const init = await bytes(pkg(), t.init);
    const p = readProtection(init);
    const video = t.kind === 'video';
    // A clear lead keeps the clear entry second, for the clear segments' tfhd to point at.
    expect(p.entries).toEqual(scheme === 'cbcs' ? [video ? 'encv' : 'enca', video ? 'avc1' : 'mp4a'] : [video ? 'encv' : 'enca']);
    expect(p.originalFormat).toBe(video ? 'avc1' : 'mp4a');
    expect(p.tenc.scheme).toBe(scheme);
    const kid = scheme === 'cenc' ? KID : video ? VIDEO_KID : AUDIO_KID;
    expect(Buffer.from(p.tenc.kid).toString('hex')).toBe(kid.replace(/-/g, ''));
    if (scheme === 'cenc') {
      expect(p.tenc.perSampleIvSize).toBe(8);
      expect([p.tenc.cryptByteBlock, p.tenc.skipByteBlock]).toEqual([0, 0]);
    } else {
      expect(p.tenc.perSampleIvSize).toBe(0);
      expect(p.tenc.constantIv?.byteLength).toBe(16);
      expect([p.tenc.cryptByteBlock, p.tenc.skipByteBlock]).toEqual(video ? [1, 9] : [0, 0]);
    }
    // pssh v1: each system named, with every key ID of the package.
    const kids = scheme === 'cenc' ? [KID] : [VIDEO_KID, AUDIO_KID].map((k) => k.replace(/-/g, ''));
    const systems = scheme === 'cenc' ? ['1077efecc0b24d02ace33c1e52e2fb4b', 'edef8ba979d64acea3c827dcd51d21ed'] : ['1077efecc0b24d02ace33c1e52e2fb4b'];
    expect(p.pssh.map((x) => x.systemId)).toEqual(systems);
    for (const box of p.pssh) expect(box.kids).toEqual(kids);
    const widevine = p.pssh.find((x) => x.systemId.startsWith('edef'));
    // WidevinePsshData: key_id (field 2) then protection_scheme (field 9) = 'cenc'.
    if (widevine) expect(Buffer.from(widevine.data).toString('hex')).toBe(`1210${KID}48e3dc959b06`);
    // The clear track's description is otherwise unchanged: same size and codec as the clear package's.
    expect(readInitSegment(init).timescale).toBe(readInitSegment(await bytes(clear, trackOf(clear, id).init)).timescale);
    expect(t.codecs).toBe(trackOf(clear, id).codecs);
  });

  it('video: slice headers stay clear, and cenc protects whole 16-byte blocks', async () => {
    const t = trackOf(pkg(), '360p');
    const c = trackOf(clear, '360p');
    const init = await bytes(pkg(), t.init);
    const sets = new ParameterSets();
    for (const nal of parameterSets(await bytes(clear, c.init))) sets.add(nal);
    let checked = 0;
    for (const [i, s] of t.segments.entries()) {
      if (!s.encrypted) continue;
      const protectedSegment = await bytes(pkg(), segmentPath(t, s.file));
      const stored = clearSamples(protectedSegment);
      const expected = clearSamples(await bytes(clear, segmentPath(c, c.segments[i]!.file)));
      const { aux } = decryptSegment(init, protectedSegment, hex(keyFor('video')));
      stored.forEach((sample, k) => {
        const plain = Buffer.from(expected[k]!);
        let at = 0;
        while (at < plain.length) {
          const size = plain.readUInt32BE(at);
          const nal = plain.subarray(at + 4, at + 4 + size);
          const type = nal[0]! & 0x1f;
          const clearBytes = type === 1 || type === 5 ? sliceHeaderSize(nal, sets) : size;
          expect(Buffer.from(sample.subarray(at, at + 4 + clearBytes)).equals(plain.subarray(at, at + 4 + clearBytes))).toBe(true);
          at += 4 + size;
          checked++;
        }
        for (const sub of aux![k]!.subsamples!) if (scheme === 'cenc') expect(sub.protected % 16).toBe(0);
      });
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('the FFmpeg core decrypts the video and audio tracks and decodes the clear package’s frames and samples', async () => {
    const files = resolveCore('stock');
    const core = await FFmpegCore.create(await compileCore(files), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 512 * 1024 ** 2,
      core: files,
    });
    const decode = async (p: PackageResult, id: string, key: string | null) => {
      const t = trackOf(p, id);
      const parts = [await bytes(p, t.init), ...(await Promise.all(t.segments.map((s) => bytes(p, segmentPath(t, s.file)))))];
      core.setHeapBudget(512 * 1024 ** 2);
      core.FS.writeFile('/in.mp4', Buffer.concat(parts));
      const raw = t.kind === 'video' ? ['-map', '0:v:0', '-c:v', 'rawvideo', '-f', 'rawvideo'] : ['-map', '0:a:0', '-c:a', 'pcm_s16le', '-f', 's16le'];
      // +ignidx: FFmpeg 5.1 reads every moof of a seekable file up front and would then decrypt
      // each sample with the last fragment's senc; read lazily, each fragment uses its own.
      const decrypt = key ? ['-fflags', '+ignidx', '-decryption_key', key] : [];
      const exit = await core.exec(['-hide_banner', '-loglevel', 'error', ...decrypt, '-i', '/in.mp4', ...raw, '/out.raw']);
      expect(exit.code, `${id} ${key ? 'decrypted' : 'clear'}`).toBe(0);
      return core.FS.readFile('/out.raw') as Uint8Array;
    };
    for (const id of ['360p', 'aac-64']) {
      const kind = id === '360p' ? 'video' : 'audio';
      const want = await decode(clear, id, null);
      const got = await decode(pkg(), id, keyFor(kind));
      expect(got.length).toBeGreaterThan(0);
      expect(createHash('md5').update(got).digest('hex'), `${scheme} ${id}`).toBe(createHash('md5').update(want).digest('hex'));
    }
  });
});

/** The SPS and PPS NAL units of an init segment's avcC. */
function parameterSets(init: Uint8Array): Uint8Array[] {
  const at = Buffer.from(init).indexOf('avcC') + 4;
  const out: Uint8Array[] = [];
  let p = at + 5;
  for (const countMask of [0x1f, 0xff]) {
    const count = init[p++]! & countMask;
    for (let i = 0; i < count; i++) {
      const len = (init[p]! << 8) | init[p + 1]!;
      out.push(init.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
  }
  return out;
}

describe('manifests of a protected package', () => {
  it('DASH: ContentProtection with the default KID of each AdaptationSet, and a pssh per system', async () => {
    const xml = await readFile(cenc.dash!, 'utf8');
    expect(xml).toContain('xmlns:cenc="urn:mpeg:cenc:2013"');
    const sets = xml.split('<AdaptationSet').slice(1);
    expect(sets.length).toBe(2);
    for (const set of sets) {
      expect(set).toContain(`<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="${uuid(KID)}"/>`);
      expect(set).toMatch(/schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"><cenc:pssh>[A-Za-z0-9+/=]+<\/cenc:pssh>/);
      expect(set).toMatch(/schemeIdUri="urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed" value="Widevine"><cenc:pssh>[A-Za-z0-9+/=]+<\/cenc:pssh>/);
    }
    // Per-track keys: the video set names the video key, the audio set the audio key.
    const perTrack = (await readFile(cbcs.dash!, 'utf8')).split('<AdaptationSet').slice(1);
    expect(perTrack[0]).toContain(`value="cbcs" cenc:default_KID="${uuid(VIDEO_KID)}"`);
    expect(perTrack[1]).toContain(`value="cbcs" cenc:default_KID="${uuid(AUDIO_KID)}"`);
  });

  it('HLS: SAMPLE-AES keys after the clear lead, and session keys in the master', async () => {
    const media = await readFile(join(cbcs.outputDir, '360p', 'playlist.m3u8'), 'utf8');
    const lines = media.split('\n');
    const key = lines.findIndex((l) => l.startsWith('#EXT-X-KEY:'));
    expect(lines[key]).toMatch(
      /^#EXT-X-KEY:METHOD=SAMPLE-AES,URI="data:text\/plain;base64,[A-Za-z0-9+/=]+",KEYID=0x[0-9a-f]{32},KEYFORMAT="org\.w3\.clearkey",KEYFORMATVERSIONS="1"$/,
    );
    expect(lines[key]).toContain(`KEYID=0x${VIDEO_KID.replace(/-/g, '')}`);
    // One clear segment (1 s lead of 1 s segments) comes before the key.
    expect(lines.slice(0, key).filter((l) => l.startsWith('#EXTINF')).length).toBe(1);
    expect(lines.findIndex((l) => l.startsWith('#EXT-X-MAP'))).toBeLessThan(key);
    const master = await readFile(cbcs.hls!, 'utf8');
    expect(master).toMatch(/#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="data:text\/plain;base64,[^"]+",KEYFORMAT="org\.w3\.clearkey",KEYFORMATVERSIONS="1"/);
    const ctr = await readFile(join(cenc.outputDir, 'aac-64', 'playlist.m3u8'), 'utf8');
    expect(ctr.match(/#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,/g)?.length).toBe(2);
    expect(ctr.split('\n').findIndex((l) => l.startsWith('#EXT-X-KEY'))).toBeLessThan(ctr.split('\n').findIndex((l) => l.startsWith('#EXTINF')));
  });
});

describe('AES-128 HLS', () => {
  it('encrypts each whole segment with the sequence number as IV; the init segment stays clear', async () => {
    const audioPlan = await engine.planPackage({ path: source }, { audioOnly: true, audio: ['aac-64'], formats: ['hls'], segmentDuration: 1 });
    const parts: ChunkResult[] = [];
    for (const job of audioPlan.jobs) parts.push(await engine.runChunk({ path: source }, audioPlan, job.id, { outputDir: join(dir, 'aes-parts') }));
    const plain = await engine.stitch(audioPlan, parts, { outputDir: join(dir, 'aes-clear') });
    const aes = await engine.stitch(audioPlan, parts, { outputDir: join(dir, 'aes'), hlsAes128: { key: AES_KEY, keyUri: 'https://keys.example/k1' } });
    const t = aes.audio[0]!;
    expect(await bytes(aes, t.init)).toEqual(await bytes(plain, plain.audio[0]!.init));
    for (const s of t.segments) {
      const iv = Buffer.alloc(16);
      iv.writeUInt32BE(s.number, 12);
      const decipher = createDecipheriv('aes-128-cbc', hex(AES_KEY), iv);
      const stored = await bytes(aes, segmentPath(t, s.file));
      expect(stored.length % 16).toBe(0);
      expect(s.size).toBe(stored.length);
      const out = Buffer.concat([decipher.update(stored), decipher.final()]);
      expect(out.equals(Buffer.from(await bytes(plain, segmentPath(plain.audio[0]!, s.file))))).toBe(true);
    }
    const playlist = (await readFile(join(aes.outputDir, t.playlist), 'utf8')).split('\n');
    const key = playlist.indexOf('#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example/k1"');
    expect(key).toBeGreaterThan(playlist.findIndex((l) => l.startsWith('#EXT-X-MAP')));
    expect(key).toBeLessThan(playlist.findIndex((l) => l.startsWith('#EXTINF')));
    expect(await readFile(aes.hls!, 'utf8')).toContain('#EXT-X-SESSION-KEY:METHOD=AES-128,URI="https://keys.example/k1"');
  });
});

describe('bad keys and options are refused before any work', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'a key one byte short',
      { encryption: { scheme: 'cenc', keys: [{ kid: KID, key: KEY.slice(2) }] } },
      /encryption\.keys\[0\]\.key: must be 16 bytes as 32 hexadecimal digits, got 30 characters \(the value is not shown\)/,
    ],
    [
      'a key ID that is not hex',
      { encryption: { scheme: 'cenc', keys: [{ kid: 'zz'.repeat(16), key: KEY }] } },
      /encryption\.keys\[0\]\.kid: must be 16 bytes/,
    ],
    [
      'no key for the audio',
      { encryption: { scheme: 'cenc', keys: [{ kid: KID, key: KEY, type: 'video' }] } },
      /encryption\.keys: has no key for the audio tracks/,
    ],
    [
      'cbcs for Opus',
      { audio: ['opus-96'], encryption: { scheme: 'cbcs', keys: [{ kid: KID, key: KEY }] } },
      /encryption\.scheme: cbcs is supported for H\.264 and AAC; the opus-96 rendition is opus/,
    ],
    ['an unknown scheme', { encryption: { scheme: 'cens', keys: [{ kid: KID, key: KEY }] } }, /encryption\.scheme: must be one of cenc, cbcs/],
    [
      'an unknown DRM system',
      { encryption: { scheme: 'cenc', keys: [{ kid: KID, key: KEY }], systems: ['fairplay'] } },
      /encryption\.systems\[0\]: unknown DRM system/,
    ],
    ['AES-128 with DASH', { hlsAes128: { key: AES_KEY, keyUri: 'https://k' } }, /hlsAes128: encrypts segments for HLS only/],
    [
      'AES-128 and cenc together',
      { formats: ['hls'], hlsAes128: { key: AES_KEY, keyUri: 'https://k' }, encryption: { scheme: 'cenc', keys: [{ kid: KID, key: KEY }] } },
      /hlsAes128: and encryption are two ways/,
    ],
  ];
  it.each(cases)('%s', async (_name, options, message) => {
    const outputDir = join(dir, `refused-${Math.random().toString(36).slice(2)}`);
    const err = await engine.package({ path: source }, { video: ['240p'], audio: ['aac-64'], outputDir, ...options }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_OPTIONS' });
    expect(String((err as Error).message)).toMatch(message);
    expect(String((err as Error).message)).not.toContain(KEY.slice(2));
    expect(existsSync(outputDir)).toBe(false);
  });
});

describe('segment names', () => {
  it('follow initTemplate and segmentTemplate in the files, the playlists and the MPD', async () => {
    const named = await engine.stitch(plan, results, {
      outputDir: join(dir, 'named'),
      initTemplate: '$RepresentationID$-init.mp4',
      segmentTemplate: '$RepresentationID$-$Number%05d$.m4s',
    });
    const t = trackOf(named, '360p');
    expect(t.init).toBe('360p/360p-init.mp4');
    expect(t.segments.map((s) => s.file).slice(0, 2)).toEqual(['360p-00001.m4s', '360p-00002.m4s']);
    const c = trackOf(clear, '360p');
    for (const [i, s] of t.segments.entries())
      expect(await bytes(named, segmentPath(t, s.file))).toEqual(await bytes(clear, segmentPath(c, c.segments[i]!.file)));
    const xml = await readFile(named.dash!, 'utf8');
    expect(xml).toContain('initialization="360p/360p-init.mp4" media="360p/360p-$Number%05d$.m4s"');
    const playlist = await readFile(join(named.outputDir, t.playlist), 'utf8');
    expect(playlist).toContain('#EXT-X-MAP:URI="360p-init.mp4"');
    expect(playlist).toContain('\n360p-00001.m4s\n');
  });

  it.each([
    ['no $Number$', { segmentTemplate: 'seg.m4s' }, /segmentTemplate: must hold \$Number\$/],
    ['a folder', { segmentTemplate: '../seg-$Number$.m4s' }, /segmentTemplate: may use letters/],
    ['a hidden file', { initTemplate: '.init.mp4' }, /initTemplate: may use letters/],
    ['an init name a segment could take', { initTemplate: 'seg-1.m4s' }, /initTemplate: "seg-1\.m4s" could also be a segment's name/],
    ['the playlist', { initTemplate: 'playlist.m3u8' }, /initTemplate: would replace/],
  ])('refuses %s before any work', async (_name, options, message) => {
    const outputDir = join(dir, `bad-names-${Math.random().toString(36).slice(2)}`);
    const err = await engine.stitch(plan, results, { outputDir, ...options }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_OPTIONS' });
    expect(String((err as Error).message)).toMatch(message);
    expect(existsSync(outputDir)).toBe(false);
  });
});
