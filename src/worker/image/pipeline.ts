/**
 * The worker side of an image plan, in one task: header (read through bounded reads; the size
 * and every target checked against maxPixels before any decode buffer exists) → decode with the
 * FFmpeg core (decode.ts: the header's view of the file, an output bounded by the header) →
 * colour to sRGB → EXIF orientation → resize with the wasm kernel, once per target from one
 * decoded source → crop/letterbox/flatten → encode. Targets are resized and encoded in batches of
 * at most maxPixels output pixels (one FFmpeg run per batch, usually one for the whole set), so a
 * job holds the source and at most maxPixels of outputs whatever the number of targets.
 */
import { writeFileSync } from 'node:fs';
import { LimitError, UnsupportedError } from '../../errors.js';
import type { ImageJobInfo, OutputFormat } from '../../model/image-spec.js';
import { type FFmpegPlan, type ImagePlan, type JobOutputResult, type JobResult, jobPath, type PlanInput } from '../../model/plan.js';
import { type RunContext, runPlan } from '../ffmpeg/run-plan.js';
import type { RgbaImage } from '../kernels/resize.js';
import { isOpaque, sharedPixels } from './compose.js';
import { encodeArgs, rawInputArgs } from './encode.js';
import { exifOrientation, type Orientation } from './exif.js';
import { type FitPlan, planFit } from './fit.js';
import { checkDecodable, type ImageHeader, readImageHeader } from './header.js';
import { toProgressive } from './jpeg-progressive.js';
import { addMetadata } from './metadata.js';
import { orientedSize, swapsAxes } from './orient.js';
import { openImageBytes } from './source.js';
import { SourceImage } from './source-image.js';
import { encodeWebpLossless, webpWithAlpha } from './webp-lossless.js';

export async function runImagePlan(plan: ImagePlan, ctx: RunContext): Promise<JobResult> {
  const { image: spec } = plan;
  const src = openImageBytes(plan.inputs[0].source);
  let header: ImageHeader;
  try {
    header = readImageHeader(src);
  } finally {
    src.close();
  }
  checkSource(header, spec.maxPixels);
  checkDecodable(header);
  const orientation = header.orientation ?? exifOrientation(header.exif);
  const shown = orientedSize(header.width, header.height, orientation);
  const fits = spec.targets.map((t) => planFit(shown.width, shown.height, t));
  fits.forEach((fit, i) => {
    const name = spec.targets.length > 1 ? `targets[${i}]` : 'the output';
    checkTarget(fit, name, spec.maxPixels);
    checkFormatSize(fit, spec.targets[i]!.format, name);
  });

  const lowres = spec.shrinkOnLoad ? chooseLowres(header, orientation, fits, spec.shrinkOnLoad) : 0;
  let started = performance.now();
  const source = await SourceImage.load(plan, ctx, header, orientation, lowres, fits);
  const { icc, decoder, decodeMs } = source;
  let resizeMs = performance.now() - started - decodeMs;

  let encodeMs = 0;
  const outputs: JobOutputResult[] = new Array(spec.targets.length);
  const sizes: ImageJobInfo['outputs'] = new Array(spec.targets.length);
  let total = 0;
  for (const batch of batches(fits, spec.maxPixels)) {
    started = performance.now();
    const frames = batch.map((i) => source.frame(fits[i]!, spec.targets[i]!, spec.maxPixels));
    resizeMs += performance.now() - started;

    started = performance.now();
    const encoded = await encode(plan, batch, frames, ctx, plan.limits.maxOutputBytes - total);
    batch.forEach((i, k) => {
      const t = spec.targets[i]!;
      const out = plan.outputs[i]!;
      const data = t.keepMetadata ? addMetadata(t.format, encoded[k]!, header.exif) : encoded[k]!;
      total += data.length;
      if (total > plan.limits.maxOutputBytes) {
        throw new LimitError('maxOutputBytes', `the outputs total ${total} bytes, over maxOutputBytes (${plan.limits.maxOutputBytes} bytes)`, {
          max: plan.limits.maxOutputBytes,
          actual: total,
        });
      }
      if (out.sink.type === 'path') {
        writeFileSync(out.sink.path, data);
        outputs[i] = { name: out.name, size: data.length };
      } else {
        outputs[i] = { name: out.name, size: data.length, bytes: data };
      }
      sizes[i] = { width: frames[k]!.width, height: frames[k]!.height, format: t.format };
    });
    encodeMs += performance.now() - started;
  }
  source.release();

  const info: ImageJobInfo = {
    source: { format: header.format, width: shown.width, height: shown.height, orientation, icc, decoder },
    lowres,
    decodeMs,
    resizeMs,
    encodeMs,
    outputs: sizes,
  };
  return { outputs, image: info, log: [], mediaSeconds: null, execMs: decodeMs + resizeMs + encodeMs, instantiateMs: 0 };
}

/** The stored size against maxPixels, counted once per byte of the samples the decoder works in. */
function checkSource(header: ImageHeader, max: number): void {
  const pixels = header.width * header.height;
  const weight = header.sampleBytes ?? 1;
  const what = `the image is ${header.width}×${header.height}`;
  if (weight === 1) checkPixels(what, pixels, max);
  else if (pixels * weight > max) {
    throw new LimitError(
      'maxPixels',
      `${what} = ${pixels} pixels at ${weight * 8} bits per sample, counted as ${pixels * weight} against maxPixels ${max} (its decode needs ${weight}× the memory of an 8-bit picture)`,
      { max, actual: pixels * weight, pixels },
    );
  }
}

function checkPixels(what: string, pixels: number, max: number): void {
  if (pixels > max) throw new LimitError('maxPixels', `${what} = ${pixels} pixels, over maxPixels ${max}`, { max, actual: pixels });
}

/** The pixels a target holds at its largest step: the resized image, or the letterbox canvas. */
function workPixels(fit: FitPlan): number {
  return Math.max(fit.resize.width * fit.resize.height, fit.canvas ? fit.canvas.width * fit.canvas.height : 0);
}

/** Each output and its intermediates are bounded by maxPixels, like the source. */
function checkTarget(fit: FitPlan, name: string, max: number): void {
  const { resize, canvas } = fit;
  checkPixels(`${name}: the resized image would be ${resize.width}×${resize.height}`, resize.width * resize.height, max);
  if (canvas) checkPixels(`${name}: the letterbox canvas would be ${canvas.width}×${canvas.height}`, canvas.width * canvas.height, max);
}

/** The largest side each output format can store (WebP's 14-bit sizes, JPEG's 16-bit ones). */
const MAX_SIDE: Record<OutputFormat, number> = { webp: 16383, jpeg: 65535, png: 2 ** 31 - 1 };

/** A picture the format cannot hold is refused before any decoding, naming the format's bound. */
function checkFormatSize(fit: FitPlan, format: OutputFormat, name: string): void {
  const max = MAX_SIDE[format];
  if (fit.width > max || fit.height > max) {
    throw new UnsupportedError(`${name}: ${format.toUpperCase()} stores at most ${max} pixels a side; the image would be ${fit.width}×${fit.height}`, {
      format,
    });
  }
}

/** Target indices in runs whose work pixels together stay within `max` (each alone already does). */
function batches(fits: FitPlan[], max: number): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let pixels = 0;
  fits.forEach((fit, i) => {
    const n = workPixels(fit);
    if (current.length > 0 && pixels + n > max) {
      out.push(current);
      current = [];
      pixels = 0;
    }
    current.push(i);
    pixels += n;
  });
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The remaining reduction each `lowres` level must leave the kernel (index: level), so that the
 * result stays above 45 dB from a full decode and the same kernel. Decoding at 1/2^L is a filter
 * of its own (the scaled IDCT keeps the low frequencies of each 8×8 block), unlike the kernel's;
 * the kernel's later reduction shrinks the difference. Measured on the 15 photos of
 * test/fixtures/photos, worst photo (a forest stream, paint brushes), FFmpeg's lowres and
 * libjpeg-turbo's scaled IDCT alike: at 1/2, 45 dB needs 7–10× left; at 1/4, 28×; at 1/8 (the
 * block average), 20×. Below these, 1/2 at 2.7× left gave 36 dB and 1/8 at 3× gave 32 dB.
 */
const QUALITY_GAP = [1, 10, 32, 24];
/** The `'fast'` rule, sharp's default (`fastShrinkOnLoad`): the smallest scale still as large as the target. */
const FAST_GAP = [1, 1, 1, 1];

/**
 * The largest `lowres` level (decode at 1/2, 1/4, 1/8) whose output still leaves the kernel its
 * gap on both axes for every target. CMYK JPEGs are decoded whole: their 12-bit decoding trick
 * (cmyk.ts) is kept to the one path that the tests compare with libvips.
 */
function chooseLowres(header: ImageHeader, orientation: Orientation, fits: FitPlan[], mode: true | 'fast'): number {
  if (header.format !== 'jpeg' || header.jpeg?.components === 4) return 0;
  const gaps = mode === 'fast' ? FAST_GAP : QUALITY_GAP;
  let needW = 0;
  let needH = 0;
  for (const f of fits) {
    const [w, h] = swapsAxes(orientation) ? [f.resize.height, f.resize.width] : [f.resize.width, f.resize.height];
    needW = Math.max(needW, w);
    needH = Math.max(needH, h);
  }
  for (let level = 3; level >= 1; level--) {
    const scale = 1 << level;
    if (needW * gaps[level]! * scale <= header.width && needH * gaps[level]! * scale <= header.height) return level;
  }
  return 0;
}

/** Encodes the frames of the targets `indices`, in one FFmpeg run for all but lossless WebP. */
async function encode(plan: ImagePlan, indices: number[], frames: RgbaImage[], ctx: RunContext, maxOutputBytes: number): Promise<Uint8Array[]> {
  const targets = plan.image.targets;
  const out: Uint8Array[] = new Array(frames.length);
  const inputs: PlanInput[] = [];
  const inArgs: string[] = [];
  const outArgs: string[] = [];
  const viaFFmpeg: number[] = [];
  frames.forEach((f, k) => {
    const i = indices[k]!;
    const t = targets[i]!;
    if (t.format === 'webp' && t.lossless) {
      // The core's libwebp lossless encoder crashes; VP8L is written here instead.
      out[k] = encodeWebpLossless(f.data, f.width, f.height);
      return;
    }
    // Frames are made in shared memory (compose.ts): FFmpeg reads them in place.
    const name = `frame${i}.rgba`;
    outArgs.push('-map', `${inputs.length}:v`, ...encodeArgs(t, isOpaque(f), jobPath(`out${i}`)));
    inputs.push({ name, source: sharedSource(f.data) });
    inArgs.push(...rawInputArgs(f.width, f.height, jobPath(name)));
    viaFFmpeg.push(k);
  });
  if (viaFFmpeg.length > 0) {
    const encodePlan: FFmpegPlan = {
      op: 'ffmpeg',
      phase: `${plan.phase}: encode`,
      inputs,
      outputs: viaFFmpeg.map((k) => ({ name: `out${indices[k]!}`, sink: { type: 'bytes' } })),
      args: [...inArgs, ...outArgs],
      limits: { ...plan.limits, maxOutputBytes },
    };
    let result: Awaited<ReturnType<typeof runPlan>>;
    try {
      result = await runPlan(encodePlan, ctx);
    } catch (err) {
      // The run was given what is left of the job's budget; the limit to name is the job's.
      if (!(err instanceof LimitError && err.limit === 'maxOutputBytes')) throw err;
      throw new LimitError('maxOutputBytes', `the outputs grew past maxOutputBytes (${plan.limits.maxOutputBytes} bytes)`, { max: plan.limits.maxOutputBytes });
    }
    result.outputs.forEach((o, n) => {
      const k = viaFFmpeg[n]!;
      const t = targets[indices[k]!]!;
      const f = frames[k]!;
      // FFmpeg 5.1's mjpeg encoder writes baseline only: its scan is transcoded, coefficients unchanged.
      if (t.format === 'jpeg' && t.progressive) out[k] = toProgressive(o.bytes!);
      else if (t.format === 'webp' && !isOpaque(f)) out[k] = webpWithAlpha(o.bytes!, f.data, f.width, f.height);
      else out[k] = o.bytes!;
    });
  }
  return out;
}

/** The frame's bytes as a job input: in place when they fill a SharedArrayBuffer, else copied once. */
function sharedSource(data: Uint8Array): PlanInput['source'] {
  if (data.buffer instanceof SharedArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) {
    return { type: 'shared', buffer: data.buffer, byteLength: data.byteLength };
  }
  const copy = sharedPixels(data.length);
  copy.set(data);
  return { type: 'shared', buffer: copy.buffer as SharedArrayBuffer, byteLength: data.length };
}
