/**
 * The worker side of an image plan, in one task: header (size checked against maxPixels before
 * any decode buffer exists) → decode to RGBA8 with the FFmpeg core (JPEG shrink-on-load via the
 * decoder's `lowres`; YCbCr JPEGs come out as planes, converted libjpeg-style in jpeg-color.ts)
 * → colour to sRGB → EXIF orientation → resize with the wasm kernel, once per
 * target from one decoded source → crop/letterbox/flatten → one FFmpeg run encoding every target.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { InputError, LimitError } from '../../errors.js';
import type { ImageJobInfo } from '../../model/image-spec.js';
import type { FFmpegPlan, ImagePlan, JobOutputResult, JobResult, PlanInput } from '../../model/plan.js';
import { type RunContext, runPlan } from '../ffmpeg/run-plan.js';
import { Resizer, type RgbaImage } from '../kernels/resize.js';
import { as12Bit, cmykPlanesToRgba } from './cmyk.js';
import { crop, flatten, isOpaque, letterbox } from './compose.js';
import { encodeArgs, rawInputArgs } from './encode.js';
import { exifOrientation, type Orientation } from './exif.js';
import { type FitPlan, planFit } from './fit.js';
import { checkDecodable, type ImageHeader, readImageHeader } from './header.js';
import { convertToSrgb } from './icc.js';
import { jpegLayout, jpegPlanesToRgba, LAYOUT_PIX_FMT, planesSize } from './jpeg-color.js';
import { toProgressive } from './jpeg-progressive.js';
import { addMetadata } from './metadata.js';
import { applyOrientation, orientedSize, swapsAxes } from './orient.js';
import { encodeWebpLossless } from './webp-lossless.js';

/** Decoder log lines that mean the picture is damaged even though FFmpeg exited 0. */
const DAMAGE_PATTERNS = [/overread/i, /error count/i, /(?:mjpeg|png|webp|gif|bmp|tiff).*(?:invalid|error|corrupt)/i, /Incomplete/i];

export function runImagePlan(plan: ImagePlan, ctx: RunContext): JobResult {
  const { image: spec } = plan;
  const input = plan.inputs[0];
  const bytes = readInput(input);
  const header = readImageHeader(bytes);
  const stored = header.width * header.height;
  if (stored > spec.maxPixels) {
    throw new LimitError('maxPixels', `the image is ${header.width}×${header.height} = ${stored} pixels, over maxPixels ${spec.maxPixels}`, {
      max: spec.maxPixels,
      actual: stored,
    });
  }
  checkDecodable(header);
  const orientation = exifOrientation(header.exif);
  const shown = orientedSize(header.width, header.height, orientation);
  const fits = spec.targets.map((t) => planFit(shown.width, shown.height, t));

  const lowres = spec.shrinkOnLoad ? chooseLowres(header, orientation, fits) : 0;
  let started = performance.now();
  const cmyk = header.jpeg?.components === 4;
  let decoded: RgbaImage;
  let icc: ImageJobInfo['source']['icc'];
  if (cmyk) {
    const source: PlanInput['source'] = sharedBytes(as12Bit(bytes, header));
    const planes = decode(plan, { ...input, source }, header, 0, ctx, 'yuva444p16le', header.width * header.height * 8);
    ({ image: decoded, icc } = cmykPlanesToRgba(planes, header));
  } else {
    const width = Math.ceil(header.width / (1 << lowres));
    const height = Math.ceil(header.height / (1 << lowres));
    const layout = jpegLayout(header);
    decoded = layout
      ? jpegPlanesToRgba(decode(plan, input, header, lowres, ctx, LAYOUT_PIX_FMT[layout], planesSize(layout, width, height)), layout, width, height)
      : { data: decode(plan, input, header, lowres, ctx, 'rgba', width * height * 4), width, height };
    icc = 'none';
  }
  const decodeMs = performance.now() - started;

  started = performance.now();
  if (!cmyk && header.icc) icc = convertToSrgb(decoded, header.icc);
  decoded = applyOrientation(decoded, orientation);
  const resizer = new Resizer(decoded, { maxPixels: Math.max(spec.maxPixels, decoded.width * decoded.height) });
  const frames = spec.targets.map((t, i) => {
    const fit = fits[i]!;
    let img =
      fit.resize.width === decoded.width && fit.resize.height === decoded.height
        ? decoded
        : resizer.resize({
            width: fit.resize.width,
            height: fit.resize.height,
            kernel: t.kernel,
            linearLight: t.linearLight,
            maxPixels: Number.MAX_SAFE_INTEGER,
          });
    if (fit.crop) img = crop(img, fit.crop);
    if (fit.canvas) img = letterbox(img, fit.canvas, t.background);
    if (t.format === 'jpeg') img = flatten(img, t.background);
    return img;
  });
  const resizeMs = performance.now() - started;

  started = performance.now();
  const encoded = encode(plan, frames, ctx);
  const outputs: JobOutputResult[] = plan.outputs.map((out, i) => {
    const t = spec.targets[i]!;
    const data = t.keepMetadata ? addMetadata(t.format, encoded[i]!, header.exif) : encoded[i]!;
    if (out.sink.type === 'path') {
      writeFileSync(out.sink.path, data);
      return { name: out.name, size: data.length };
    }
    return { name: out.name, size: data.length, bytes: data };
  });
  const total = outputs.reduce((n, o) => n + o.size, 0);
  if (total > plan.limits.maxOutputBytes) {
    throw new LimitError('maxOutputBytes', `the outputs total ${total} bytes, over maxOutputBytes (${plan.limits.maxOutputBytes} bytes)`, {
      max: plan.limits.maxOutputBytes,
      actual: total,
    });
  }
  const encodeMs = performance.now() - started;

  const info: ImageJobInfo = {
    source: { format: header.format, width: shown.width, height: shown.height, orientation, icc },
    lowres,
    decodeMs,
    resizeMs,
    encodeMs,
    outputs: frames.map((f, i) => ({ width: f.width, height: f.height, format: spec.targets[i]!.format })),
  };
  return { outputs, image: info, log: [], mediaSeconds: null, execMs: decodeMs + resizeMs + encodeMs, instantiateMs: 0 };
}

function readInput(input: PlanInput): Uint8Array {
  const { source } = input;
  if (source.type === 'shared') return new Uint8Array(source.buffer, 0, source.byteLength);
  return readFileSync(source.path);
}

/**
 * The largest `lowres` level (decode at 1/2, 1/4, 1/8) whose output is still at least as large
 * as every target's resize size, so the kernel always finishes the job by downscaling.
 * CMYK JPEGs are decoded whole: their 12-bit decoding trick (cmyk.ts) is kept to the one path
 * that the tests compare with libvips.
 */
function chooseLowres(header: ImageHeader, orientation: Orientation, fits: FitPlan[]): number {
  if (header.format !== 'jpeg' || header.jpeg?.components === 4) return 0;
  let needW = 0;
  let needH = 0;
  for (const f of fits) {
    const [w, h] = swapsAxes(orientation) ? [f.resize.height, f.resize.width] : [f.resize.width, f.resize.height];
    needW = Math.max(needW, w);
    needH = Math.max(needH, h);
  }
  for (let level = 3; level >= 1; level--) {
    const scale = 1 << level;
    if (needW * scale <= header.width && needH * scale <= header.height) return level;
  }
  return 0;
}

function sharedBytes(bytes: Uint8Array): PlanInput['source'] {
  const buffer = new SharedArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return { type: 'shared', buffer, byteLength: bytes.length };
}

/** Decodes the first frame to raw `pixFmt` bytes (`expectedBytes` of them) at 1/2^lowres. */
function decode(plan: ImagePlan, input: PlanInput, header: ImageHeader, lowres: number, ctx: RunContext, pixFmt: string, expectedBytes: number): Uint8Array {
  const inName = `in.${header.format}`;
  const outName = 'decoded.rgba';
  const decodePlan: FFmpegPlan = {
    op: 'ffmpeg',
    phase: `${plan.phase}: decode`,
    inputs: [{ name: inName, source: input.source }],
    outputs: [{ name: outName, sink: { type: 'bytes' } }],
    args: [
      ...(lowres ? ['-lowres', String(lowres)] : []),
      // FFmpeg would rotate by the EXIF tag itself; orientation is applied here, after colour.
      '-noautorotate',
      // CRCs checked and any bitstream error fatal: a damaged file fails instead of decoding to garbage.
      // (TIFF and BMP decoders treat unknown tags as errors under `explode`: CRCs only there.)
      '-err_detect',
      header.format === 'tiff' || header.format === 'bmp' ? 'crccheck' : 'crccheck+explode',
      '-i',
      `/job/${inName}`,
      '-frames:v',
      '1',
      '-sws_flags',
      'bicubic+accurate_rnd+full_chroma_int',
      '-f',
      'rawvideo',
      '-pix_fmt',
      pixFmt,
      `/job/${outName}`,
    ],
    // The decoded frame is an intermediate: it may be as large as maxPixels allows.
    limits: { ...plan.limits, maxOutputBytes: Number.MAX_SAFE_INTEGER, maxReturnedBytes: Number.MAX_SAFE_INTEGER },
  };
  const result = runPlan(decodePlan, ctx);
  const damage = result.log.find((line) => DAMAGE_PATTERNS.some((re) => re.test(line)));
  if (damage) throw new InputError(`${plan.phase}: the image is damaged or truncated: ${damage.trim()}`, { log: result.log.slice(-8) });
  const width = Math.ceil(header.width / (1 << lowres));
  const height = Math.ceil(header.height / (1 << lowres));
  const data = result.outputs[0]!.bytes!;
  if (data.length !== expectedBytes) {
    throw new InputError(`${plan.phase}: the image decoded to ${data.length} bytes, not the ${width}×${height} its header states`);
  }
  return data;
}

function encode(plan: ImagePlan, frames: RgbaImage[], ctx: RunContext): Uint8Array[] {
  const targets = plan.image.targets;
  const out: Uint8Array[] = new Array(frames.length);
  const inputs: PlanInput[] = [];
  const inArgs: string[] = [];
  const outArgs: string[] = [];
  const viaFFmpeg: number[] = [];
  frames.forEach((f, i) => {
    const t = targets[i]!;
    if (t.format === 'webp' && t.lossless) {
      // The core's libwebp lossless encoder crashes; VP8L is written here instead.
      out[i] = encodeWebpLossless(f.data, f.width, f.height);
      return;
    }
    const shared = new SharedArrayBuffer(f.data.length);
    new Uint8Array(shared).set(f.data);
    const name = `frame${i}.rgba`;
    outArgs.push('-map', `${inputs.length}:v`, ...encodeArgs(t, isOpaque(f), `/job/out${i}`));
    inputs.push({ name, source: { type: 'shared', buffer: shared, byteLength: f.data.length } });
    inArgs.push(...rawInputArgs(f.width, f.height, `/job/${name}`));
    viaFFmpeg.push(i);
  });
  if (viaFFmpeg.length > 0) {
    const encodePlan: FFmpegPlan = {
      op: 'ffmpeg',
      phase: `${plan.phase}: encode`,
      inputs,
      outputs: viaFFmpeg.map((i) => ({ name: `out${i}`, sink: { type: 'bytes' } })),
      args: [...inArgs, ...outArgs],
      limits: plan.limits,
    };
    runPlan(encodePlan, ctx).outputs.forEach((o, k) => {
      const i = viaFFmpeg[k]!;
      // FFmpeg 5.1's mjpeg encoder writes baseline only: its scan is transcoded, coefficients unchanged.
      out[i] = targets[i]!.format === 'jpeg' && targets[i]!.progressive ? toProgressive(o.bytes!) : o.bytes!;
    });
  }
  return out;
}
