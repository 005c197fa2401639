/**
 * An image file (its header's view) read whole, for the decoders inside the core that take it in
 * one piece (libwebp, libjpeg-turbo): it is copied into the core's heap, so a file larger than the
 * heap cap cannot decode there and is refused before a byte of it is read.
 */
import { LimitError } from '../../errors.js';
import type { ImagePlan, PlanInput } from '../../model/plan.js';
import { openSource } from '../ffmpeg/run-plan.js';

export function readWhole(plan: ImagePlan, input: PlanInput, format: string): Uint8Array {
  const budget = plan.limits.maxHeapBytes;
  const source = openSource(input);
  try {
    if (source.size > budget) {
      throw new LimitError('maxHeapBytes', `${plan.phase}: the ${format} data is ${source.size} bytes, more than maxHeapBytes (${budget} bytes)`, {
        max: budget,
        actual: source.size,
      });
    }
    const data = new Uint8Array(source.size);
    return data.subarray(0, source.read(data, 0));
  } finally {
    source.close();
  }
}
