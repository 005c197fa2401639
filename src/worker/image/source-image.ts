/**
 * The decoded source, upright and in sRGB, and the frames made from it for each target. When some
 * target needs resizing, the source is decoded straight into the resize kernel's memory (no RGBA
 * copy of it on the host); when none does (a format conversion), into shared memory that the
 * encoder reads in place. Either way a source stored rotated goes through one host buffer first,
 * which orientation copies from and which is garbage once loading returns.
 */
import type { ImageDecoder, ImageJobInfo, ImageTargetSpec } from '../../model/image-spec.js';
import type { ImagePlan } from '../../model/plan.js';
import type { RunContext } from '../ffmpeg/run-plan.js';
import { Resizer, type RgbaImage } from '../kernels/resize.js';
import { crop, flatten, letterbox, sharedPixels } from './compose.js';
import { type DecodeTarget, decodeImage, hostTarget } from './decode.js';
import type { Orientation } from './exif.js';
import type { FitPlan } from './fit.js';
import type { ImageHeader } from './header.js';
import { convertToSrgb } from './icc.js';
import { applyOrientation, orientedSize } from './orient.js';

export class SourceImage {
  private constructor(
    readonly width: number,
    readonly height: number,
    /** The kernel holding the source, when some target is resized. */
    private readonly resizer: Resizer | undefined,
    /** The source in shared memory, when no target is resized. */
    private readonly pixels: Uint8Array | undefined,
    /** Targets that take the source as it is: with only one, it may change the pixels in place. */
    private readonly unresized: number,
    readonly icc: ImageJobInfo['source']['icc'],
    readonly decoder: ImageDecoder,
    readonly decodeMs: number,
  ) {}

  static async load(plan: ImagePlan, ctx: RunContext, header: ImageHeader, orientation: Orientation, lowres: number, fits: FitPlan[]): Promise<SourceImage> {
    const started = performance.now();
    const cmyk = header.jpeg?.components === 4;
    const scale = cmyk ? 1 : 1 << lowres;
    const { width, height } = orientedSize(Math.ceil(header.width / scale), Math.ceil(header.height / scale), orientation);
    const unresized = fits.filter((f) => f.resize.width === width && f.resize.height === height).length;
    const resized = unresized < fits.length;
    const resizer = resized ? new Resizer({ width, height }, { maxPixels: plan.image.maxPixels }) : undefined;
    const pixels = resizer ? undefined : sharedPixels(width * height * 4);
    const home = () => resizer?.source ?? pixels!;
    const target: DecodeTarget = orientation === 1 ? home : hostTarget;
    const decoded = await decodeImage(plan, ctx, header, lowres, target, orientation === 1 ? resizer : undefined);
    const decodeMs = performance.now() - started;
    // Pixels left in the resizer are asked for only when something must change them.
    const image = (): RgbaImage => decoded.image ?? { data: home(), width, height };
    let { icc } = decoded;
    if (!cmyk) {
      if (header.icc) icc = convertToSrgb(image, header.icc);
      else if (header.iccDropped) icc = 'ignored';
    }
    if (orientation !== 1) applyOrientation(image(), orientation, home());
    // Planes are converted in every resize that reads them: for several sizes, once is cheaper.
    if (resizer && fits.length - unresized > 1) resizer.convertSource();
    return new SourceImage(width, height, resizer, pixels, unresized, icc, decoded.decoder, decodeMs);
  }

  /** Done with the source: the resize kernel's instance goes back for the next job on this thread. */
  release(): void {
    this.resizer?.release();
  }

  /** One target's pixels: resized (or the source as it is), cropped, letterboxed, flattened for JPEG. */
  frame(fit: FitPlan, t: ImageTargetSpec, maxPixels: number): RgbaImage {
    let img: RgbaImage;
    // Whether `img` is this frame's own buffer, free to change in place.
    let own = true;
    if (fit.resize.width !== this.width || fit.resize.height !== this.height) {
      img = this.resizer!.resize({ width: fit.resize.width, height: fit.resize.height, kernel: t.kernel, linearLight: t.linearLight, maxPixels, shared: true });
    } else if (this.pixels) {
      img = { data: this.pixels, width: this.width, height: this.height };
      own = this.unresized === 1;
    } else {
      img = { data: sharedPixels(this.width * this.height * 4), width: this.width, height: this.height };
      img.data.set(this.resizer!.source);
    }
    const step = (next: RgbaImage) => {
      own ||= next !== img;
      img = next;
    };
    if (fit.crop) step(crop(img, fit.crop));
    if (fit.canvas) step(letterbox(img, fit.canvas, t.background));
    return t.format === 'jpeg' ? flatten(img, t.background, own) : img;
  }
}
