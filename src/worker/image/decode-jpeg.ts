/**
 * Baseline YCbCr and grayscale JPEGs through libjpeg-turbo inside the FFmpeg core
 * (wasm-build/glue/jpeg-decode.c): the header's view of the file is copied into the core's heap
 * and decoded to planes at 1/2^lowres with libjpeg's scaled IDCTs, the shrink-on-load libvips
 * does, to libvips' pixels. A core without it (the stock core), and a file libjpeg finds damaged
 * or unlike its header, go to FFmpeg, whose verdict on a damaged file stands: libjpeg stops at the
 * first warning, while FFmpeg may decode a file with a harmless oddity (stray bytes between
 * markers) that libjpeg warns about.
 */
import { InternalError, LimitError } from '../../errors.js';
import type { ImagePlan, PlanInput } from '../../model/plan.js';
import { JPEG_STATUS } from '../ffmpeg/core-api.js';
import { type RunContext, stopError } from '../ffmpeg/run-plan.js';
import { planesSize, type YccLayout } from '../kernels/ycc-common.js';
import type { ImageHeader } from './header.js';
import { jpegPlaneLayout } from './jpeg-color.js';
import { readWhole } from './read-whole.js';

/**
 * Whether libjpeg-turbo decodes this JPEG (of a layout the ycc kernel converts) on this core:
 * sequential Huffman files (baseline and extended) only. Progressive ones stay with FFmpeg, which
 * is faster on them in wasm: libjpeg's successive-approximation refinement (decode_mcu_AC_refine,
 * 57 % of its time) reads a bit at a time (bench/jpeg-decode.mjs, 12 MP progressive, decodeMs:
 * FFmpeg 1.2–1.5× faster at every scale; baseline: libjpeg-turbo 1.04–1.17× faster).
 */
export function libjpegDecodes(ctx: RunContext, header: ImageHeader): boolean {
  return ctx.core.jpegDecoder && (header.jpeg?.sofMarker === 0xc0 || header.jpeg?.sofMarker === 0xc1);
}

/**
 * Decodes into `into` the planes of `layout` at 1/2^lowres, packed in `jpegPlaneLayout(layout,
 * lowres)`; false when libjpeg did not decode the file, which then goes to FFmpeg.
 */
export function decodeJpegPlanes(
  plan: ImagePlan,
  ctx: RunContext,
  header: ImageHeader,
  input: PlanInput,
  lowres: number,
  layout: YccLayout,
  into: Uint8Array,
): boolean {
  const { core } = ctx;
  const budget = plan.limits.maxHeapBytes;
  core.setHeapBudget(budget);
  const width = Math.ceil(header.width / (1 << lowres));
  const height = Math.ceil(header.height / (1 << lowres));
  const planeLayout = jpegPlaneLayout(layout, lowres);
  if (into.length !== planesSize(planeLayout, width, height)) throw new InternalError(`${plan.phase}: the JPEG planes' buffer is not their size`);
  const data = readWhole(plan, input, 'JPEG');
  const outcome = core.decodeJpeg(data, 1 << lowres, { width: header.width, height: header.height, layout, planeLayout }, into);
  if (outcome === undefined) return false;
  switch (outcome) {
    case JPEG_STATUS.ok:
      return true;
    case JPEG_STATUS.cancelled:
      throw stopError(ctx.cancelFlag, plan.limits) ?? new InternalError(`${plan.phase}: the JPEG decode stopped with no cancel request`);
    case JPEG_STATUS.outOfMemory:
      throw new LimitError(
        'maxHeapBytes',
        `${plan.phase}: decoding the ${header.width}×${header.height} JPEG needs more memory than maxHeapBytes (${budget} bytes)`,
        {
          max: budget,
        },
      );
    default:
      // Damaged, or not what the header said: FFmpeg's strict decode decides (see above).
      return false;
  }
}
