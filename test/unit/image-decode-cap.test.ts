// The decode step's output is bounded by the header: a decoder that writes more than the header's
// dimensions imply is stopped at the first byte too many (whatever made the header and the file
// disagree), and the job fails as E_INPUT_INVALID. Runs one FFmpeg core on this thread.
/// <reference path="../../src/types/webassembly.d.ts" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImagePlan } from '../../src/model/plan.js';
import { compileCore } from '../../src/pool/core-module.js';
import { FFmpegCore } from '../../src/worker/ffmpeg/core.js';
import type { RunContext } from '../../src/worker/ffmpeg/run-plan.js';
import { decodeImage } from '../../src/worker/image/decode.js';
import { readImageHeader } from '../../src/worker/image/header.js';
import { sharedBytes } from '../../src/worker/image/source.js';
import { pngFile } from '../helpers/image-writers.js';

let ctx: RunContext;
beforeAll(async () => {
  (globalThis as { self?: unknown }).self ??= globalThis;
  const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
  const core = await FFmpegCore.create(await compileCore(), { cancelFlag, heapBudget: 256 * 1024 * 1024 });
  ctx = { core, cancelFlag, emit: () => {} };
});
afterAll(() => {
  ctx.core.setRecordSink(() => {});
});

function plan(file: Uint8Array): ImagePlan {
  const buffer = new SharedArrayBuffer(file.length);
  new Uint8Array(buffer).set(file);
  return {
    op: 'image',
    phase: 'resize',
    inputs: [{ name: 'in.png', source: { type: 'shared', buffer, byteLength: file.length } }],
    outputs: [],
    limits: { maxOutputBytes: 1 << 30, maxReturnedBytes: 1 << 30, maxHeapBytes: 256 * 1024 * 1024, maxDurationSeconds: 60 },
    image: { maxPixels: 1 << 24, shrinkOnLoad: false, targets: [] },
  };
}

describe.each([
  ['RGBA, written by the decoder straight into the target', 6, 4],
  ['RGB, decoded in its own format and widened', 2, 3],
] as const)('the decode output is capped by the header: %s', (_, colorType, bytesPerPixel) => {
  const file = pngFile({ width: 640, height: 480, colorType });
  const header = readImageHeader(sharedBytes(file));

  it('decodes what the header states', async () => {
    const image = (await decodeImage(plan(file), ctx, header, 0)).image!;
    expect([image.width, image.height, image.data.length]).toEqual([640, 480, 640 * 480 * 4]);
  });

  it('a frame larger than the header states stops at the cap, not after decoding it', async () => {
    // The header says 8×6: the decoder's first write past the bytes of 8×6 pixels is refused.
    let err: unknown;
    try {
      await decodeImage(plan(file), ctx, { ...header, width: 8, height: 6 }, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'E_INPUT_INVALID', details: { maxBytes: 8 * 6 * bytesPerPixel } });
    expect((err as Error).message).toMatch(/decodes to more than the 8×6 its header states/);
  });

  it('a frame smaller than the header states is refused too', async () => {
    await expect(decodeImage(plan(file), ctx, { ...header, width: 640, height: 481 }, 0)).rejects.toThrow(
      new RegExp(`decoded to ${640 * 480 * bytesPerPixel} bytes, not the 640×481`),
    );
  });

  it('the core keeps serving', async () => {
    expect((await decodeImage(plan(file), ctx, header, 0)).image!.width).toBe(640);
  });
});
