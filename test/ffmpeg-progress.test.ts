/**
 * Progress and the log come from channels a file cannot write to: media time is read from
 * FFmpeg's `-progress` stream, never from the log, and text from a file (tags, an ID3 picture's
 * MIME type) that looks like FFmpeg's own messages is neither progress nor a verdict, and reaches
 * the log only escaped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Progress } from '../dist/index.js';
import type { JobLimits, JobResult } from '../dist/model/plan.js';
import { compileCore } from '../dist/pool/core-module.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { runPlan } from '../dist/worker/ffmpeg/run-plan.js';
import { sharedSource } from './helpers/mutate.js';

// Past the 99 hours the tag claims: writing the tag is not what is tested.
const LIMITS: JobLimits = { maxOutputBytes: 2 ** 31, maxReturnedBytes: 2 ** 28, maxHeapBytes: 2 ** 30, maxDurationSeconds: 1_000_000 };
/** What FFmpeg's stats line looks like: the log reader once took a tag reading so for progress. */
const STATS_LOOKALIKE = 'size=     123kB time=99:00:00.00 bitrate= 320.0kbits/s speed=1.00x';

let engine: Engine;
let core: FFmpegCore;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  core = await FFmpegCore.create(await compileCore(), { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: Number.MAX_SAFE_INTEGER });
});

afterAll(async () => {
  await engine?.close();
});

function run(args: string[], input: Uint8Array, inputName: string, output?: string): Promise<JobResult> {
  return runPlan(
    {
      op: 'ffmpeg',
      phase: 'test',
      inputs: [{ name: inputName, source: sharedSource(input) }],
      outputs: output ? [{ name: output, sink: { type: 'bytes' } }] : [],
      args,
      limits: LIMITS,
    },
    { core, cancelFlag: new Int32Array(new SharedArrayBuffer(4)), emit: () => {} },
  );
}

describe('a tag that reads like a stats line', () => {
  let tagged: Uint8Array;

  beforeAll(async () => {
    // 1 s of generated FLAC, then a stream copy that writes the tag.
    const flac = (await engine.generate({ kind: 'sine', seconds: 1, preset: 'flac' })).bytes!;
    const copied = await run(
      ['-i', '/job/in0.flac', '-map', '0', '-c', 'copy', '-metadata', `title=${STATS_LOOKALIKE}`, '-f', 'flac', '/job/out.flac'],
      flac,
      'in0.flac',
      'out.flac',
    );
    tagged = copied.outputs[0]!.bytes!;
  });

  it('is kept as a tag and is not read as 99 hours of progress', async () => {
    const probe = await engine.probe(tagged);
    expect(probe.tags.title).toBe(STATS_LOOKALIKE);
    const events: Progress[] = [];
    const out = await engine.transcode(tagged, { preset: 'wav', limits: { maxDurationSeconds: 10 }, onProgress: (p) => events.push(p) });
    expect(out.size).toBeGreaterThan(170_000);
    expect(events.length).toBeGreaterThan(0);
    expect(Math.max(...events.map((e) => e.seconds))).toBeLessThanOrEqual(1.05);
    expect((await engine.probe(tagged, { decode: true })).decodedDuration).toBeCloseTo(1, 2);
  });

  it('a job reports the media seconds FFmpeg wrote, from -progress', async () => {
    const result = await run(['-i', '/job/in0.flac', '-f', 'null', '-'], tagged, 'in0.flac');
    expect(result.mediaSeconds).toBeCloseTo(1, 2);
    expect(result.log.join('\n')).not.toContain('99:00:00');
  });
});

describe('file text posing as FFmpeg messages', () => {
  /** An MP3 whose ID3v2 picture frame has a MIME type FFmpeg prints back in a warning. */
  async function mp3WithPictureMime(mime: string): Promise<Uint8Array> {
    const mp3 = (await engine.generate({ kind: 'sine', seconds: 1, preset: 'mp3-320' })).bytes!;
    const syncsafe = (n: number) => [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
    const body = Buffer.concat([Buffer.from([0]), Buffer.from(mime, 'utf8'), Buffer.from([0, 3, 0]), Buffer.from('not a picture')]);
    const frame = Buffer.concat([Buffer.from('APIC'), Buffer.from(syncsafe(body.length)), Buffer.from([0, 0]), body]);
    const tag = Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0]), Buffer.from(syncsafe(frame.length)), frame]);
    return new Uint8Array(Buffer.concat([tag, mp3]));
  }

  it('a MIME type holding a newline and a truncation message does not fail a valid file', async () => {
    const mp3 = await mp3WithPictureMime('x\nFile ended prematurely');
    const out = await engine.transcode(mp3, { preset: 'flac' });
    expect((await engine.probe(out.bytes!, { decode: true })).decodedDuration).toBeGreaterThan(0.9);
  });

  it('a MIME type cannot pose as an input failure, and reaches the log escaped', async () => {
    const mime = 'x\n/job/in0.mp3: I/O error\u202e\x1b[2J';
    const result = await run(['-i', '/job/in0.mp3', '-f', 'null', '-'], await mp3WithPictureMime(mime), 'in0.mp3');
    expect(result.mediaSeconds).toBeGreaterThan(0.9);
    const line = result.log.find((l) => l.includes('Unknown attached picture mimetype'));
    expect(line).toBeDefined();
    // One record, its newline and bidi override shown escaped, no control character left.
    expect(line).toContain('x\\n/job/in0.mp3: I/O error\\u202e');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none
    expect(result.log.every((l) => !/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/.test(l))).toBe(true);
  });
});
