/**
 * The JPEG reader: one streaming pass over the first image's markers, SOI to EOI, through bounded
 * window reads. Before the first scan it takes the SOF (size, components, sampling), the first
 * APP1 Exif block, the APP2 ICC_PROFILE chunks and the APP14 Adobe transform; through the scans it
 * only looks for markers, counting SOS against IMAGE_INPUT_CAPS.jpegScans (every scan makes the
 * decoder pass over the whole picture again, so a file of thousands of cheap scans costs seconds
 * per megapixel). It also lays out the decoder's view: every segment but APPn metadata (other
 * than JFIF APP0 and Adobe APP14) and comments, up to the EOI.
 */
import { InputError } from '../../errors.js';
import { IMAGE_INPUT_CAPS } from '../../model/image-spec.js';
import { concatBytes } from '../../util/bytes.js';
import { bad, type ImageHeader, type JpegInfo, truncated, ViewBuilder } from './header-common.js';
import { type ImageBytes, WINDOW } from './source.js';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
/** Markers without a length: RSTn and TEM. */
const standalone = (m: number) => (m >= 0xd0 && m <= 0xd7) || m === 0x01;
/** Segments the decoder is not given: metadata it has no use for here (EXIF, ICC, XMP, IPTC, comments). */
const dropped = (m: number) => (m >= APP0 && m <= 0xef && m !== APP0 && m !== APP14) || m === COM;

export function readJpeg(src: ImageBytes): ImageHeader {
  let info: JpegInfo | undefined;
  let width = 0;
  let height = 0;
  let exif: Uint8Array | undefined;
  let adobeTransform: number | null = null;
  const iccChunks = new Map<number, Uint8Array>();
  let scans = 0;
  let end = -1;
  const view = new ViewBuilder();
  view.range(0, 2);
  let at = 2;
  while (end < 0) {
    const head = src.peek(at, 4);
    if (head.length < 2) throw truncated('JPEG', 'the file ends before the end-of-image marker');
    if (head[0] !== 0xff) throw bad('JPEG', `expected a marker at byte ${at}`);
    const marker = head[1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === EOI) {
      end = at + 2;
      view.range(at, end);
      break;
    }
    if (standalone(marker)) {
      view.range(at, at + 2);
      at += 2;
      continue;
    }
    if (marker === SOI) throw bad('JPEG', `a second start-of-image marker at byte ${at}`);
    if (head.length < 4) throw truncated('JPEG', 'the file ends inside a marker');
    const len = (head[2]! << 8) | head[3]!;
    if (len < 2) throw bad('JPEG', `segment length ${len}`);
    const segEnd = at + 2 + len;
    if (segEnd > src.size) throw truncated('JPEG', `a segment runs past the end of the file`);
    if (!dropped(marker)) view.range(at, segEnd);
    if (isSof(marker)) {
      if (scans > 0) throw bad('JPEG', 'a second frame header after the first scan (hierarchical or multi-frame JPEG)');
      const seg = src.peek(at + 4, len - 2);
      if (seg.length < 6) throw bad('JPEG', 'short SOF');
      height = (seg[1]! << 8) | seg[2]!;
      width = (seg[3]! << 8) | seg[4]!;
      info = {
        components: seg[5]!,
        progressive: marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce,
        adobeTransform: null,
        sofAt: at,
        sofMarker: marker,
        precision: seg[0]!,
        componentIds: [],
        sampling: [],
        scans: 0,
      };
      for (let c = 0; c < info.components && 8 + 3 * c <= seg.length; c++) {
        info.componentIds.push(seg[6 + 3 * c]!);
        info.sampling.push(seg[7 + 3 * c]!);
      }
    } else if (scans === 0 && marker === APP1 && len > 16) {
      const seg = src.peek(at + 4, len - 2);
      if (latin(seg, 0, 6) === 'Exif\0\0') exif ??= seg.slice(6);
    } else if (scans === 0 && marker === APP2 && len > 16) {
      const seg = src.peek(at + 4, len - 2);
      // At most 255 numbered chunks of at most 65,519 bytes: under IMAGE_INPUT_CAPS.iccBytes.
      if (latin(seg, 0, 12) === 'ICC_PROFILE\0') iccChunks.set(seg[12]!, seg.slice(14));
    } else if (scans === 0 && marker === APP14 && len >= 14) {
      const seg = src.peek(at + 4, len - 2);
      if (latin(seg, 0, 5) === 'Adobe') adobeTransform = seg[11]!;
    } else if (marker === SOS) {
      if (!info) throw bad('JPEG', 'no SOF segment before the scan');
      scans++;
      if (scans > IMAGE_INPUT_CAPS.jpegScans) {
        throw new InputError(
          `the JPEG has more than ${IMAGE_INPUT_CAPS.jpegScans} scans; no encoder writes that many, and each one costs a full decoding pass`,
          {
            maxScans: IMAGE_INPUT_CAPS.jpegScans,
          },
        );
      }
      const next = nextMarker(src, segEnd);
      view.range(segEnd, next);
      at = next;
      continue;
    }
    at = segEnd;
  }
  if (!info) throw bad('JPEG', 'no SOF segment before the end of the image');
  if (scans === 0) throw bad('JPEG', 'no scan before the end of the image');
  info.adobeTransform = adobeTransform;
  info.scans = scans;
  const header: ImageHeader = { format: 'jpeg', width, height, jpeg: info };
  // 12-bit JPEGs decode to 16-bit planes, and so do CMYK ones (cmyk.ts).
  if (info.precision > 8 || info.components === 4) header.sampleBytes = 2;
  if (exif) header.exif = exif;
  if (iccChunks.size > 0) header.icc = concatBytes([...iccChunks.keys()].sort((a, b) => a - b).map((k) => iccChunks.get(k)!));
  // Metadata interleaved with the image in too many places: the decoder gets the image as it is.
  header.view = view.view ?? [{ from: 0, to: end }];
  return header;
}

/**
 * The position of the first marker after a scan's entropy-coded data, which starts at `at`:
 * 0xFF followed by anything but 0x00 (a stuffed data byte), another 0xFF (fill) or RSTn.
 */
function nextMarker(src: ImageBytes, at: number): number {
  for (;;) {
    const block = src.peek(at, WINDOW);
    if (block.length < 2) throw truncated('JPEG', 'the scan data ends before the end-of-image marker');
    let i = block.indexOf(0xff);
    while (i >= 0 && i + 1 < block.length) {
      const next = block[i + 1]!;
      if (next !== 0x00 && next !== 0xff && !(next >= 0xd0 && next <= 0xd7)) return at + i;
      i = block.indexOf(0xff, i + 1);
    }
    // Keep a trailing 0xFF for the next window, where its second byte is.
    at += i === block.length - 1 ? block.length - 1 : block.length;
  }
}

function latin(bytes: Uint8Array, at: number, n: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + n));
}
