/**
 * The seeds: real files from a corpus directory (its `audio/`, `video/`, `image/` folders, or any
 * layout: the kind is then told from the content), plus files the engine makes itself, so every
 * format the engine reads has a seed even without a corpus: WAV, FLAC, MP3, AAC in MP4, Vorbis
 * and Opus in Ogg, H.264 in MP4, JPEG (baseline, progressive, with EXIF and ICC), PNG with alpha,
 * lossy and lossless WebP.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { Engine } from '../dist/index.js';
import { walk } from './formats/index.js';
import type { SeedFile } from './mutators.js';

/** Seeds larger than this are skipped: every case copies its seed, and mutations can grow it. */
const MAX_SEED_BYTES = 16 * 1024 * 1024;
/**
 * Documentation, checksums and scripts beside the media (READMEs, COPYRIGHT, native FFmpeg's
 * framemd5 references, the shell scripts that made fixtures): not media, so never a valid seed.
 */
const SKIP = new Set(['.md', '.txt', '.json', '.license', '.framemd5', '.sh']);
const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'riff-webp']);
/** Spans that say a container holds pictures: BMFF visual sample entries, Matroska's Video. */
const VISUAL = new Set(['avc1', 'avc3', 'hvc1', 'hev1', 'mp4v', 'jpeg', 'mjpa', 'vp09', 'av01', 'Video']);

export function seedFile(id: string, bytes: Uint8Array, kind?: SeedFile['kind']): SeedFile {
  const layout = walk(bytes);
  return {
    id,
    kind: kind ?? (IMAGE_FORMATS.has(layout.format) ? 'image' : layout.spans.some((s) => VISUAL.has(s.name)) ? 'video' : 'audio'),
    ext: extname(id).slice(1).toLowerCase(),
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    layout,
  };
}

/** Every media file under `dir`, in a stable order (sorted paths), named relative to it. */
export async function loadCorpus(dir: string): Promise<SeedFile[]> {
  const seeds: SeedFile[] = [];
  const visit = async (path: string): Promise<void> => {
    const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(path, e.name);
      if (e.isDirectory()) await visit(full);
      else if (e.isFile() && extname(e.name) !== '' && !SKIP.has(extname(e.name).toLowerCase()) && !e.name.startsWith('.')) {
        if ((await stat(full)).size > MAX_SEED_BYTES) continue;
        const id = relative(dir, full).split(sep).join('/');
        const top = id.split('/')[0];
        const kind = top === 'audio' || top === 'video' || top === 'image' ? top : undefined;
        seeds.push(seedFile(id, new Uint8Array(await readFile(full)), kind));
      }
    }
  };
  await visit(dir);
  return seeds;
}

/**
 * Seeds made through the engine's own public calls. Deterministic (lavfi sources with fixed
 * seeds, single-threaded encoders), which the run checks by recording each seed's hash.
 */
export async function generateSeeds(engine: Engine, scratch: string): Promise<SeedFile[]> {
  const out: SeedFile[] = [];
  const audio = async (name: string, options: Parameters<Engine['generate']>[0]) => {
    const r = await engine.generate(options);
    out.push(seedFile(`generated/${name}`, r.bytes!, 'audio'));
  };
  await audio('sine.wav', { kind: 'sine', seconds: 1, sampleRate: 22050, channels: 1, preset: 'wav' });
  await audio('music.flac', { kind: 'music', seconds: 2, sampleRate: 44100, channels: 2, preset: 'flac' });
  await audio('music.mp3', { kind: 'music', seconds: 2, preset: 'mp3-320' });
  await audio('music.m4a', { kind: 'music', seconds: 2, preset: 'aac-128' });
  await audio('music.ogg', { kind: 'music', seconds: 2, preset: 'vorbis-96' });
  await audio('noise.opus', { kind: 'noise', seconds: 1, preset: 'opus-96' });

  const video = await engine.generateVideo({ seconds: 1, width: 128, height: 72, frameRate: 10 });
  out.push(seedFile('generated/video.mp4', video.bytes!, 'video'));

  // Stills come from the video: a poster frame, then the engine's own encoders.
  const thumbs = await engine.thumbnails(video.bytes!, { outputDir: join(scratch, 'poster'), poster: 0.5, width: false, sprite: false });
  const poster = new Uint8Array(await readFile(thumbs.poster!.path));
  const exif = withExifOrientation(poster, 6);
  out.push(seedFile('generated/exif.jpg', exif, 'image'));
  const image = async (name: string, source: Uint8Array, options: Parameters<Engine['resize']>[1]) => {
    const r = await engine.resize(source, options);
    out.push(seedFile(`generated/${name}`, r.bytes!, 'image'));
  };
  await image('icc-exif.jpg', exif, { width: 96, format: 'jpeg', keepMetadata: true });
  await image('progressive.jpg', poster, { width: 80, format: 'jpeg', progressive: true });
  await image('alpha.png', poster, { width: 64, height: 64, fit: 'contain', background: '#00000000', format: 'png' });
  await image('lossy.webp', exif, { width: 64, format: 'webp', quality: 50, keepMetadata: true });
  await image('lossless.webp', poster, { width: 48, format: 'webp', lossless: true });
  return out;
}

/**
 * Inserts an APP1 EXIF segment (big-endian TIFF, one IFD, one Orientation entry) after the SOI:
 * the engine's FFmpeg writes none, and the EXIF parser deserves seeds.
 */
export function withExifOrientation(jpeg: Uint8Array, orientation: number): Uint8Array {
  const tiff = [
    ...[0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08], // MM, 42, IFD0 at 8
    ...[0x00, 0x01], // one entry
    ...[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00], // Orientation, SHORT, 1
    ...[0x00, 0x00, 0x00, 0x00], // no next IFD
  ];
  const body = [...'Exif'].map((c) => c.charCodeAt(0)).concat([0, 0], tiff);
  const segment = [0xff, 0xe1, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const out = new Uint8Array(jpeg.byteLength + segment.length);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.length);
  return out;
}
