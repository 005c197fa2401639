/**
 * Fit modes as image services define them, computed on the displayed (EXIF-oriented) size:
 *   fill     exactly width × height, aspect ratio ignored
 *   cover    scaled to cover the box, the overflow cropped at `position`
 *   contain  scaled to fit inside the box, letterboxed with the background at `position`
 *   inside   scaled to fit inside the box; the output is the scaled size (no letterbox)
 *   outside  scaled to cover the box; the output is the scaled size (no crop)
 * With only a width (or only a height), the other side is round(h × W / w) and every mode is fill.
 * `withoutEnlargement` never scales up: a smaller image keeps its size and the box shrinks to it.
 */
import type { FitMode, Position } from '../../model/image-spec.js';

export interface FitRequest {
  width?: number | undefined;
  height?: number | undefined;
  fit?: FitMode | undefined;
  position?: Position | undefined;
  withoutEnlargement?: boolean | undefined;
}

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface FitPlan {
  /** Size the whole image is resampled to. */
  resize: { width: number; height: number };
  /** Part of the resampled image kept (cover). */
  crop?: Rect;
  /** Canvas the resampled image is placed on, and where (contain). */
  canvas?: Rect;
  /** The output size. */
  width: number;
  height: number;
}

/** Where a box of `inner` goes inside `outer` along one axis. */
function offset(outer: number, inner: number, start: boolean, end: boolean): number {
  if (start) return 0;
  if (end) return outer - inner;
  return Math.floor((outer - inner) / 2);
}

function place(outerW: number, outerH: number, innerW: number, innerH: number, p: Position): { left: number; top: number } {
  return {
    left: offset(outerW, innerW, p.endsWith('left'), p.endsWith('right')),
    top: offset(outerH, innerH, p.startsWith('top'), p.startsWith('bottom')),
  };
}

export function planFit(srcW: number, srcH: number, req: FitRequest): FitPlan {
  const enlarge = !req.withoutEnlargement;
  if (req.width === undefined || req.height === undefined) {
    let width = req.width ?? Math.max(1, Math.round((srcW * req.height!) / srcH));
    let height = req.height ?? Math.max(1, Math.round((srcH * req.width!) / srcW));
    if (!enlarge && (width > srcW || height > srcH)) [width, height] = [srcW, srcH];
    return { resize: { width, height }, width, height };
  }
  const fit = req.fit ?? 'cover';
  const position = req.position ?? 'centre';
  let boxW = req.width;
  let boxH = req.height;
  if (fit === 'fill') {
    if (!enlarge) [boxW, boxH] = [Math.min(boxW, srcW), Math.min(boxH, srcH)];
    return { resize: { width: boxW, height: boxH }, width: boxW, height: boxH };
  }
  const covering = fit === 'cover' || fit === 'outside';
  let scale = covering ? Math.max(boxW / srcW, boxH / srcH) : Math.min(boxW / srcW, boxH / srcH);
  if (!enlarge && scale > 1) {
    scale = 1;
    [boxW, boxH] = [Math.min(boxW, srcW), Math.min(boxH, srcH)];
  }
  // Rounded so the scaled image still covers (or fits) the box exactly on the constrained side.
  let rw = Math.max(1, Math.round(srcW * scale));
  let rh = Math.max(1, Math.round(srcH * scale));
  if (covering) [rw, rh] = [Math.max(rw, boxW), Math.max(rh, boxH)];
  else [rw, rh] = [Math.min(rw, boxW), Math.min(rh, boxH)];
  if (fit === 'inside' || fit === 'outside') return { resize: { width: rw, height: rh }, width: rw, height: rh };
  if (fit === 'cover') {
    const at = place(rw, rh, boxW, boxH, position);
    return { resize: { width: rw, height: rh }, crop: { ...at, width: boxW, height: boxH }, width: boxW, height: boxH };
  }
  const at = place(boxW, boxH, rw, rh, position);
  return { resize: { width: rw, height: rh }, canvas: { ...at, width: boxW, height: boxH }, width: boxW, height: boxH };
}
