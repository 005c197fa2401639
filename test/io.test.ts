/**
 * Inputs of every accepted shape, outputs to bytes, files and directories, no partial output
 * after a failure, input size limits, and the sandbox's promise that inputs are read through
 * descriptors instead of being loaded into the wasm heap.
 */
import { createReadStream, readdirSync } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type MediaInput, SandcodecError } from '../dist/index.js';
import { makeTempDir, media, removeTempDir } from './helpers/media.js';

const SOURCE = media('audio', 'loop_amen.flac');

let engine: Engine;
let dir: string;
let spoolDir: string;
let savedTmp: string | undefined;
let sourceBytes: Buffer;
/** The PCM of SOURCE, as the engine decodes it from a path: every other input must give the same. */
let referencePcm: Uint8Array;
let corrupt: string;

beforeAll(async () => {
  dir = await makeTempDir();
  // Streams are spooled under the OS temp dir by default: point it at a directory of our own to
  // see them go.
  spoolDir = await makeTempDir('sandcodec-spool-');
  savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = spoolDir;
  engine = await createEngine({ workers: 2 });
  sourceBytes = await readFile(SOURCE);
  referencePcm = wavData((await engine.transcode({ path: SOURCE }, { preset: 'wav' })).bytes!);
  // Valid headers, then garbage from the middle on: the job fails after writing part of its output.
  const flac = await readFile(media('audio', 'ambi_lunar_land.flac'));
  const half = Math.floor(flac.byteLength / 2);
  for (let i = half; i < flac.byteLength; i++) flac[i] = (i * 7919) & 0xff;
  corrupt = join(dir, 'corrupt.flac');
  await writeFile(corrupt, flac);
});

afterAll(async () => {
  await engine?.close();
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  await removeTempDir(dir);
  await removeTempDir(spoolDir);
});

/** The PCM payload of a WAV file (its `data` chunk). */
function wavData(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 12; at + 8 <= bytes.byteLength; ) {
    const id = String.fromCharCode(...bytes.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    if (id === 'data') return bytes.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size & 1);
  }
  throw new Error('no data chunk');
}

/** Uneven chunks, so nothing depends on chunk boundaries. */
function chunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, n = 1; at < bytes.byteLength; n++) {
    const size = (n * 7919) % 65_536 || 1;
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  return out;
}

function webStream(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) controller.enqueue(parts[i++]!);
      else controller.close();
    },
  });
}

/** Each accepted input shape, made fresh per call (a stream can be read once). */
const INPUTS: Record<string, () => MediaInput> = {
  Uint8Array: () => new Uint8Array(sourceBytes),
  Buffer: () => Buffer.from(sourceBytes),
  '{ path }': () => ({ path: SOURCE }),
  '{ data, name }': () => ({ data: new Uint8Array(sourceBytes), name: 'loop.flac' }),
  'fs.createReadStream': () => createReadStream(SOURCE, { highWaterMark: 4096 }),
  'Readable.from(chunks)': () => Readable.from(chunks(sourceBytes)),
  ReadableStream: () => webStream(chunks(sourceBytes)),
  '{ stream, name } (Readable)': () => ({ stream: Readable.from(chunks(sourceBytes)), name: 'loop.flac' }),
  '{ stream, name } (ReadableStream)': () => ({ stream: webStream(chunks(sourceBytes)), name: 'loop.flac' }),
};

async function expectCode(promise: Promise<unknown>, code: string): Promise<SandcodecError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandcodecError);
  expect((err as SandcodecError).code, (err as Error).message).toBe(code);
  return err as SandcodecError;
}

describe('inputs', () => {
  for (const [kind, make] of Object.entries(INPUTS)) {
    it(`${kind}: probes and transcodes`, async () => {
      const probe = await engine.probe(make(), { decode: true });
      expect(probe.format).toBe('flac');
      expect(probe.size).toBe(sourceBytes.byteLength);
      expect(probe.streams[0]).toMatchObject({ type: 'audio', codec: 'flac', sampleRate: 44100, channels: 2 });
      expect(probe.decodedDuration).toBeCloseTo(1.75, 2);

      const wav = await engine.transcode(make(), { preset: 'wav' });
      expect(wav.source.size).toBe(sourceBytes.byteLength);
      expect(Buffer.compare(wavData(wav.bytes!), referencePcm)).toBe(0);
      // A spooled stream is deleted once the call is over.
      expect(await readdir(spoolDir)).toEqual([]);
    });
  }

  it('rejects what is not an input', async () => {
    await expectCode(engine.probe(42 as unknown as MediaInput), 'E_OPTIONS');
    await expectCode(engine.probe({ path: join(dir, 'missing.flac') }), 'E_INPUT_INVALID');
    await expectCode(engine.probe({ path: dir }), 'E_INPUT_INVALID');
    await expectCode(engine.probe(new Uint8Array(0)), 'E_INPUT_INVALID');
    await expectCode(engine.probe(Readable.from([])), 'E_INPUT_INVALID');
    expect(await readdir(spoolDir)).toEqual([]);
  });
});

describe('stream inputs that go wrong', () => {
  it('an abort while the stream is read stops reading it', async () => {
    const controller = new AbortController();
    let pulled = 0;
    const endless = new Readable({
      read() {
        if (++pulled === 10) controller.abort();
        this.push(Buffer.alloc(1024));
      },
    });
    await expectCode(engine.probe(endless, { signal: controller.signal }), 'E_ABORTED');
    expect(endless.destroyed).toBe(true);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('a stream that errors is an invalid input', async () => {
    let pulled = 0;
    const failing = new Readable({
      read() {
        if (++pulled > 3) this.destroy(new Error('connection reset'));
        else this.push(sourceBytes.subarray((pulled - 1) * 1024, pulled * 1024));
      },
    });
    const err = await expectCode(engine.transcode(failing, { preset: 'wav' }), 'E_INPUT_INVALID');
    expect(err.message).toContain('connection reset');
    expect(await readdir(spoolDir)).toEqual([]);
  });
});

describe('outputs', () => {
  it('returns bytes when no output is given', async () => {
    const r = await engine.transcode({ path: SOURCE }, { preset: 'flac' });
    expect(r.path).toBeUndefined();
    expect(r.bytes!.byteLength).toBe(r.size);
    expect(Buffer.compare(wavData((await engine.transcode(r.bytes!, { preset: 'wav' })).bytes!), referencePcm)).toBe(0);
  });

  it('writes to a path, creating its directory', async () => {
    const out = join(dir, 'made', 'here', 'loop.mp3');
    const r = await engine.transcode({ path: SOURCE }, { preset: 'mp3-320', output: out });
    expect(r.path).toBe(out);
    expect(r.bytes).toBeUndefined();
    expect((await stat(out)).size).toBe(r.size);
    expect(await readdir(join(dir, 'made', 'here'))).toEqual(['loop.mp3']);
    const probe = await engine.probe({ path: out }, { decode: true });
    expect(probe.streams[0]!.codec).toBe('mp3');
    expect(Math.abs(probe.decodedDuration! - 1.75)).toBeLessThanOrEqual(0.05);
  });

  it('refuses an existing file; with overwrite, replaces it on success and keeps it on failure', async () => {
    const out = join(dir, 'replace.wav');
    await writeFile(out, 'previous');
    const refused = await expectCode(engine.transcode({ path: SOURCE }, { preset: 'wav', output: out }), 'E_OPTIONS');
    expect(refused.message).toMatch(/exists; pass overwrite: true/);
    expect(await readFile(out, 'utf8')).toBe('previous');
    const err = await expectCode(engine.transcode({ path: corrupt }, { preset: 'wav', output: out, overwrite: true }), 'E_INPUT_INVALID');
    expect(err.details.log?.length).toBeGreaterThan(0);
    expect(await readFile(out, 'utf8')).toBe('previous');
    const r = await engine.transcode({ path: SOURCE }, { preset: 'wav', output: out, overwrite: true });
    expect(Buffer.compare(wavData(await readFile(out)), referencePcm)).toBe(0);
    expect((await stat(out)).size).toBe(r.size);
    expect((await readdir(dir)).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('reports an output directory it cannot create as an I/O error', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'x');
    await expectCode(engine.ladder({ path: SOURCE }, ['wav'], { outputDir: blocker }), 'E_IO');
    await expectCode(engine.transcode({ path: SOURCE }, { preset: 'wav', output: join(blocker, 'x.wav') }), 'E_IO');
    expect(await readFile(blocker, 'utf8')).toBe('x');
  });

  it('writes a ladder into a directory', async () => {
    const out = join(dir, 'ladder');
    const r = await engine.ladder(new Uint8Array(sourceBytes), ['opus-96', 'flac'], { outputDir: out, baseName: 'amen' });
    expect(r.renditions.map((x) => x.path)).toEqual([join(out, 'amen.opus-96.opus'), join(out, 'amen.flac.flac')]);
    expect((await readdir(out)).sort()).toEqual(['amen.flac.flac', 'amen.opus-96.opus']);
    for (const x of r.renditions) expect((await stat(x.path!)).size).toBe(x.size);
  });
});

describe('no partial output after a failure', () => {
  it('the corrupt file fails mid-decode, after its header probed fine', async () => {
    const probe = await engine.probe({ path: corrupt });
    expect(probe.streams[0]!.codec).toBe('flac');
    await expectCode(engine.ladder({ path: corrupt }, ['wav']), 'E_INPUT_INVALID');
  });

  it('a failed ladder leaves its existing output directory empty', async () => {
    const out = join(dir, 'existing');
    await mkdir(out);
    const seen = new Set<string>();
    const job = engine.ladder({ path: corrupt }, ['wav', 'flac', 'mp3-320'], {
      outputDir: out,
      onProgress: () =>
        readdirSync(out).forEach((f) => {
          seen.add(f);
        }),
    });
    await expectCode(job, 'E_INPUT_INVALID');
    // While the job ran (if it ran long enough to report progress), outputs had temporary names.
    for (const f of seen) expect(f).toMatch(/^\.corrupt\..*\.part$/);
    expect(await readdir(out)).toEqual([]);
  });

  it('a failed ladder removes the directories it created', async () => {
    const out = join(dir, 'fresh', 'nested');
    await expectCode(engine.ladder({ path: corrupt }, ['wav', 'aac-128'], { outputDir: out }), 'E_INPUT_INVALID');
    expect((await readdir(dir)).includes('fresh')).toBe(false);
  });

  it('an aborted transcode leaves nothing behind', async () => {
    const out = join(dir, 'aborted', 'speech.m4a');
    const controller = new AbortController();
    let partial: string[] = [];
    const job = engine.transcode(
      { path: media('audio', 'codec2-ve9qrp.wav') },
      {
        preset: 'aac-128',
        output: out,
        signal: controller.signal,
        // Abort once the encoder is well under way, so a partial file exists at that moment.
        onProgress: (p) => {
          if (p.phase === 'transcode' && p.ratio > 0.05 && !controller.signal.aborted) {
            partial = readdirSync(join(dir, 'aborted'));
            controller.abort();
          }
        },
      },
    );
    const err = await expectCode(job, 'E_ABORTED');
    expect(controller.signal.aborted, err.message).toBe(true);
    expect(partial).toHaveLength(1);
    expect((await readdir(dir)).includes('aborted')).toBe(false);
    // The engine stays usable after an abort.
    expect((await engine.probe({ path: SOURCE })).format).toBe('flac');
  });
});

describe('maxInputBytes', () => {
  const limit = (n: number) => ({ limits: { maxInputBytes: n } });

  it('is enforced for paths and bytes, and exactly the limit is accepted', async () => {
    const size = sourceBytes.byteLength;
    for (const input of [{ path: SOURCE }, new Uint8Array(sourceBytes), { data: new Uint8Array(sourceBytes), name: 'x.flac' }]) {
      const err = await expectCode(engine.probe(input, limit(size - 1)), 'E_LIMIT');
      expect(err.details).toMatchObject({ limit: 'maxInputBytes', max: size - 1, actual: size });
    }
    expect((await engine.probe({ path: SOURCE }, limit(size))).size).toBe(size);
    expect((await engine.probe(new Uint8Array(sourceBytes), limit(size))).size).toBe(size);
    // Engine-wide limits apply too; a call may raise them.
    const strict = await createEngine({ workers: 1, limits: { maxInputBytes: 1000 } });
    try {
      await expectCode(strict.transcode({ path: SOURCE }, { preset: 'wav' }), 'E_LIMIT');
      expect((await strict.probe({ path: SOURCE }, limit(size))).format).toBe('flac');
    } finally {
      await strict.close();
    }
  });

  it('stops reading a Node stream at the limit', async () => {
    const max = 1024 * 1024;
    let pulled = 0;
    const chunk = Buffer.alloc(16 * 1024, 1);
    const endless = new Readable({
      read() {
        pulled += chunk.byteLength;
        this.push(chunk);
      },
    });
    const err = await expectCode(engine.probe(endless, limit(max)), 'E_LIMIT');
    expect(err.details.limit).toBe('maxInputBytes');
    expect(endless.destroyed).toBe(true);
    // Whatever was buffered in the pipeline, nowhere near an unbounded read.
    expect(pulled).toBeLessThan(max + 512 * 1024);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('cancels a web stream at the limit', async () => {
    const max = 1024 * 1024;
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 16 * 1024;
        controller.enqueue(new Uint8Array(16 * 1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    const err = await expectCode(engine.transcode({ stream: endless, name: 'x.wav' }, { preset: 'wav', ...limit(max) }), 'E_LIMIT');
    expect(err.details.limit).toBe('maxInputBytes');
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(max + 512 * 1024);
    expect(await readdir(spoolDir)).toEqual([]);
  });
});

describe('sandbox', () => {
  it('caps the wasm heap: an 8000x8000 picture (192 MB decoded) needs more than 128 MiB', async () => {
    const png = blankPng(8000, 8000);
    const err = await expectCode(engine.probe(png, { decode: true, limits: { maxHeapBytes: 128 * 1024 * 1024 } }), 'E_LIMIT');
    expect(err.details).toMatchObject({ limit: 'maxHeapBytes', max: 128 * 1024 * 1024 });
    const probe = await engine.probe(png, { decode: true, limits: { maxHeapBytes: 512 * 1024 * 1024 } });
    expect(probe.streams[0]).toMatchObject({ codec: 'png', width: 8000, height: 8000 });
  });

  it('reads a 1 GB input through descriptors, never into a 64 MiB wasm heap', async () => {
    const path = join(dir, 'big.wav');
    const rate = 48000;
    const seconds = 90 * 60;
    const dataBytes = rate * 2 * 2 * seconds;
    await writeWav(path, rate, dataBytes);
    expect((await stat(path)).size).toBeGreaterThan(1e9);
    try {
      // The core starts at 32 MiB; 64 MiB (the smallest cap allowed) leaves no room for the file.
      const probe = await engine.probe({ path }, { decode: true, limits: { maxHeapBytes: 64 * 1024 * 1024 } });
      expect(probe.streams[0]).toMatchObject({ codec: 'pcm_s16le', sampleRate: rate, channels: 2 });
      expect(Math.abs(probe.decodedDuration! - seconds)).toBeLessThanOrEqual(0.05);
    } finally {
      await removeTempDir(path);
    }
  });
});

/** A black RGB PNG: tiny compressed, `width * height * 3` bytes once decoded. */
function blankPng(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.byteLength);
    out.writeUInt32BE(data.byteLength, 0);
    out.write(type, 4);
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.byteLength)), 8 + data.byteLength);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bits per channel
  ihdr[9] = 2; // truecolour
  const rows = Buffer.alloc((width * 3 + 1) * height);
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** A 16-bit stereo WAV of a repeating noise-like pattern, written directly: fast and exact. */
async function writeWav(path: string, rate: number, dataBytes: number): Promise<void> {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 4, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(dataBytes, 40);
  const block = Buffer.alloc(4 * 1024 * 1024);
  let x = 12345;
  for (let i = 0; i < block.byteLength; i += 2) {
    x = (x * 1103515245 + 12345) >>> 0;
    block.writeInt16LE(((x >>> 16) & 0x3fff) - 0x2000, i);
  }
  const file = await open(path, 'w');
  try {
    await file.write(header);
    for (let left = dataBytes; left > 0; left -= block.byteLength) {
      await file.write(block, 0, Math.min(left, block.byteLength));
    }
  } finally {
    await file.close();
  }
}
