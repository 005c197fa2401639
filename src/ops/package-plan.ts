/**
 * The plan of a package, as plain data: which renditions, and the jobs that encode them. Video is
 * encoded in chunks of whole segments, each an independent job — the ladder's GOPs are closed and
 * fixed, with an IDR frame at every segment boundary, so a segment-aligned stretch of the source
 * encodes on its own — and when chunks are few the rungs are split between jobs too, so every
 * worker has work; the audio is one job beside them. The jobs can run on this engine's workers or
 * on other engines (`runChunk`), and their outputs are stitched into one CMAF track per rendition.
 *
 * Frames are numbered on the output's constant-rate grid (`fps`): frame f presents at f / rate.
 * Segment m starts at the IDR frame idr(m) = ⌈m · segmentDuration · rate⌉, the first frame at or
 * after its boundary — the same frames a single encode of the whole source forces. A chunk job
 * seeks to a whole number of frames before its first one (the decoder starts from the keyframe
 * before that), lets `fps` lay the same grid over the source from there, and keeps exactly its
 * frames with `trim` on that grid, so chunks meet with no frame repeated or lost.
 */
import type { ResolvedInput } from '../call/input.js';
import { planInput } from '../call/probe-plan.js';
import { type FFmpegPlan, type JobLimits, jobPath } from '../model/plan.js';
import { type AudioPreset, encoderArgs, lossyRate, type VideoRung } from '../model/presets.js';
import type { StreamInfo } from '../model/probe-result.js';
import type { H264Encoder } from '../util/core-files.js';
import { seconds } from './edit.js';

export interface VideoTarget {
  id: string;
  rung: VideoRung;
  width: number;
  height: number;
  bitrate: number;
  maxrate: number;
  bufsize: number;
}

/** One encode job of a package plan. */
export type PackageJob =
  | {
      kind: 'video';
      /** `v<chunk>` or `v<chunk>-<group>` when the rungs are split. */
      id: string;
      chunk: number;
      /** The chunk's first segment (0-based) and first frame on the output grid. */
      firstSegment: number;
      firstFrame: number;
      /** Frames the chunk holds; `null` for the last chunk, which runs to the end of the source. */
      frames: number | null;
      /** Rendition ids this job encodes. */
      renditions: string[];
    }
  | { kind: 'audio'; id: 'audio'; renditions: string[] };

/** Where a chunk's frames start in the source, and how it is cut. */
export interface ChunkCut {
  /** Seconds to seek the input to (a whole number of frames before the chunk), 0 for none. */
  seek: number;
  /** Frames decoded before the chunk's first, so `fps` sees the source as a whole encode would. */
  preroll: number;
  /** Seconds of input to read (the chunk and its preroll, with a margin); undefined: to the end. */
  read: number | undefined;
}

/** The rate of the output grid. */
export interface FrameRate {
  num: number;
  den: number;
}

/** Frames from one preroll second: enough for `fps` to place the chunk's first frame as a whole encode does. */
const PREROLL_SECONDS = 1;
/** Most jobs per worker for a source: enough to balance uneven chunks, few enough to keep each one's fixed cost small. */
const JOBS_PER_WORKER = 2;
/** Chunks shorter than this cost more in per-job setup (a core, a seek, a preroll) than they save. */
const MIN_CHUNK_SECONDS = 8;

/** The first frame of segment `m`: the first frame at or after its boundary. */
export function segmentFrame(m: number, segmentDuration: number, rate: FrameRate): number {
  return Math.max(0, Math.ceil((m * segmentDuration * rate.num) / rate.den - 1e-9));
}

/** The default chunk length: about two jobs per worker, whole segments, never under 8 s. */
export function defaultChunkSeconds(duration: number, segmentDuration: number, workers: number): number {
  const wanted = Math.max(MIN_CHUNK_SECONDS, duration / (workers * JOBS_PER_WORKER));
  return Math.max(1, Math.round(wanted / segmentDuration)) * segmentDuration;
}

/**
 * The video and audio jobs: chunks of whole segments over the stated duration (the last one runs
 * to the end of the source, whatever the header said), and the rungs of a chunk in groups of about
 * equal cost where whole chunks alone cannot keep every worker busy to the end.
 */
export function planJobs(o: {
  duration: number;
  segmentDuration: number;
  chunkSeconds: number;
  rate: FrameRate | undefined;
  targets: VideoTarget[];
  audio: AudioPreset[];
  workers: number;
}): PackageJob[] {
  const jobs: PackageJob[] = [];
  if (o.rate && o.targets.length > 0) {
    const rate = o.rate;
    const perChunk = Math.max(1, Math.round(o.chunkSeconds / o.segmentDuration));
    // A chunk after the first starts on a segment the stated duration holds whole: a tail shorter
    // than a segment (an audio track a little longer than the picture) stays with the last chunk.
    const whole = Math.floor(o.duration / o.segmentDuration + 1e-9);
    const count = whole <= 1 ? 1 : 1 + Math.floor((whole - 1) / perChunk);
    const chunks = Array.from({ length: count }, (_, c) => {
      const firstSegment = c * perChunk;
      const firstFrame = segmentFrame(firstSegment, o.segmentDuration, rate);
      const frames = c === count - 1 ? null : segmentFrame(firstSegment + perChunk, o.segmentDuration, rate) - firstFrame;
      return { firstSegment, firstFrame, frames };
    });
    const lastFrames = Math.max(1, Math.round((o.duration * rate.num) / rate.den) - chunks[count - 1]!.firstFrame);
    const groups = splitRungs(
      chunks.map((c) => c.frames ?? lastFrames),
      o.targets,
      o.workers,
    );
    chunks.forEach((chunk, c) => {
      const split = groups[c]!;
      split.forEach((group, g) => {
        jobs.push({ kind: 'video', id: split.length > 1 ? `v${c}-${g}` : `v${c}`, chunk: c, ...chunk, renditions: [...group] });
      });
    });
  }
  if (o.audio.length > 0) jobs.push({ kind: 'audio', id: 'audio', renditions: o.audio.map((p) => p.name) });
  return jobs;
}

/** How far over an even share of the work the busiest worker may end before more rungs are split. */
const BALANCE_SLACK = 0.03;
/** Most workers, and most chunks, the planner balances by splitting rungs. */
const MAX_BALANCED = 64;
/**
 * Work per frame in units of one encoded output pixel, measured in the core (a 1080p H.264 source
 * into the 4-rung veryfast ladder, 8 s chunks): decoding the source costs about 7.5% of its
 * pixels, scaling it to a smaller rung about 8.5%, and x264 about one unit per output pixel. The
 * planner does not know the source's size: the top rung's stands in for it.
 */
const DECODE_COST = 0.075;
const SCALE_COST = 0.085;

/** What one frame of a job encoding `renditions` costs, in the units above. */
export function frameCost(targets: readonly VideoTarget[], renditions: readonly string[]): number {
  const top = Math.max(0, ...targets.map((t) => t.width * t.height));
  const rungs = targets.filter((t) => renditions.includes(t.id));
  return DECODE_COST * top + rungs.reduce((n, t) => n + rungCost(t, top), 0);
}

function rungCost(t: VideoTarget, top: number): number {
  const pixels = t.width * t.height;
  return pixels + (pixels < top ? SCALE_COST * top : 0);
}

/**
 * The rung groups of each chunk. Fewer chunks than workers: each chunk's rungs in as many groups
 * as it takes to give every worker one. Then, as whole segments seldom share out evenly (15 on 2
 * workers: 8 against 7), the shortest chunks are split by rungs, one more group at a time, while
 * the longest-first schedule of the jobs ends more than 3% after an even share. Each split costs
 * one more decode of the chunk, which the schedule counts; the plan kept is the one that ends
 * first.
 */
function splitRungs(frames: readonly number[], targets: readonly VideoTarget[], workers: number): string[][][] {
  const counts = frames.map(() => Math.min(targets.length, Math.ceil(workers / frames.length)));
  // The groups for n are the same for every chunk: computed once per n, not once per schedule tried.
  const byCount = new Map<number, { groups: string[][]; costs: number[] }>();
  const grouped = (n: number) => {
    let g = byCount.get(n);
    if (!g) {
      const groups = rungGroups(targets, n);
      g = { groups, costs: groups.map((group) => frameCost(targets, group)) };
      byCount.set(n, g);
    }
    return g;
  };
  const groupsOf = (c: number) => grouped(counts[c]!).groups;
  // Every job decodes its chunk: a split saves time only where the balance gained outweighs that.
  const makespan = () => {
    const costs = frames.flatMap((f, c) => grouped(counts[c]!).costs.map((cost) => f * cost));
    const free = new Array<number>(Math.max(1, workers)).fill(0);
    for (const cost of costs.sort((a, b) => b - a)) {
      const i = free.indexOf(Math.min(...free));
      free[i] = free[i]! + cost;
    }
    return { end: Math.max(...free), even: costs.reduce((a, b) => a + b, 0) / free.length };
  };
  // The next split: the chunk in fewest groups, the shortest of those, the later of equals.
  const next = () =>
    frames
      .map((f, c) => ({ f, c }))
      .filter(({ c }) => counts[c]! < targets.length)
      .sort((a, b) => counts[a.c]! - counts[b.c]! || a.f - b.f || b.c - a.c)[0];
  // Many chunks per worker share out evenly by themselves; many workers or chunks would make each
  // schedule here cost chunks × workers: whole chunks then, as they are.
  if (workers < 2 || workers > MAX_BALANCED || frames.length > MAX_BALANCED || frames.length >= 8 * workers) {
    return frames.map((_, c) => groupsOf(c));
  }
  let best = { counts: [...counts], end: makespan().end };
  for (let step = 0; step < frames.length * targets.length; step++) {
    const { end, even } = makespan();
    // A split that does not shorten the schedule may still let the next one do so (8/7 needs two);
    // the plan kept is the shortest schedule seen, with the fewest splits.
    if (end < best.end * 0.995) best = { counts: [...counts], end };
    if (end <= even * (1 + BALANCE_SLACK)) break;
    const chunk = next();
    if (!chunk) break;
    counts[chunk.c] = counts[chunk.c]! + 1;
  }
  return frames.map((_, c) => grouped(best.counts[c]!).groups);
}

/** Rungs in `n` groups of about equal cost (costliest first onto the lightest group). */
function rungGroups(targets: readonly VideoTarget[], n: number): string[][] {
  const top = Math.max(0, ...targets.map((t) => t.width * t.height));
  const groups = Array.from({ length: Math.max(1, n) }, () => ({ cost: 0, ids: [] as string[] }));
  for (const t of [...targets].sort((a, b) => rungCost(b, top) - rungCost(a, top))) {
    const lightest = groups.reduce((a, b) => (b.cost < a.cost ? b : a));
    lightest.cost += rungCost(t, top);
    lightest.ids.push(t.id);
  }
  // Rendition order within a group follows the ladder's, so files and logs read top down.
  const order = new Map(targets.map((t, i) => [t.id, i]));
  return groups.filter((g) => g.ids.length > 0).map((g) => g.ids.sort((a, b) => order.get(a)! - order.get(b)!));
}

/** How a video job cuts its chunk out of the source. */
export function chunkCut(job: Extract<PackageJob, { kind: 'video' }>, rate: FrameRate): ChunkCut {
  const preroll = Math.min(job.firstFrame, Math.ceil((PREROLL_SECONDS * rate.num) / rate.den));
  const start = job.firstFrame - preroll;
  const seconds = (frames: number) => (frames * rate.den) / rate.num;
  return {
    seek: seconds(start),
    preroll,
    read: job.frames === null ? undefined : seconds(preroll + job.frames) + PREROLL_SECONDS,
  };
}

export interface JobFile {
  rendition: string;
  /** Name in the job directory, and the host path it is written to. */
  name: string;
  path: string;
}

/** A video job as an FFmpeg run: seek, the chunk's frames on the output grid, one H.264 encoder per rendition. */
export function videoJobPlan(
  input: ResolvedInput,
  stream: StreamInfo,
  job: Extract<PackageJob, { kind: 'video' }>,
  targets: readonly VideoTarget[],
  files: readonly JobFile[],
  settings: { segmentDuration: number; rate: FrameRate; encoder: H264Encoder; x264Preset: string | null; threads: number },
  limits: JobLimits,
): FFmpegPlan {
  const { rate, segmentDuration, threads } = settings;
  const cut = chunkCut(job, rate);
  const inPlan = planInput(input);
  const args: string[] = [];
  // Threads are stated, never left to FFmpeg's `auto`: the count shapes the bitstream, and the
  // decoder gets the same number (frame threads) so it keeps pace with the encoders.
  if (threads > 1) args.push('-threads', String(threads));
  if (cut.seek > 0) args.push('-ss', seconds(cut.seek));
  if (cut.read !== undefined) args.push('-t', seconds(cut.read));
  args.push('-i', jobPath(inPlan.name));
  const gop = Math.ceil((segmentDuration * rate.num) / rate.den - 1e-6);
  // `trim` counts on the grid `fps` lays (its time base is one frame): the chunk's frames exactly.
  const keep =
    cut.preroll > 0 || job.frames !== null
      ? `,trim=start_pts=${cut.preroll}${job.frames !== null ? `:end_pts=${cut.preroll + job.frames}` : ''},setpts=PTS-STARTPTS`
      : '';
  const n = files.length;
  const graph = [`[0:${stream.index}]fps=${rate.num}/${rate.den}${keep},format=yuv420p,split=${n}${files.map((_, i) => `[s${i}]`).join('')}`];
  files.forEach((f, i) => {
    const t = targets.find((x) => x.id === f.rendition)!;
    graph.push(`[s${i}]scale=${t.width}:${t.height}:flags=bicubic,setsar=1[v${i}]`);
  });
  args.push('-filter_complex', graph.join(';'));
  // The IDR frames of a whole encode, counted from this chunk's first frame: frame n of the chunk
  // is frame firstFrame + n of the output, and the k-th forced one starts segment firstSegment + k.
  const perSegment = (segmentDuration * rate.num) / rate.den;
  const keyframes = `expr:gte(n+${job.firstFrame},ceil((n_forced+${job.firstSegment})*${perSegment}-1e-9))`;
  files.forEach((f, i) => {
    const t = targets.find((x) => x.id === f.rendition)!;
    args.push('-map', `[v${i}]`, '-an', '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1');
    args.push(...h264Args(settings, t, gop, keyframes));
    if (threads > 1) args.push('-threads', String(threads));
    // The moov waits for the first fragment so that its edit list states where the track starts;
    // the stitching stage turns that into tfdt and composition offsets.
    args.push('-f', 'mp4', '-movflags', '+frag_keyframe+delay_moov+default_base_moof+cmaf', '-use_editlist', '1', jobPath(f.name));
  });
  const plan = packageJob(inPlan, files, args, limits);
  if (threads > 1) plan.threads = threads;
  return plan;
}

/** One rendition's H.264 encoder: closed GOPs with an IDR at every segment boundary, the rung's bitrate. */
function h264Args(settings: { encoder: H264Encoder; x264Preset: string | null }, t: VideoTarget, gop: number, keyframes: string): string[] {
  const rate = ['-b:v', String(t.bitrate), '-maxrate', String(t.maxrate)];
  if (settings.encoder === 'libopenh264') {
    // OpenH264 has no VBV: bitrate mode holds the average with the rung's peak as its ceiling.
    // `-g 0` turns its periodic IDR off, so the forced ones (an IDR each) are the only ones; it
    // never skips frames to meet the rate, which would leave holes in a segment.
    const args = ['-c:v', 'libopenh264', '-profile:v', t.rung.profile, '-rc_mode', 'bitrate', ...rate];
    args.push('-allow_skip_frames', '0', '-g', '0', '-force_key_frames', keyframes);
    return args;
  }
  const args = ['-c:v', 'libx264', '-preset', settings.x264Preset ?? 'veryfast', '-profile:v', t.rung.profile, ...rate, '-bufsize', String(t.bufsize)];
  // Fixed closed GOPs: an IDR at every segment boundary and nowhere else.
  args.push('-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0');
  args.push('-force_key_frames', keyframes, '-forced-idr', '1', '-x264-params', 'open-gop=0:scenecut=0');
  return args;
}

/** The audio job: every audio rendition from one decode, each to its own fragmented MP4. */
export function audioJobPlan(
  input: ResolvedInput,
  stream: StreamInfo,
  presets: readonly AudioPreset[],
  files: readonly JobFile[],
  limits: JobLimits,
  padTo: number | null = null,
): FFmpegPlan {
  const inPlan = planInput(input);
  const args = ['-i', jobPath(inPlan.name)];
  const padded = padTo !== null ? silencePad(stream, files.length, padTo) : null;
  if (padded) args.push('-filter_complex', padded);
  files.forEach((f, i) => {
    const p = presets.find((x) => x.name === f.rendition)!;
    args.push('-map', padded ? `[o${i}]` : `0:${stream.index}`, '-vn', '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1');
    args.push(...cmafAudioArgs(p, stream));
    // Fragment length is irrelevant: the stitching stage cuts segments at sample level. The moov
    // waits for the first fragment so that its edit list can state where the track starts and
    // the encoder's priming (AAC 1024 samples, Opus pre-skip), in the track's own ticks.
    const timescale = cmafRate(p, stream);
    args.push('-f', 'mp4', '-movflags', '+delay_moov+default_base_moof+cmaf', '-use_editlist', '1');
    args.push('-movie_timescale', String(timescale), '-frag_duration', '1000000', jobPath(f.name));
  });
  return packageJob(inPlan, files, args, limits);
}

/**
 * The graph that pads the audio with silence to `seconds` from its start, one output `[oN]` per
 * rendition: audio that stops before the picture reaches past its end, and the stitch then cuts
 * every audio rendition at the picture's end, so all renditions end together. Silence is mixed
 * in unscaled (`normalize=0`): the audio's own samples pass through unchanged. null when the
 * stream does not state the rate and layout the silence must have.
 */
function silencePad(stream: StreamInfo, outputs: number, seconds: number): string | null {
  const layout = stream.channelLayout ?? (stream.channels === 1 ? 'mono' : stream.channels === 2 ? 'stereo' : undefined);
  if (!stream.sampleRate || !layout || !/^[\w.()+-]+$/.test(layout)) return null;
  const labels = (prefix: string) => Array.from({ length: outputs }, (_, i) => `[${prefix}${i}]`).join('');
  return [
    `[0:${stream.index}]asplit=${outputs}${labels('a')}`,
    `anullsrc=r=${stream.sampleRate}:cl=${layout}:d=${seconds.toFixed(6)},asplit=${outputs}${labels('s')}`,
    ...Array.from({ length: outputs }, (_, i) => `[a${i}][s${i}]amix=inputs=2:duration=longest:normalize=0:dropout_transition=0[o${i}]`),
  ].join(';');
}

/** A package job's FFmpeg run: the source in, each rendition's file out to its host path. */
function packageJob(inPlan: FFmpegPlan['inputs'][number], files: readonly JobFile[], args: string[], limits: JobLimits): FFmpegPlan {
  return {
    op: 'ffmpeg',
    phase: 'package',
    inputs: [inPlan],
    outputs: files.map((f) => ({ name: f.name, sink: { type: 'path', path: f.path } })),
    args,
    limits,
  };
}

/** The rate a CMAF audio track is encoded at, which is its timescale: a lossy one's as a file preset's. */
function cmafRate(p: AudioPreset, stream: StreamInfo): number {
  if (p.rateControl === 'lossless') return stream.sampleRate ?? 48000;
  return lossyRate(p, stream.sampleRate) ?? 44100;
}

/** A CMAF track's encoder: a file preset's, at the rate its timescale states, stereo at most. */
function cmafAudioArgs(p: AudioPreset, stream: StreamInfo): string[] {
  const args = encoderArgs(p, stream);
  // encoderArgs leaves an unstated source rate alone; the track's timescale needs it stated.
  if (!args.includes('-ar')) args.push('-ar', String(cmafRate(p, stream)));
  // FLAC in MP4 is still experimental in FFmpeg 5.1's muxer.
  if (p.codec === 'flac') args.push('-strict', '-2');
  if (!args.includes('-ac') && (stream.channels ?? 2) > 2) args.push('-ac', '2');
  return args;
}
