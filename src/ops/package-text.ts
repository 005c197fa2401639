/**
 * Languages and subtitles of a package: the `subtitles` option (WebVTT sidecars, each with its
 * language and name) checked up front and read before any work starts, their tracks written
 * beside the renditions (a whole file for DASH, segments on the package's grid for HLS), and the
 * language and human name of the audio renditions, from the source's tag or the options.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, LimitError, OptionsError } from '../errors.js';
import type { PackagedText, PackagedTrack } from '../manifests/track.js';
import { parseWebVtt, type WebVtt, WebVttError, webVttFile, webVttSegment } from '../packaging/webvtt.js';

/** One subtitle file as the caller gives it. */
export interface SubtitleOption {
  /** A WebVTT file. */
  path: string;
  /** BCP 47 language tag (`en`, `pt-BR`; ISO 639-2 codes such as `eng` are accepted). */
  language: string;
  /** Name in players' menus (default: the language's English name, `English`). */
  name?: string;
  /** Selected by default (default false). */
  default?: boolean;
}

export interface ResolvedSubtitle {
  id: string;
  path: string;
  language: string;
  label: string;
  default: boolean;
}

export interface ResolvedLanguages {
  subtitles: ResolvedSubtitle[];
  /** null: from the source's tag, if it has one. */
  audioLanguage: string | null;
  audioName: string | null;
}

/** A subtitle file larger than this is refused: hours of dense cues are a few MiB. */
export const MAX_SUBTITLE_BYTES = 16 * 1024 ** 2;
export const MAX_SUBTITLE_CUES = 200_000;
const MAX_SUBTITLE_TRACKS = 64;

/** A canonical BCP 47 tag (`eng` → `en`), or an OptionsError naming `option`. */
export function languageTag(option: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9-]{2,35}$/.test(value))
    throw new OptionsError(option, `must be a BCP 47 language tag such as "en" or "pt-BR", got ${show(value)}`);
  try {
    return Intl.getCanonicalLocales(value)[0]!;
  } catch {
    throw new OptionsError(option, `must be a BCP 47 language tag such as "en" or "pt-BR", got ${show(value)}`);
  }
}

/** The language's English name (`English`, `Brazilian Portuguese`), or the tag itself. */
export function languageName(tag: string): string {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' }).of(tag);
    return name && name !== 'root' ? name : tag;
  } catch {
    return tag;
  }
}

function label(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 100 || /["\p{Cc}]/u.test(value))
    throw new OptionsError(option, `must be a name of 1 to 100 characters without quotes or control characters, got ${show(value)}`);
  return value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 60)) : String(value);
}

export function resolveLanguages(o: { subtitles?: unknown; audioLanguage?: unknown; audioName?: unknown }): ResolvedLanguages {
  const audioLanguage = o.audioLanguage === undefined ? null : languageTag('audioLanguage', o.audioLanguage);
  const audioName = o.audioName === undefined ? null : label('audioName', o.audioName);
  const list = o.subtitles ?? [];
  if (!Array.isArray(list) || list.length > MAX_SUBTITLE_TRACKS)
    throw new OptionsError('subtitles', `must be an array of at most ${MAX_SUBTITLE_TRACKS} { path, language, name?, default? }`);
  const ids = new Set<string>();
  const subtitles = list.map((item: unknown, i): ResolvedSubtitle => {
    const at = `subtitles[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new OptionsError(at, 'must be an object { path, language, name?, default? }');
    const s = item as Partial<SubtitleOption>;
    const unknown = Object.keys(s).find((k) => !['path', 'language', 'name', 'default'].includes(k));
    if (unknown) throw new OptionsError(`${at}.${unknown}`, 'is not an option of a subtitle track (path, language, name, default)');
    if (typeof s.path !== 'string' || s.path === '') throw new OptionsError(`${at}.path`, 'must be the path of a WebVTT file');
    const language = languageTag(`${at}.language`, s.language);
    if (s.default !== undefined && typeof s.default !== 'boolean') throw new OptionsError(`${at}.default`, 'must be a boolean');
    // One folder per track, named by language; a second track of a language is numbered.
    let id = `subtitles-${language}`;
    for (let n = 2; ids.has(id); n++) id = `subtitles-${language}-${n}`;
    ids.add(id);
    return { id, path: s.path, language, label: s.name === undefined ? languageName(language) : label(`${at}.name`, s.name), default: s.default ?? false };
  });
  if (subtitles.filter((s) => s.default).length > 1) throw new OptionsError('subtitles', 'may mark one track as default, not several');
  return { subtitles, audioLanguage, audioName };
}

export interface LoadedSubtitle extends ResolvedSubtitle {
  vtt: WebVtt;
}

/** Reads and parses every subtitle file: a missing, oversized or malformed one fails the call before any work. */
export async function loadSubtitles(subtitles: readonly ResolvedSubtitle[]): Promise<LoadedSubtitle[]> {
  const out: LoadedSubtitle[] = [];
  for (const s of subtitles) {
    let size: number;
    try {
      const st = await stat(s.path);
      if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      size = st.size;
    } catch (err) {
      throw new InputError(`subtitles: no such file: ${s.path}`, {}, { cause: err });
    }
    if (size > MAX_SUBTITLE_BYTES)
      throw new LimitError('maxInputBytes', `subtitles: ${s.path} is ${size} bytes; a subtitle file may have ${MAX_SUBTITLE_BYTES}`);
    const bytes = await readFile(s.path);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (err) {
      throw new InputError(`subtitles: ${s.path} is not UTF-8 text (WebVTT is UTF-8)`, {}, { cause: err });
    }
    try {
      out.push({ ...s, vtt: parseWebVtt(text, MAX_SUBTITLE_CUES) });
    } catch (err) {
      if (err instanceof WebVttError) throw new InputError(`subtitles: ${s.path} is not valid WebVTT: ${err.message}`, {}, { cause: err });
      throw err;
    }
  }
  return out;
}

/**
 * Each subtitle track in `dir/<id>/`: `subtitles.vtt` whole, and one `seg-N.vtt` per segment of
 * `grid` (milliseconds from 0, the package's segment boundaries, ending at the programme's end).
 */
export async function writeTextTracks(
  dir: string,
  subtitles: readonly LoadedSubtitle[],
  grid: readonly number[],
  programmeOffset = 0,
): Promise<PackagedText[]> {
  // The media time of the programme's start, as HLS's timestamp map counts it.
  const mpegts = Math.round(programmeOffset * 90_000);
  const out: PackagedText[] = [];
  const programme = grid.at(-1)!;
  for (const s of subtitles) {
    await mkdir(join(dir, s.id));
    const whole = webVttFile(s.vtt);
    await writeFile(join(dir, s.id, 'subtitles.vtt'), whole);
    const segments: PackagedText['segments'] = [];
    for (let i = 0; i + 1 < grid.length; i++) {
      const file = `seg-${i + 1}.vtt`;
      await writeFile(join(dir, s.id, file), webVttSegment(s.vtt, grid[i]!, grid[i + 1]!, mpegts));
      segments.push({ number: i + 1, file, start: grid[i]!, duration: grid[i + 1]! - grid[i]! });
    }
    out.push({
      id: s.id,
      kind: 'text',
      language: s.language,
      label: s.label,
      default: s.default,
      file: `${s.id}/subtitles.vtt`,
      playlist: `${s.id}/playlist.m3u8`,
      segments,
      cues: s.vtt.cues.length,
      bandwidth: Math.max(1, Math.ceil((Buffer.byteLength(whole) * 8) / Math.max(programme / 1000, 0.001))),
    });
  }
  return out;
}

/** The package's segment boundaries in ms: the first video track's (else the first audio track's), to the programme's end. */
export function segmentGrid(tracks: readonly PackagedTrack[], programmeSeconds: number): number[] {
  const lead = tracks.find((t) => t.kind === 'video') ?? tracks[0];
  const end = Math.round(programmeSeconds * 1000);
  if (!lead) return [0, end];
  const starts = lead.segments.map((s) => Math.round(((s.start - lead.presentationTimeOffset) / lead.timescale) * 1000));
  starts[0] = 0;
  const grid = starts.filter((t, i) => i === 0 || (t > starts[i - 1]! && t < end));
  grid.push(end);
  return grid;
}

/** Language and name of the audio renditions: the options', else the source stream's tag (ISO 639-2 `eng` → `en`). */
export function audioLanguage(o: ResolvedLanguages, sourceTag: string | undefined): { language?: string; label?: string } {
  let language = o.audioLanguage ?? undefined;
  if (!language && sourceTag && sourceTag !== 'und') {
    try {
      language = Intl.getCanonicalLocales(sourceTag)[0];
    } catch {
      // A tag that is no language (a file's own spelling): no language rather than a wrong one.
    }
  }
  const labelText = o.audioName ?? (language ? languageName(language) : undefined);
  return { ...(language ? { language } : {}), ...(labelText ? { label: labelText } : {}) };
}
