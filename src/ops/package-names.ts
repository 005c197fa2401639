/**
 * The `initTemplate` and `segmentTemplate` options of a package: checked up front so that every
 * name they make is one plain file name inside its rendition's folder, distinct from the others.
 */
import { OptionsError } from '../errors.js';
import { DEFAULT_SEGMENT_NAMES, NUMBER_TOKEN, type SegmentNames, SINGLE_FILE_NAME } from '../packaging/segment-names.js';

const ALLOWED = /^[A-Za-z0-9._-]+$/;

function check(option: string, value: unknown, media: boolean): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200)
    throw new OptionsError(option, 'must be a file name template of 1 to 200 characters');
  const numbers = value.match(new RegExp(NUMBER_TOKEN.source, 'g'))?.length ?? 0;
  if (media && numbers !== 1) throw new OptionsError(option, `must hold $Number$ (or $Number%05d$) exactly once, got ${JSON.stringify(value)}`);
  if (!media && numbers !== 0) throw new OptionsError(option, `names the one init segment and cannot hold $Number$, got ${JSON.stringify(value)}`);
  const literal = value.replace(new RegExp(NUMBER_TOKEN.source, 'g'), '0').replaceAll('$RepresentationID$', 'id');
  if (!ALLOWED.test(literal) || literal.startsWith('.')) {
    throw new OptionsError(
      option,
      `may use letters, digits, '.', '_', '-', $RepresentationID$ and $Number$, and not start with '.', got ${JSON.stringify(value)}`,
    );
  }
  if (literal === 'playlist.m3u8') throw new OptionsError(option, 'would replace the rendition’s playlist.m3u8');
  return value;
}

export function resolveSegmentNames(o: { initTemplate?: unknown; segmentTemplate?: unknown; singleFile?: unknown }): SegmentNames {
  const single = o.singleFile ?? false;
  if (typeof single !== 'boolean') throw new OptionsError('singleFile', 'must be a boolean');
  if (single) {
    // The one file of a track is named after its rendition; there are no segment files to name.
    for (const option of ['initTemplate', 'segmentTemplate'] as const) {
      if (o[option] !== undefined) throw new OptionsError(option, 'names separate segment files, and singleFile writes one file per rendition');
    }
    return { ...DEFAULT_SEGMENT_NAMES, singleFile: SINGLE_FILE_NAME };
  }
  const init = o.initTemplate === undefined ? DEFAULT_SEGMENT_NAMES.init : check('initTemplate', o.initTemplate, false);
  const media = o.segmentTemplate === undefined ? DEFAULT_SEGMENT_NAMES.media : check('segmentTemplate', o.segmentTemplate, true);
  // A segment must never be written over the init segment.
  const pattern = new RegExp(
    `^${media
      .split(NUMBER_TOKEN)
      .filter((_, i) => i % 2 === 0)
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('\\d+')}$`,
  );
  if (pattern.test(init))
    throw new OptionsError('initTemplate', `${JSON.stringify(init)} could also be a segment's name (segmentTemplate ${JSON.stringify(media)})`);
  return { init, media };
}
