/** The video clips with native FFmpeg's frame checksums beside them (test/fixtures/made/README.md). */
import { join } from 'node:path';
import { media, repoRoot } from './media.js';

export const made = (name: string) => join(repoRoot, 'test', 'fixtures', 'made', name);

/** HEVC clips, each with B-frames but the last; the first five are containers the engine takes. */
export const HEVC = ['hevc-b3.mp4', 'hevc-b8-nopyramid.mp4', 'hevc-b4-weightb.mkv', 'hevc-main10-b3.mp4', 'hevc-no-bframes.mp4', 'hevc-b2.hevc'];
export const CORPUS = [media('video', 'realshort-h264-aac.mp4'), media('video', 'oa4-launch-vp8-vorbis.webm')];

/** A framemd5 listing reduced to what must match: each frame's size and checksum, in order. */
export function frames(listing: string): string[] {
  return listing
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const cols = line.split(',').map((c) => c.trim());
      return `${cols[4]} ${cols[5]}`;
    });
}
