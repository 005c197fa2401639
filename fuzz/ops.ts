/**
 * Every engine operation the fuzzer drives, through the public API only. For a case, an op draws
 * its options from the case's PRNG (cheap presets and small sizes: the input is under test, not
 * the encoders' speed), says where its outputs go (bytes, a file, a directory, possibly in
 * folders that do not exist yet), and after a success lists every file its result names, so the
 * checker can tell reported outputs from leftovers.
 */
import { join } from 'node:path';
import type { CallOptions, Engine, MediaInput, PackageResult, ThumbnailResult } from '../dist/index.js';
import type { SeedFile } from './mutators.js';
import type { Rng } from './prng.js';

export const OP_NAMES = [
  'probe',
  'probe-decode',
  'transcode',
  'ladder',
  'loudness',
  'peaks',
  'analyze',
  'normalize',
  'resize',
  'imageSet',
  'package',
  'thumbnails',
] as const;
export type OpName = (typeof OP_NAMES)[number];

type Kind = SeedFile['kind'];
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface OpPlan {
  /** The call's own options, for the record. */
  options: { [key: string]: Json };
  /** Where path outputs go: a file or a directory the call creates, when not returned as bytes. */
  destination?: { type: 'file' | 'dir'; path: string };
  /** Runs the call; resolves to the absolute paths of the files its result names. */
  run(engine: Engine, input: MediaInput, common: CallOptions): Promise<string[]>;
}

interface OpSpec {
  /** Seed kinds the op is meant for (others are still tried now and then). */
  kinds: readonly Kind[];
  plan(rng: Rng, out: string, seed: SeedFile): OpPlan;
}

/** Presets that encode fast: the decoder and the demuxer are what is being fuzzed. */
const CHEAP_PRESETS = ['wav', 'flac', 'mp3-320', 'opus-96', 'aac-128', 'vorbis-96'];
const EXTENSIONS: Record<string, string> = { wav: 'wav', flac: 'flac', 'mp3-320': 'mp3', 'opus-96': 'opus', 'aac-128': 'm4a', 'vorbis-96': 'ogg' };
const AV: readonly Kind[] = ['audio', 'video'];

/** Half the path outputs go into folders that do not exist yet, so creating (and removing) them is exercised. */
function base(rng: Rng, out: string): string {
  return rng.chance(0.5) ? join(out, 'made', 'here') : out;
}

function peaksOptions(rng: Rng): { [key: string]: Json } {
  const o: { [key: string]: Json } = rng.chance(0.5) ? { pixelsPerSecond: rng.pick([1, 20, 250]) } : { samplesPerPixel: rng.logInt(16, 200_000) };
  if (rng.chance(0.5)) o.bits = rng.pick([8, 16]);
  if (rng.chance(0.3)) o.splitChannels = true;
  return o;
}

function packageFiles(r: PackageResult): string[] {
  const files = [r.hls, r.dash].filter((p): p is string => typeof p === 'string');
  for (const t of [...r.video, ...r.audio]) {
    files.push(join(r.outputDir, t.init), ...t.segments.map((s) => join(r.outputDir, t.id, s.file)));
    if (r.hls) files.push(join(r.outputDir, t.playlist));
  }
  return files;
}

function thumbnailFiles(r: ThumbnailResult): string[] {
  return [...(r.poster ? [r.poster.path] : []), ...r.images.map((i) => i.path), ...(r.sprite ? [...r.sprite.sheets, r.sprite.vtt] : [])];
}

export const OPS: Record<OpName, OpSpec> = {
  probe: {
    kinds: ['audio', 'video', 'image'],
    plan: () => ({
      options: {},
      run: async (e, input, c) => {
        await e.probe(input, c);
        return [];
      },
    }),
  },
  'probe-decode': {
    kinds: ['audio', 'video', 'image'],
    plan: () => ({
      options: { decode: true },
      run: async (e, input, c) => {
        await e.probe(input, { ...c, decode: true });
        return [];
      },
    }),
  },
  transcode: {
    kinds: AV,
    plan(rng, out) {
      const preset = rng.pick(CHEAP_PRESETS);
      const output = rng.chance(0.5) ? join(base(rng, out), `result.${EXTENSIONS[preset]}`) : undefined;
      return {
        options: { preset, output: output ?? null },
        ...(output ? { destination: { type: 'file' as const, path: output } } : {}),
        run: async (e, input, c) => {
          const r = await e.transcode(input, { ...c, preset, ...(output ? { output } : {}) });
          return r.path ? [r.path] : [];
        },
      };
    },
  },
  ladder: {
    kinds: AV,
    plan(rng, out) {
      const first = rng.pick(CHEAP_PRESETS);
      const presets = [first, rng.pick(CHEAP_PRESETS.filter((p) => p !== first))];
      const outputDir = rng.chance(0.5) ? join(base(rng, out), 'ladder') : undefined;
      return {
        options: { presets, outputDir: outputDir ?? null },
        run: async (e, input, c) => {
          const r = await e.ladder(input, presets, { ...c, ...(outputDir ? { outputDir, baseName: 'fuzz' } : {}) });
          return r.renditions.flatMap((x) => (x.path ? [x.path] : []));
        },
      };
    },
  },
  loudness: {
    kinds: AV,
    plan: () => ({
      options: {},
      run: async (e, input, c) => {
        await e.loudness(input, c);
        return [];
      },
    }),
  },
  peaks: {
    kinds: AV,
    plan(rng) {
      const options = peaksOptions(rng);
      return {
        options,
        run: async (e, input, c) => {
          await e.peaks(input, { ...c, ...options });
          return [];
        },
      };
    },
  },
  analyze: {
    kinds: AV,
    plan(rng) {
      const peaks = rng.chance(0.7) ? peaksOptions(rng) : undefined;
      const loudness = peaks ? rng.chance(0.7) : true;
      const options = { loudness, ...(peaks ? { peaks } : {}) };
      return {
        options,
        run: async (e, input, c) => {
          await e.analyze(input, { ...c, ...options });
          return [];
        },
      };
    },
  },
  normalize: {
    kinds: AV,
    plan(rng, out) {
      const preset = rng.pick(['wav', 'flac', 'opus-96']);
      const options = { preset, policy: rng.pick(['gain', 'limit'] as const), target: rng.pick([-14, -23]) };
      const output = rng.chance(0.5) ? join(base(rng, out), `normalized.${EXTENSIONS[preset]}`) : undefined;
      return {
        options: { ...options, output: output ?? null },
        ...(output ? { destination: { type: 'file' as const, path: output } } : {}),
        run: async (e, input, c) => {
          const r = await e.normalize(input, { ...c, ...options, ...(output ? { output } : {}) });
          return r.path ? [r.path] : [];
        },
      };
    },
  },
  resize: {
    kinds: ['image'],
    plan(rng, out) {
      const format = rng.pick(['jpeg', 'png', 'webp'] as const);
      const options: { [key: string]: Json } = { width: rng.int(8, 160), format };
      if (rng.chance(0.4)) options.height = rng.int(8, 160);
      if (rng.chance(0.4)) options.fit = rng.pick(['fill', 'contain', 'cover', 'inside', 'outside']);
      if (rng.chance(0.2)) options.keepMetadata = true;
      if (rng.chance(0.2)) options.linearLight = true;
      if (format === 'webp' && rng.chance(0.3)) options.lossless = true;
      if (format === 'jpeg' && rng.chance(0.3)) options.progressive = true;
      if (rng.chance(0.2)) options.shrinkOnLoad = false;
      const output = rng.chance(0.5) ? join(base(rng, out), `resized.${format === 'jpeg' ? 'jpg' : format}`) : undefined;
      return {
        options: { ...options, output: output ?? null },
        ...(output ? { destination: { type: 'file' as const, path: output } } : {}),
        run: async (e, input, c) => {
          const r = await e.resize(input, { ...c, ...options, ...(output ? { output } : {}) });
          return r.path ? [r.path] : [];
        },
      };
    },
  },
  imageSet: {
    kinds: ['image'],
    plan(rng, out) {
      const all: Array<{ [key: string]: Json }> = [
        { width: 64, format: 'jpeg' },
        { width: 32, height: 32, format: 'webp' },
        { width: 24, format: 'png' },
        { width: 48, height: 16, fit: 'contain', format: 'png' },
      ];
      const targets = all.filter(() => rng.chance(0.6));
      if (targets.length === 0) targets.push(all[0]!);
      const outputDir = rng.chance(0.5) ? join(base(rng, out), 'images') : undefined;
      return {
        options: { targets, outputDir: outputDir ?? null },
        run: async (e, input, c) => {
          const r = await e.imageSet(input, targets as Parameters<Engine['imageSet']>[1], { ...c, ...(outputDir ? { outputDir, baseName: 'fuzz' } : {}) });
          return r.images.flatMap((i) => (i.path ? [i.path] : []));
        },
      };
    },
  },
  package: {
    kinds: ['video', 'audio'],
    plan(rng, out, seed) {
      const outputDir = join(base(rng, out), 'package');
      const audioOnly = seed.kind !== 'video' || rng.chance(0.1);
      const options = {
        ...(audioOnly ? { audioOnly: true } : { video: [rng.pick(['240p', '360p'])] }),
        audio: audioOnly ? [rng.pick(['aac-64', 'opus-64', 'flac'])] : rng.pick([['aac-64'], ['opus-64'], []]),
        segmentDuration: rng.pick([1, 2, 4]),
        formats: rng.pick([['hls'], ['dash'], ['hls', 'dash']]),
        x264Preset: 'ultrafast',
      };
      return {
        options: { ...options, outputDir },
        destination: { type: 'dir', path: outputDir },
        run: async (e, input, c) => packageFiles(await e.package(input, { ...c, ...options, outputDir } as Parameters<Engine['package']>[1])),
      };
    },
  },
  thumbnails: {
    kinds: ['video'],
    plan(rng, out) {
      const outputDir = join(base(rng, out), 'thumbs');
      const options: { [key: string]: Json } = { every: rng.pick([0.5, 1, 2, 10]), width: rng.pick([false, 64]) };
      if (rng.chance(0.3)) options.poster = rng.pick([false, 0, 1, 1e6]);
      options.sprite = rng.chance(0.6) ? { columns: rng.int(1, 4), rows: rng.int(1, 3), width: 32 } : false;
      if (options.width === false && options.poster === false && options.sprite === false) options.width = 64;
      return {
        options: { ...options, outputDir },
        destination: { type: 'dir', path: outputDir },
        run: async (e, input, c) => thumbnailFiles(await e.thumbnails(input, { ...c, ...options, outputDir } as Parameters<Engine['thumbnails']>[1])),
      };
    },
  },
};
