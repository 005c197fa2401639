/**
 * Hostile inputs: truncated and corrupted real files, random bytes, and playlists that point
 * outside the job (host files, the network). Every call either succeeds or fails with a typed
 * SandcodecError — never another error, never a crash — nothing outside the job is read, no
 * request leaves the process, and the same pool keeps serving afterwards.
 */

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, InputError, type MediaInput, SandcodecError } from '../dist/index.js';

const mediaDir = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Deterministic bytes (xorshift32), so a failure can be replayed exactly. */
function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

interface Variant {
  name: string;
  bytes: Uint8Array;
}

function variantsOf(original: Uint8Array, seed: number): Variant[] {
  const cut = (fraction: number) => original.slice(0, Math.floor(original.byteLength * fraction));
  const middle = original.slice();
  const noise = seededBytes(Math.min(4096, original.byteLength >> 3), seed);
  middle.set(noise, original.byteLength >> 1);
  const header = original.slice();
  header.set(seededBytes(64, seed + 1), 0);
  return [
    { name: 'first 256 bytes', bytes: original.slice(0, 256) },
    { name: 'first 10%', bytes: cut(0.1) },
    { name: 'first 50%', bytes: cut(0.5) },
    { name: 'first 90%', bytes: cut(0.9) },
    { name: 'noise in the middle', bytes: middle },
    { name: 'header overwritten', bytes: header },
  ];
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

async function outcome(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A failure must be typed and must not be a crash or a bug of ours. */
function expectTyped(o: Outcome, what: string): void {
  if (o.ok) return;
  expect(o.error, what).toBeInstanceOf(SandcodecError);
  expect((o.error as SandcodecError).code, `${what}: ${(o.error as Error).message}`).not.toBe('E_INTERNAL');
}

function codeOf(o: Outcome): string {
  return o.ok ? 'ok' : (o.error as SandcodecError).code;
}

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await mkdtemp(join(tmpdir(), 'sandcodec-hostile-'));
});

afterAll(async () => {
  await engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const REAL_FILES = [
  'audio/alsa-Front_Center.wav',
  'audio/ambi_lunar_land.flac',
  'audio/codec2-ve9qrp.wav',
  'audio/freedesktop-complete.oga',
  'audio/illurock.opus',
  'audio/loop_amen.flac',
  'audio/puredata-bell.aiff',
  'audio/renpyallstars.ogg',
  'video/oa4-launch-vp8-vorbis.webm',
  'video/realshort-h264-aac.mp4',
  'video/gem-anim-1-mjpeg.mov',
];

describe('damaged real files', () => {
  REAL_FILES.forEach((file, index) => {
    it(`${file}: truncated and corrupted copies fail typed, or decode to no more than the original`, async () => {
      const original = new Uint8Array(await readFile(join(mediaDir, file)));
      const hasAudio = file !== 'video/gem-anim-1-mjpeg.mov';
      const full = hasAudio ? await engine.probe(original, { decode: true }) : undefined;
      const summary: string[] = [];
      for (const variant of variantsOf(original, 1000 + index)) {
        const input: MediaInput = { data: variant.bytes, name: file };
        const probed = await outcome(engine.probe(input));
        expectTyped(probed, `${variant.name}: probe`);
        const encoded = await outcome(engine.transcode(input, { preset: 'flac' }));
        expectTyped(encoded, `${variant.name}: transcode`);
        summary.push(`${variant.name}: probe ${codeOf(probed)}, flac ${codeOf(encoded)}`);

        if (encoded.ok) {
          // Whatever was salvaged is real audio, never more than the source holds.
          const bytes = (encoded.value as { bytes: Uint8Array }).bytes;
          const check = await engine.probe(bytes, { decode: true });
          expect(check.streams[0]!.codec).toBe('flac');
          expect(check.decodedDuration).toBeGreaterThan(0);
          expect(check.decodedDuration!).toBeLessThanOrEqual(full!.decodedDuration! + 0.05);
        }
        // FLAC frames carry their own parameters: with the stream header gone, FFmpeg (found by
        // the .flac name) still decodes every frame, as native ffmpeg does. It may pass only whole.
        const selfDescribing = file.endsWith('.flac') && variant.name === 'header overwritten';
        if (selfDescribing && encoded.ok) {
          const bytes = (encoded.value as { bytes: Uint8Array }).bytes;
          expect((await engine.probe(bytes, { decode: true })).decodedDuration).toBeCloseTo(full!.decodedDuration!, 2);
        } else if (variant.name === 'first 256 bytes' || (variant.name === 'header overwritten' && file.startsWith('audio/'))) {
          expect(codeOf(encoded), `${variant.name}: transcode`).toBe('E_INPUT_INVALID');
        }
        if (variant.name === 'header overwritten' && !selfDescribing) expect(encoded.ok, `${variant.name}: transcode`).toBe(false);
        // Ogg is a stream format: a cut copy is a shorter valid file with no trace of the cut.
        // Every other container here says (or shows) where it should end, so a cut copy is refused.
        if (variant.name.startsWith('first ') && !/\.(ogg|oga|opus)$/.test(file)) {
          expect(codeOf(encoded), `${variant.name}: transcode`).toBe('E_INPUT_INVALID');
        }
      }
      console.log(`${file}\n  ${summary.join('\n  ')}`);
    });
  });

  it('intact stills are not mistaken for inputs with nothing to decode (one frame ends at time 0)', async () => {
    for (const name of ['coffee.png', 'renpy-washington.jpg']) {
      const probe = await engine.probe({ path: join(mediaDir, 'image', name) }, { decode: true });
      expect(probe.streams[0]!.type).toBe('video');
      expect(probe.decodedDuration).toBeGreaterThanOrEqual(0);
    }
  });

  it('rejects an empty input and 64 KiB of random bytes as E_INPUT_INVALID', async () => {
    for (const input of [
      new Uint8Array(0),
      { data: new Uint8Array(0), name: 'x.wav' },
      seededBytes(65536, 7),
      { data: seededBytes(65536, 8), name: 'x.mp3' },
    ]) {
      for (const call of [() => engine.probe(input), () => engine.transcode(input, { preset: 'flac' })]) {
        const o = await outcome(call());
        expect(o.ok).toBe(false);
        expect((o as { error: unknown }).error).toBeInstanceOf(InputError);
        expect(codeOf(o)).toBe('E_INPUT_INVALID');
      }
    }
    const empty = join(dir, 'empty.wav');
    await writeFile(empty, new Uint8Array(0));
    expect(codeOf(await outcome(engine.probe({ path: empty })))).toBe('E_INPUT_INVALID');
    await rm(empty);
  });
});

describe('playlists and concat lists that point outside the job', () => {
  let server: Server;
  let port: number;
  const requests: string[] = [];
  let secret: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    // A real host file with real audio: if any playlist could reach it, a job would succeed.
    secret = join(dir, 'secret.wav');
    await engine.generate({ kind: 'sine', seconds: 5, frequency: 440, preset: 'wav', output: secret });
  });

  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  const cases = (): Array<[string, string, string]> => [
    ['m3u8', 'x.m3u8', `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n`],
    ['m3u8', 'x.m3u8', `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:${port}/seg.ts\n#EXT-X-ENDLIST\n`],
    ['m3u8', 'x.m3u8', `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:5,\n${secret}\n#EXT-X-ENDLIST\n`],
    ['m3u8', 'x.m3u8', `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:5,\nfile://${secret}\n#EXT-X-ENDLIST\n`],
    ['ffconcat', 'x.ffconcat', `ffconcat version 1.0\nfile 'file:///etc/passwd'\n`],
    ['ffconcat', 'x.ffconcat', `ffconcat version 1.0\nfile 'http://127.0.0.1:${port}/x.wav'\n`],
    ['ffconcat', 'x.ffconcat', `ffconcat version 1.0\nfile '${secret}'\n`],
    ['ffconcat', 'x.ffconcat', `ffconcat version 1.0\nfile 'file:${secret}'\n`],
  ];

  it('every list fails typed, as bytes and as a path, and the server sees no request', async () => {
    const seen: string[] = [];
    for (const [kind, name, text] of cases()) {
      const bytes = new TextEncoder().encode(text);
      const path = join(dir, name);
      await writeFile(path, bytes);
      for (const input of [{ data: bytes, name }, { path }] as MediaInput[]) {
        for (const call of [() => engine.probe(input, { decode: true }), () => engine.transcode(input, { preset: 'flac' })]) {
          const o = await outcome(call());
          const label = `${kind} ${JSON.stringify(text.split('\n').find((l) => /passwd|http|secret/.test(l)))}`;
          expect(o.ok, `${label} must not succeed`).toBe(false);
          expectTyped(o, label);
          if (!seen.includes(`${label}: ${codeOf(o)}`)) seen.push(`${label}: ${codeOf(o)}`);
        }
      }
      await rm(path);
    }
    console.log(seen.join('\n'));
    expect(requests).toEqual([]);
  });

  it('lists and text are refused by their demuxer, before any entry is opened', async () => {
    const refused: Array<[string, string, string]> = [
      ['x.m3u8', `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:5,\n${secret}\n#EXT-X-ENDLIST\n`, 'hls'],
      ['x.ffconcat', `ffconcat version 1.0\nfile '${secret}'\n`, 'concat'],
      ['notes.ans', 'plain text is not a video, whatever its extension says\n', 'tty'],
    ];
    for (const [name, text, demuxer] of refused) {
      const err = await engine.probe({ data: new TextEncoder().encode(text), name }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(InputError);
      expect((err as InputError).details.demuxer, name).toBe(demuxer);
      expect((err as InputError).message).toContain('not accepted as media');
    }
    expect(requests).toEqual([]);
  });

  it('a list read as a stream fails the same way', async () => {
    const text = `#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:${port}/stream.ts\n`;
    const o = await outcome(engine.transcode({ stream: new Blob([text]).stream(), name: 'live.m3u8' }, { preset: 'flac' }));
    expect(o.ok).toBe(false);
    expectTyped(o, 'stream m3u8');
    expect(requests).toEqual([]);
  });

  it('leaves nothing behind and the pool still serves: the secret file itself transcodes', async () => {
    expect((await readdir(dir)).sort()).toEqual(['secret.wav']);
    const out = await engine.transcode({ path: secret }, { preset: 'flac' });
    const check = await engine.probe(out.bytes!, { decode: true });
    expect(check.decodedDuration).toBeCloseTo(5, 2);
    expect(check.streams[0]!.sampleRate).toBe(44100);
    expect(engine.inFlight).toBe(0);
  });
});
