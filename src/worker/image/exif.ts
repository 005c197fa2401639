/**
 * EXIF, read and written by hand: only IFD0's Orientation tag (0x0112) matters for display, and
 * kept metadata gets that tag reset to 1 because the pixels are written already rotated.
 */

export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

const ORIENTATION_TAG = 0x0112;

interface Ifd0Entry {
  /** Byte offset of the 12-byte entry inside the TIFF block. */
  at: number;
  le: boolean;
}

function findOrientation(tiff: Uint8Array): Ifd0Entry | undefined {
  if (tiff.length < 8) return undefined;
  const le = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!le && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, le) !== 42) return undefined;
  const ifd = view.getUint32(4, le);
  if (ifd + 2 > tiff.length) return undefined;
  const count = view.getUint16(ifd, le);
  for (let i = 0; i < count; i++) {
    const at = ifd + 2 + i * 12;
    if (at + 12 > tiff.length) return undefined;
    if (view.getUint16(at, le) === ORIENTATION_TAG) return { at, le };
  }
  return undefined;
}

/** The EXIF orientation (1–8); 1 when absent or out of range. */
export function exifOrientation(tiff: Uint8Array | undefined): Orientation {
  if (!tiff) return 1;
  const entry = findOrientation(tiff);
  if (!entry) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const value = view.getUint16(entry.at + 8, entry.le);
  return value >= 1 && value <= 8 ? (value as Orientation) : 1;
}

/** A copy of the EXIF block with Orientation set to 1 (the output is stored upright). */
export function uprightExif(tiff: Uint8Array): Uint8Array {
  const copy = tiff.slice();
  const entry = findOrientation(copy);
  if (entry) new DataView(copy.buffer).setUint16(entry.at + 8, 1, entry.le);
  return copy;
}

/**
 * A minimal EXIF block holding only an Orientation: 1 for outputs of sources that had none, the
 * source's own for TIFF inputs (whose EXIF would otherwise be the whole file).
 */
export function minimalExif(orientation = 1): Uint8Array {
  // II*\0, IFD0 at 8: one entry (0x0112, SHORT, 1, value), next IFD 0.
  return Uint8Array.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, orientation & 255, orientation >> 8, 0, 0, 0, 0, 0, 0]);
}
