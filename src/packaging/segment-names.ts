/**
 * File names of a track's segments from DASH-style templates: `$RepresentationID$` (the
 * rendition), `$Number$` and `$Number%0Nd$` (the segment number, zero-padded to N digits).
 */

export interface SegmentNames {
  init: string;
  media: string;
  /** Single-file mode: the one file of each track (init, `sidx`, segments); `init` and `media` are not used. */
  singleFile?: string;
}

/** The name of a track's one file in single-file mode. */
export const SINGLE_FILE_NAME = '$RepresentationID$.mp4';

export const DEFAULT_SEGMENT_NAMES: Readonly<SegmentNames> = Object.freeze({ init: 'init.mp4', media: 'seg-$Number$.m4s' });

export const NUMBER_TOKEN = /\$Number(?:%0([1-9])d)?\$/;

/** `$RepresentationID$` filled in; `$Number…$` left for the segmenter (and for DASH, which reads it). */
export function forRendition(template: string, id: string): string {
  return template.replaceAll('$RepresentationID$', id);
}

/** The file name of segment `n`. */
export function segmentName(pattern: string, n: number): string {
  return pattern.replace(NUMBER_TOKEN, (_, width: string | undefined) => (width ? String(n).padStart(Number(width), '0') : String(n)));
}
