/**
 * WebP stills through libwebp inside the FFmpeg core (wasm-build/glue/webp-decode.c): the header's
 * view of the file (its RIFF of VP8X, ALPH and the bitstream) is copied into the core's heap and
 * decoded straight to RGBA8 in the target, with libwebp's own upsampling, as libvips and browsers
 * decode it. In wasm that is several times as fast as FFmpeg's VP8 decoder and swscale. A core
 * without it (the stock core) leaves the file to FFmpeg.
 */
import { LimitError, UnsupportedError } from '../../errors.js';
import type { ImagePlan, PlanInput } from '../../model/plan.js';
import { WEBP_STATUS } from '../ffmpeg/core-api.js';
import { openSource, type RunContext } from '../ffmpeg/run-plan.js';
import type { RgbaImage } from '../kernels/resize.js';
import { damaged } from './damage.js';
import type { ImageHeader } from './header.js';

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
  const budget = plan.limits.maxHeapBytes;
  core.setHeapBudget(budget);
  if (!core.webpDecoder) return undefined;
  const source = openSource(input);
  try {
    // The file goes into the heap whole: one larger than the heap cannot decode, and is not read.
    if (source.size > budget) {
      throw new LimitError('maxHeapBytes', `${plan.phase}: the WebP data is ${source.size} bytes, more than maxHeapBytes (${budget} bytes)`, {
        max: budget,
        actual: source.size,
      });
    }
    const data = new Uint8Array(source.size);
    const read = source.read(data, 0);
    const out = target(width, height);
    const status = core.decodeWebp(data.subarray(0, read), width, height, out);
    if (status === undefined) return undefined;
    if (status === 0) return { data: out, width, height };
    const reason = WEBP_STATUS[status] ?? `status ${status}`;
    if (UNSUPPORTED.has(status))
      throw new UnsupportedError(`${plan.phase}: the WebP image uses a feature libwebp does not decode (${reason})`, { format: 'webp', status });
    throw damaged(plan.phase, 'webp', [`libwebp: ${reason}`]);
  } finally {
    source.close();
  }
}
