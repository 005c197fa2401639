/**
 * The decode step: on the cores built here, libjpeg-turbo decodes YCbCr and grayscale JPEGs
 * (decode-jpeg.ts) and libwebp WebP stills (decode-webp.ts) inside the core; FFmpeg decodes the
 * rest, and what those two refuse, to raw planes or pixels. Every decoder reads only the header's
 * view of the file, and FFmpeg's output is bounded by the header: it is written into a buffer
 * of the size the header's dimensions imply and may not grow past it, so a file that decodes to
 * more than its header says fails at the decoder's first byte too many, before any host buffer
 * grows for it. YCbCr JPEGs come out as planes (converted libjpeg-style by the ycc kernel), CMYK
 * JPEGs as 16-bit inks (cmyk.ts), 8-bit RGB and grey PNGs in their own format (expand.ts),
 * everything else as RGBA8 written by the decoder straight into the target (an AVIF's alpha plane,
 * a picture of its own, decoded after it into the alpha bytes).
 */
import { InputError, LimitError, UnsupportedError } from '../../errors.js';
import type { ImageDecoder, ImageFormat, ImageJobInfo } from '../../model/image-spec.js';
import { type FFmpegPlan, type ImagePlan, type InputPiece, jobPath, type PlanInput } from '../../model/plan.js';
import { type RunContext, runPlan } from '../ffmpeg/run-plan.js';
import type { Resizer, RgbaImage } from '../kernels/resize.js';
import { YccPlanes } from '../kernels/ycc.js';
import { cmykPlanesToRgba } from './cmyk.js';
import { damaged } from './damage.js';
import { decodeJpegPlanes, libjpegDecodes } from './decode-jpeg.js';
import { decodeWebp } from './decode-webp.js';
import { expandToRgba, NATIVE_BYTES } from './expand.js';
import type { ImageHeader } from './header.js';
import { type JpegLayout, jpegLayout, jpegPlaneLayout, LAYOUT_PIX_FMT } from './jpeg-color.js';

/**
 * The demuxer of each format, named so FFmpeg does not probe: the cores built here have no
 * extension-matching `image2` demuxer, and without it a probe runs every enabled demuxer's probe
 * (MP3, DTS, AC-3, MPEG-TS…) over up to 5 MB of the picture: about 50 ms of a 12 MP JPEG's
 * decode (150–220 ms).
 */
const DEMUXER: Record<ImageFormat, string> = {
  jpeg: 'jpeg_pipe',
  png: 'png_pipe',
  webp: 'webp_pipe',
  gif: 'gif',
  bmp: 'bmp_pipe',
  tiff: 'tiff_pipe',
  avif: 'mov',
};

/** Decoder log lines that mean the picture is damaged even though FFmpeg exited 0. */
const DAMAGE_PATTERNS = [/overread/i, /error count/i, /(?:mjpeg|png|webp|gif|bmp|tiff|dav1d|av1).*(?:invalid|error|corrupt)/i, /Incomplete/i];

export interface DecodedImage {
  /** The pixels; absent when they are the resizer's source (perhaps still as a JPEG's planes). */
  image?: RgbaImage;
  /** What became of colour: CMYK inks go through the embedded profile here; other profiles later. */
  icc: ImageJobInfo['source']['icc'];
  decoder: ImageDecoder;
}

/** Where the decoded RGBA8 goes: a buffer of width × height × 4 bytes (the resize kernel's source). */
export type DecodeTarget = (width: number, height: number) => Uint8Array;

/** A fresh host buffer for each decode. */
export const hostTarget: DecodeTarget = (width, height) => new Uint8Array(width * height * 4);

/**
 * Decodes at 1/2^lowres (JPEG shrink-on-load) to RGBA8 in `target`. Planes, inks and narrower
 * native formats are converted from a raw frame of their own size; RGBA is written by the
 * decoder straight into the target. `resizer`, when given, is the target's owner: JPEG planes are
 * then decoded into its memory and become its source as they are (converted row by row as each
 * resize reads them), and no `image` is returned.
 */
export async function decodeImage(
  plan: ImagePlan,
  ctx: RunContext,
  header: ImageHeader,
  lowres: number,
  target: DecodeTarget = hostTarget,
  resizer?: Resizer,
): Promise<DecodedImage> {
  const input = plan.inputs[0];
  if (header.jpeg?.components === 4) {
    // The SOF marked 12-bit in the decoder's view (see cmyk.ts): one byte patched, nothing copied.
    const view = patchByte(header.view ?? [], header.jpeg.sofAt + 4, 12);
    const raw = await decodeRaw(plan, ctx, header, { ...input, view }, 0, 'yuva444p16le', new Uint8Array(header.width * header.height * 8));
    return { ...cmykPlanesToRgba(raw, header, target(header.width, header.height)), decoder: 'ffmpeg' };
  }
  const width = Math.ceil(header.width / (1 << lowres));
  const height = Math.ceil(header.height / (1 << lowres));
  const viewed: PlanInput = header.view ? { ...input, view: header.view } : input;
  const layout = jpegLayout(header);
  if (layout) {
    // The decoder writes the planes straight into the ycc kernel's memory: the resizer's, where
    // they become its source in place, or an instance of their own. libjpeg-turbo first; FFmpeg
    // when the core has no libjpeg-turbo or it did not decode the file (decode-jpeg.ts).
    let ycc: YccPlanes | undefined;
    const planesIn = (of: JpegLayout): Uint8Array => {
      if (resizer) return resizer.yccPlanes(of);
      ycc = new YccPlanes(of, width, height);
      return ycc.planes;
    };
    let decoded: JpegLayout | undefined;
    if (libjpegDecodes(ctx, header)) {
      const scaled = jpegPlaneLayout(layout, lowres);
      if (decodeJpegPlanes(plan, ctx, header, viewed, lowres, layout, planesIn(scaled))) decoded = scaled;
    }
    const decoder: ImageDecoder = decoded ? 'libjpeg-turbo' : 'ffmpeg';
    if (!decoded) {
      decoded = layout;
      await decodeRaw(plan, ctx, header, viewed, lowres, LAYOUT_PIX_FMT[layout], planesIn(layout));
    }
    if (ycc) return { image: ycc.toRgba(target(width, height)), icc: 'none', decoder };
    resizer!.fromYcc(decoded);
    return { icc: 'none', decoder };
  }
  const { native } = header;
  if (native) {
    const raw = await decodeRaw(plan, ctx, header, viewed, lowres, native, new Uint8Array(width * height * NATIVE_BYTES[native]));
    const out = target(width, height);
    expandToRgba(raw, native, width * height, out);
    return { image: { data: out, width, height }, icc: 'none', decoder: 'ffmpeg' };
  }
  if (header.format === 'webp') {
    const image = decodeWebp(plan, ctx, header, viewed, target);
    if (image) return { image, icc: 'none', decoder: 'libwebp' };
  }
  const out = target(width, height);
  await decodeRaw(plan, ctx, header, viewed, lowres, 'rgba', out).catch((err: unknown) => {
    if (header.format === 'avif' && err instanceof UnsupportedError) {
      throw new UnsupportedError(`${plan.phase}: the input is an AVIF image, and this FFmpeg core has no AV1 decoder (the gpl and lgpl cores have dav1d)`, {
        format: 'avif',
        ...err.details,
      });
    }
    throw err;
  });
  const alpha = header.avif?.alpha;
  if (alpha) {
    // AVIF keeps alpha as a picture of its own (monochrome AV1): decoded alone, then put in place.
    const plane = await decodeRaw(plan, ctx, header, { ...input, view: alpha.view }, 0, 'gray', new Uint8Array(width * height));
    for (let i = 0; i < plane.length; i++) out[i * 4 + 3] = plane[i]!;
  }
  return { image: { data: out, width, height }, icc: 'none', decoder: 'ffmpeg' };
}

/**
 * Decodes the first frame to raw `pixFmt` in `into`, whose size is the one the header implies at
 * 1/2^lowres; an output of any other size is a file that does not hold what its header says.
 */
export async function decodeRaw(
  plan: ImagePlan,
  ctx: RunContext,
  header: ImageHeader,
  input: PlanInput,
  lowres: number,
  pixFmt: string,
  into: Uint8Array,
): Promise<Uint8Array> {
  const expectedBytes = into.length;
  const inName = `in.${header.format}`;
  const outName = 'decoded.raw';
  const width = Math.ceil(header.width / (1 << lowres));
  const height = Math.ceil(header.height / (1 << lowres));
  const decodePlan: FFmpegPlan = {
    op: 'ffmpeg',
    phase: `${plan.phase}: decode`,
    inputs: [{ ...input, name: inName }],
    outputs: [{ name: outName, sink: { type: 'bytes', into } }],
    args: [
      ...(lowres ? ['-lowres', String(lowres)] : []),
      // FFmpeg would rotate by the EXIF tag itself; orientation is applied here, after colour.
      '-noautorotate',
      // CRCs checked and any bitstream error fatal: a damaged file fails instead of decoding to garbage.
      // (TIFF and BMP decoders treat unknown tags as errors under `explode`: CRCs only there.)
      '-err_detect',
      header.format === 'tiff' || header.format === 'bmp' ? 'crccheck' : 'crccheck+explode',
      '-f',
      DEMUXER[header.format],
      '-i',
      jobPath(inName),
      '-frames:v',
      '1',
      '-sws_flags',
      'bicubic+accurate_rnd+full_chroma_int',
      '-f',
      'rawvideo',
      '-pix_fmt',
      pixFmt,
      jobPath(outName),
    ],
    // The decoded frame is held once, at the size the header states: not a byte more.
    limits: { ...plan.limits, maxOutputBytes: expectedBytes, maxReturnedBytes: expectedBytes },
  };
  let result: Awaited<ReturnType<typeof runPlan>>;
  try {
    result = await runPlan(decodePlan, ctx);
  } catch (err) {
    if (err instanceof LimitError && err.limit === 'maxOutputBytes') {
      throw new InputError(`${plan.phase}: the image decodes to more than the ${width}×${height} its header states (${expectedBytes} bytes of ${pixFmt})`, {
        maxBytes: expectedBytes,
      });
    }
    // FFmpeg's reasons ("inflate returned error -3", "Conversion failed!") in the user's words.
    if (err instanceof InputError) throw damaged(plan.phase, header.format, logOf(err), err);
    throw err;
  }
  const damage = result.log.find((line) => DAMAGE_PATTERNS.some((re) => re.test(line)));
  if (damage) throw damaged(plan.phase, header.format, result.log);
  const data = result.outputs[0]!.bytes!;
  if (data.length !== expectedBytes) {
    throw new InputError(`${plan.phase}: the image decoded to ${data.length} bytes, not the ${width}×${height} its header states`);
  }
  return data;
}

function logOf(err: InputError): string[] {
  const log = err.details.log;
  return Array.isArray(log) ? log.map(String) : [err.message];
}

/** `pieces` (ranges of the source) with the source byte at `at` replaced by `value`. */
export function patchByte(pieces: readonly InputPiece[], at: number, value: number): InputPiece[] {
  const out: InputPiece[] = [];
  for (const p of pieces) {
    if ('bytes' in p || at < p.from || at >= p.to) {
      out.push(p);
      continue;
    }
    if (at > p.from) out.push({ from: p.from, to: at });
    out.push({ bytes: Uint8Array.of(value) });
    if (at + 1 < p.to) out.push({ from: at + 1, to: p.to });
  }
  return out;
}
