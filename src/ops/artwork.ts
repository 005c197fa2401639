/**
 * Cover art and tags of audio outputs. The source's embedded picture (an MP3's APIC, an M4A's
 * covr, a FLAC PICTURE block) is kept by default wherever the output container holds one: MP3,
 * MP4/M4A and FLAC carry it as an attached picture stream (copied, not re-encoded); Ogg Vorbis and
 * Opus carry it as a METADATA_BLOCK_PICTURE comment, which FFmpeg 5.1's Ogg muxer does not write,
 * so it is built here; WAV has no place for it. A given picture (`cover`) replaces it, resized with
 * the image pipeline first. Tags are the source's (unless stripped) with the given ones on top.
 */
import { checkInputShape, type MediaInput, type ResolvedInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import type { Call } from '../call/run-call.js';
import * as v from '../call/validate.js';
import { OptionsError } from '../errors.js';
import { DEFAULT_MAX_PIXELS } from '../model/image-spec.js';
import { type FFmpegPlan, jobPath, type PlanInput } from '../model/plan.js';
import type { ProbeResult, StreamInfo } from '../model/probe-result.js';
import { imagePlan, resolveTarget } from './image.js';

export interface ArtworkOptions {
  /**
   * The output's cover art: `'keep'` the source's (the default), `'drop'` it, or a picture to set
   * (any image input: bytes, `{ path }`, a stream), resized to fit 1000 × 1000 as a JPEG.
   */
  cover?: 'keep' | 'drop' | MediaInput;
  /** Tags to set, e.g. `{ title: 'Intro', artist: '…' }`; an empty value removes the tag. */
  tags?: Record<string, string>;
  /** Leave the source's tags out (the given `tags` are still written). */
  stripTags?: boolean;
}

export const ARTWORK_KEYS = ['cover', 'tags', 'stripTags'] as const;

export interface ResolvedArtwork {
  cover: 'keep' | 'drop' | { image: MediaInput };
  tags: Array<[string, string]>;
  stripTags: boolean;
}

/** What cover art an output carries: the source's, the given picture, or none. */
export type CoverResult = 'source' | 'given' | 'none';

const MAX_TAGS = 64;
const MAX_TAG_VALUE = 16 * 1024;
/** The side a given picture is fitted into: plenty for any player, a small part of the file. */
export const COVER_SIDE = 1000;
/** Pictures larger than this are not put into an Ogg comment (base64 makes them a third larger). */
const MAX_COMMENT_PICTURE = 16 * 1024 * 1024;

export function resolveArtwork(o: ArtworkOptions): ResolvedArtwork {
  if (typeof o.cover === 'string' && o.cover !== 'keep' && o.cover !== 'drop') v.fail('cover', "'keep', 'drop' or an image input", o.cover);
  if (o.cover !== undefined && typeof o.cover !== 'string') checkInputShape(o.cover, 'cover');
  const cover = o.cover === undefined || o.cover === 'keep' ? 'keep' : o.cover === 'drop' ? 'drop' : { image: o.cover };
  const tags: Array<[string, string]> = [];
  if (o.tags !== undefined) {
    if (typeof o.tags !== 'object' || o.tags === null || Array.isArray(o.tags)) v.fail('tags', 'an object of tag names and string values', o.tags);
    const entries = Object.entries(o.tags);
    if (entries.length > MAX_TAGS) throw new OptionsError('tags', `must set at most ${MAX_TAGS} tags, got ${entries.length}`);
    for (const [key, value] of entries) {
      // Vorbis comments allow printable ASCII but '='; ID3 and MP4 map the common names.
      if (!/^[\x20-\x3c\x3e-\x7d]{1,64}$/.test(key))
        throw new OptionsError('tags', `a tag name must be 1 to 64 printable ASCII characters without '=', got ${v.show(key)}`);
      if (typeof value !== 'string' || value.length > MAX_TAG_VALUE || value.includes('\0')) {
        throw new OptionsError(`tags.${key}`, `must be a string of at most ${MAX_TAG_VALUE} characters without NUL`);
      }
      tags.push([key, value]);
    }
  }
  const stripTags = v.optional(o.stripTags, false, (x) => v.boolean('stripTags', x));
  return { cover, tags, stripTags };
}

/** How a muxer holds a picture: an attached picture stream, a comment, or not at all. */
function carriage(format: string): 'stream' | 'comment' | 'none' {
  if (format === 'mp3' || format === 'ipod' || format === 'flac') return 'stream';
  if (format === 'ogg' || format === 'opus') return 'comment';
  return 'none';
}

/** The source's cover: its first attached picture that every carrier takes (JPEG or PNG). */
function sourcePicture(source: ProbeResult): StreamInfo | undefined {
  return source.streams.find((s) => s.attachedPicture && (s.codec === 'mjpeg' || s.codec === 'png'));
}

/** A picture ready to go into outputs: as a second plan input, and as bytes for comments. */
export interface Cover {
  from: 'source' | 'given';
  /** The source stream, or the given picture as plan input `1`. */
  stream?: StreamInfo;
  input?: PlanInput;
  /** Filled when an output needs a comment. */
  comment?: string;
}

/**
 * The cover the outputs in `formats` get, resolved once for the call: the given picture resized,
 * or the source's; a comment (base64 FLAC picture block) made only when an Ogg output needs one.
 */
export async function prepareCover(
  call: Call,
  source: ProbeResult,
  sourceInput: PlanInput,
  art: ResolvedArtwork,
  formats: readonly string[],
): Promise<Cover | undefined> {
  const carriages = new Set(formats.map(carriage));
  if (art.cover === 'drop' || (!carriages.has('stream') && !carriages.has('comment'))) return undefined;
  if (art.cover === 'keep') {
    const stream = sourcePicture(source);
    if (!stream) return undefined;
    const cover: Cover = { from: 'source', stream };
    if (carriages.has('comment')) {
      const bytes = await extractPicture(call, sourceInput, stream);
      if (bytes.length <= MAX_COMMENT_PICTURE)
        cover.comment = pictureBlock(bytes, stream.codec === 'png' ? 'image/png' : 'image/jpeg', stream.width ?? 0, stream.height ?? 0);
    }
    return cover;
  }
  const picture = await resizeCover(call, art.cover.image);
  const input = await call.ownInput(picture.bytes);
  return {
    from: 'given',
    input: planInput(input, 1),
    ...(carriages.has('comment') ? { comment: pictureBlock(picture.bytes, 'image/jpeg', picture.width, picture.height) } : {}),
  };
}

/** The given picture fitted into COVER_SIDE² (never enlarged) as a JPEG, by the image pipeline. */
async function resizeCover(call: Call, image: MediaInput): Promise<{ bytes: Uint8Array; width: number; height: number }> {
  let input: ResolvedInput;
  try {
    input = await call.input(image);
  } catch (err) {
    if (err instanceof OptionsError && err.details.option === 'input') throw new OptionsError('cover', err.message.replace(/^input: /, ''));
    throw err;
  }
  const spec = resolveTarget({ width: COVER_SIDE, height: COVER_SIDE, fit: 'inside', withoutEnlargement: true, format: 'jpeg', quality: 90 }, '', 'cover0');
  // The image calls' own bound on what is decoded, and the memory it keeps a job to.
  const result = await call.run(imagePlan('cover', input, { maxPixels: DEFAULT_MAX_PIXELS, shrinkOnLoad: true }, [spec], [{ type: 'bytes' }], call.jobLimits));
  const out = result.image!.outputs[0]!;
  return { bytes: result.outputs[0]!.bytes!, width: out.width, height: out.height };
}

/** The source's attached picture as its own bytes (a copy of its one packet). */
async function extractPicture(call: Call, input: PlanInput, stream: StreamInfo): Promise<Uint8Array> {
  const plan: FFmpegPlan = {
    op: 'ffmpeg',
    phase: 'cover',
    inputs: [input],
    outputs: [{ name: 'cover.img', sink: { type: 'bytes' } }],
    args: ['-i', jobPath(input.name), '-map', `0:${stream.index}`, '-c', 'copy', '-frames:v', '1', '-f', 'image2pipe', jobPath('cover.img')],
    limits: call.jobLimits,
  };
  const result = await call.run(plan);
  return result.outputs[0]!.bytes!;
}

/** A FLAC PICTURE block (front cover) in base64: what Vorbis comments carry as METADATA_BLOCK_PICTURE. */
export function pictureBlock(bytes: Uint8Array, mime: string, width: number, height: number): string {
  const head = Buffer.alloc(32 + mime.length);
  let at = head.writeUInt32BE(3, 0);
  at = head.writeUInt32BE(mime.length, at);
  at += head.write(mime, at, 'ascii');
  at = head.writeUInt32BE(0, at); // description
  at = head.writeUInt32BE(width, at);
  at = head.writeUInt32BE(height, at);
  at = head.writeUInt32BE(24, at);
  at = head.writeUInt32BE(0, at);
  head.writeUInt32BE(bytes.length, at);
  return Buffer.concat([head, bytes]).toString('base64');
}

/**
 * The output options of one audio output for its tags and cover: `pictureInput` is the plan input
 * index of a given picture. Returns what the output ends up carrying.
 */
export function artworkArgs(format: string, art: ResolvedArtwork, cover: Cover | undefined, pictureInput: number): { args: string[]; cover: CoverResult } {
  const args = tagArgs(art);
  const picture = coverArgs(format, cover, pictureInput);
  // ID3v2.3: what most players and tag editors read; FFmpeg's default 2.4 is less widely taken.
  if (format === 'mp3') picture.args.push('-id3v2_version', '3');
  return { args: [...args, ...picture.args], cover: picture.cover };
}

/** The output options for an output's tags: the source's (unless stripped), the given ones on top. */
export function tagArgs(art: ResolvedArtwork): string[] {
  return ['-map_metadata', art.stripTags ? '-1' : '0', ...art.tags.flatMap(([key, value]) => ['-metadata', `${key}=${value}`])];
}

/** The output options that put `cover` into one output of `format` (none where it has no place). */
export function coverArgs(format: string, cover: Cover | undefined, pictureInput: number): { args: string[]; cover: CoverResult } {
  const how = carriage(format);
  if (cover && how === 'stream') {
    return {
      args: ['-map', cover.stream ? `0:${cover.stream.index}` : `${pictureInput}:0`, '-c:v', 'copy', '-disposition:v:0', 'attached_pic'],
      cover: cover.from,
    };
  }
  if (cover?.comment && how === 'comment') return { args: ['-metadata', `METADATA_BLOCK_PICTURE=${cover.comment}`], cover: cover.from };
  return { args: [], cover: 'none' };
}

/** The source's cover kept, its tags kept, nothing added: what ladders and normalize do unless told otherwise. */
export const KEEP_ARTWORK: ResolvedArtwork = Object.freeze({ cover: 'keep', tags: [], stripTags: false }) as ResolvedArtwork;
