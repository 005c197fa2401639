/**
 * WebP stills through libwebp inside the FFmpeg core (wasm-build/glue/webp-decode.c): the header's
 * view of the file (its RIFF of VP8X, ALPH and the bitstream) is copied into the core's heap and
 * decoded straight to RGBA8 in the target, with libwebp's own upsampling, as libvips and browsers
 * decode it. In wasm that is several times as fast as FFmpeg's VP8 decoder and swscale. A core
 * without it (the stock core) leaves the file to FFmpeg.
 */
import { UnsupportedError } from '../../errors.js';
import type { ImagePlan, PlanInput } from '../../model/plan.js';
import { WEBP_STATUS } from '../ffmpeg/core-api.js';
import type { RunContext } from '../ffmpeg/run-plan.js';
import type { RgbaImage } from '../kernels/resize.js';
import { damaged } from './damage.js';
import type { ImageHeader } from './header.js';
import { readWhole } from './read-whole.js';

/** libwebp's VP8_STATUS_UNSUPPORTED_FEATURE, and the glue's "an animation". */
const UNSUPPORTED = new Set([4, 102]);

/** The picture in `target(width, height)`; undefined when the core has no libwebp decoder. */
export function decodeWebp(
  plan: ImagePlan,
  ctx: RunContext,
  header: ImageHeader,
  input: PlanInput,
  target: (width: number, height: number) => Uint8Array,
): RgbaImage | undefined {
  const { core } = ctx;
  const { width, height } = header;
  core.setHeapBudget(plan.limits.maxHeapBytes);
  if (!core.webpDecoder) return undefined;
  const data = readWhole(plan, input, 'WebP');
  const out = target(width, height);
  const status = core.decodeWebp(data, width, height, out);
  if (status === undefined) return undefined;
  if (status === 0) return { data: out, width, height };
  const reason = WEBP_STATUS[status] ?? `status ${status}`;
  if (UNSUPPORTED.has(status))
    throw new UnsupportedError(`${plan.phase}: the WebP image uses a feature libwebp does not decode (${reason})`, { format: 'webp', status });
  throw damaged(plan.phase, 'webp', [`libwebp: ${reason}`]);
}
