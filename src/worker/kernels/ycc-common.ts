/**
 * The plane layouts of decoded JPEGs (FFmpeg's `yuvj420p`, `yuvj422p`, `yuvj444p`, `gray`): Y at
 * full size, then Cb and Cr, their sizes rounded up.
 */
export type YccLayout = '420' | '422' | '444' | 'gray';

export function chromaSize(layout: YccLayout, width: number, height: number): { cw: number; ch: number } {
  if (layout === '420') return { cw: (width + 1) >> 1, ch: (height + 1) >> 1 };
  if (layout === '422') return { cw: (width + 1) >> 1, ch: height };
  return { cw: width, ch: height };
}

/** Bytes of the planes of a `width` × `height` picture in `layout`. */
export function planesSize(layout: YccLayout, width: number, height: number): number {
  const { cw, ch } = chromaSize(layout, width, height);
  return width * height + (layout === 'gray' ? 0 : 2 * cw * ch);
}
