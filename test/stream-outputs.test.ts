/**
 * `stream` on transcode and resize: the output as a Node Readable or a web ReadableStream, the
 * same bytes the call returns without it, spooled on disk in the engine's spoolDir while made and
 * gone from it (no name left) by the time the result is in hand — and after a failure too.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';

const FLAC = join(repoRoot, 'test', 'fixtures', 'audio', 'ambi_lunar_land.flac');
const PNG = join(repoRoot, 'test', 'fixtures', 'image', 'coffee.png');

let engine: Engine;
let spoolDir: string;

beforeAll(async () => {
  spoolDir = await makeTempDir('sandcodec-stream-');
  engine = await createEngine({ workers: 1, spoolDir });
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(spoolDir);
});

async function collect(stream: Readable | ReadableStream<Uint8Array> | undefined): Promise<Uint8Array> {
  expect(stream).toBeDefined();
  const chunks: Uint8Array[] = [];
  if (stream instanceof Readable) {
    for await (const chunk of stream) chunks.push(chunk as Uint8Array);
  } else {
    const reader = stream!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
  }
  return new Uint8Array(Buffer.concat(chunks));
}

describe('outputs as streams', () => {
  it('transcode: a Node Readable and a web ReadableStream of the same bytes as without stream, nothing left in spoolDir', async () => {
    const bytes = (await engine.transcode({ path: FLAC }, { preset: 'flac' })).bytes!;
    const node = await engine.transcode({ path: FLAC }, { preset: 'flac', stream: true });
    expect(node.bytes).toBeUndefined();
    expect(node.stream).toBeInstanceOf(Readable);
    // Spooled and already unlinked: the stream reads an open file with no name.
    expect(await readdir(spoolDir)).toEqual([]);
    const fromNode = await collect(node.stream);
    expect(fromNode.length).toBe(node.size);
    expect(Buffer.from(fromNode).equals(Buffer.from(bytes))).toBe(true);
    const web = await engine.transcode({ path: FLAC }, { preset: 'opus-96', stream: 'web' });
    expect(web.stream).not.toBeInstanceOf(Readable);
    const opus = await collect(web.stream);
    const made = await engine.probe(opus, { decode: true });
    expect(made.streams[0]!.codec).toBe('opus');
    expect(made.decodedDuration).toBeCloseTo(7.394, 1);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('resize: the image as a stream, the same bytes as without it', async () => {
    const bytes = (await engine.resize({ path: PNG }, { width: 120, format: 'png' })).bytes!;
    const out = await engine.resize({ path: PNG }, { width: 120, format: 'png', stream: true });
    expect([out.width, out.height, out.format]).toEqual([120, 80, 'png']);
    expect(Buffer.from(await collect(out.stream)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('a stream read partly and dropped closes its file; a failed call leaves nothing', async () => {
    const out = await engine.transcode({ path: FLAC }, { preset: 'wav', stream: true });
    const stream = out.stream as Readable;
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    expect(first.subarray(0, 4).toString()).toBe('RIFF');
    stream.destroy();
    await new Promise((resolve) => stream.once('close', resolve));
    const err = await failure(engine.transcode(new TextEncoder().encode('not media '.repeat(200)), { preset: 'opus-96', stream: true }));
    expect(err.code).toBe('E_INPUT_INVALID');
    const limited = await failure(engine.transcode({ path: FLAC }, { preset: 'wav', stream: true, limits: { maxOutputBytes: 100_000 } }));
    expect(limited.code).toBe('E_LIMIT');
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('stream is checked up front', async () => {
    expect((await failure(engine.transcode({ path: FLAC }, { preset: 'flac', stream: 'yes' as never }))).message).toMatch(/^stream: must be true/);
    expect((await failure(engine.resize({ path: PNG }, { width: 10, output: join(spoolDir, 'x.png'), stream: true }))).message).toMatch(
      /^stream: and output cannot both be given/,
    );
  });
});
