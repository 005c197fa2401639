/**
 * The engine: a pool of workers with one FFmpeg core each, and one method per operation. Every
 * method is the same call lifecycle (`call/run-call.ts`) around an operation module: options are
 * checked before anything runs, the call is admitted to the queue before its input is read, and
 * its outputs are committed together or not at all.
 */
import { checkInputShape, type MediaInput } from './call/input.js';
import { type Call, type CallEnv, type CallOptions, resolveCommon, runCall } from './call/run-call.js';
import { sweepStaging } from './call/staging.js';
import type { CallInfo } from './model/call-info.js';
import type { ProbeResult } from './model/probe-result.js';
import { type EngineStats, Observer } from './observe.js';
import { ANALYZE_KEYS, type AnalysisResult, type AnalyzeOptions, analyzeCall, resolveAnalyze } from './ops/analyze.js';
import { GENERATE_KEYS, type GenerateOptions, type GenerateResult, generatePlan, resolveGenerate, sampleCall } from './ops/generate.js';
import { GENERATE_VIDEO_KEYS, type GenerateVideoOptions, generateVideoPlan, resolveGenerateVideo } from './ops/generate-video.js';
import type { ImageTarget } from './ops/image.js';
import {
  IMAGE_SET_KEYS,
  type ImageSetOptions,
  type ImageSetResult,
  imageCall,
  RESIZE_KEYS,
  type ResizeImageOptions,
  type ResizeResult,
  resizeCall,
  resolveImageSet,
  resolveResize,
} from './ops/image-call.js';
import { LADDER_KEYS, type LadderOptions, type LadderResult, ladderCall, resolveLadder } from './ops/ladder.js';
import type { Loudness } from './ops/loudness.js';
import {
  ALBUM_KEYS,
  type AlbumNormalizeOptions,
  type AlbumNormalizeResult,
  NORMALIZE_KEYS,
  type NormalizeOptions,
  type NormalizeResult,
  normalizeAlbum,
  normalizeTrack,
  resolveNormalizeAlbum,
  resolveNormalizeTrack,
} from './ops/normalize.js';
import {
  type ChunkResult,
  PACKAGE_KEYS,
  type PackageOptions,
  type PackagePlan,
  type PackageResult,
  PLAN_KEYS,
  type PlanOptions,
  packageCall,
  planCall,
  RUN_CHUNK_KEYS,
  type RunChunkOptions,
  resolvePackage,
  resolvePlan,
  resolveRunChunk,
  resolveStitch,
  runChunkCall,
  STITCH_KEYS,
  type StitchOptions,
  stitchCall,
} from './ops/package.js';
import { PEAKS_KEYS, type PeaksOptions, type Waveform } from './ops/peaks.js';
import { PROBE_KEYS, type ProbeOptions, probeCall, resolveProbe } from './ops/probe.js';
import { resolveThumbnails, THUMBNAIL_KEYS, type ThumbnailOptions, type ThumbnailResult, thumbnailsCall } from './ops/thumbnails.js';
import { resolveTranscode, TRANSCODE_KEYS, type TranscodeOptions, type TranscodeResult, transcodeCall } from './ops/transcode.js';
import { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions } from './options.js';
import type { Pool } from './pool/pool.js';

export type { CallOptions } from './call/run-call.js';

/** An engine call's result, with the call's id, operation and timings (observe.ts). */
export type Observed<T> = T & { call: CallInfo };

export class Engine {
  private readonly env: CallEnv;
  private readonly observer: Observer;

  private constructor(
    private readonly pool: Pool,
    readonly options: ResolvedEngineOptions,
    /** Stale staged files and folders removed when the engine started (see `sweepDirs`). */
    readonly swept: readonly string[],
  ) {
    this.observer = new Observer(options.logger, options.ffmpegLogLevel);
    this.env = {
      pool,
      limits: options.limits,
      spoolDir: options.spoolDir,
      h264Encoder: options.core.h264Encoder,
      videoThreads: options.videoThreads,
      observer: this.observer,
    };
  }

  /**
   * Counters since the engine started: calls started, running, succeeded and failed by code; worker
   * jobs run and failed; the queue's depth; worker threads and their restarts.
   */
  stats(): EngineStats {
    return this.observer.stats({ depth: this.pool.inFlight, waiting: this.pool.waiting }, { count: this.pool.workers, restarts: this.pool.workerRestarts });
  }

  static async create(options?: EngineOptions): Promise<Engine> {
    const resolved = resolveEngineOptions(options);
    // What killed processes (SIGKILL, a crash, a lost container) left behind in the engine's
    // own folders: staged outputs and spooled inputs, recognised by name and owner.
    const swept: string[] = [];
    for (const dir of new Set([resolved.spoolDir, ...resolved.sweepDirs])) swept.push(...(await sweepStaging(dir)));
    const recycleHeapBytes = 256 * 1024 ** 2;
    // Loaded only when used: an engine without threads never imports worker_threads or Piscina.
    const pool: Pool =
      resolved.workers === 0
        ? await (await import('./pool/inline-pool.js')).InlinePool.create({ maxQueue: resolved.maxQueue, recycleHeapBytes, core: resolved.core })
        : await (await import('./pool/pool.js')).JobPool.create({
            workers: resolved.workers,
            maxQueue: resolved.maxQueue,
            recycleHeapBytes,
            terminateGraceMs: 50,
            core: resolved.core,
            videoCore: resolved.videoCore,
          });
    return new Engine(pool, resolved, swept);
  }

  get workers(): number {
    return this.pool.workers;
  }

  /** Calls admitted and jobs running or waiting beyond them. */
  get inFlight(): number {
    return this.pool.inFlight;
  }

  /** What a file holds: container, duration, streams. `decode: true` also decodes it. */
  probe(input: MediaInput, options: ProbeOptions & CallOptions = {}): Promise<Observed<ProbeResult>> {
    return this.call('probe', options, PROBE_KEYS, input, resolveProbe, (call, r) => probeCall(call, input, r));
  }

  /** One output in any preset (audio or video, named or customized), trimmed and faded as asked: to `output`, bytes or a stream. */
  transcode(input: MediaInput, options: TranscodeOptions & CallOptions): Promise<Observed<TranscodeResult>> {
    return this.call('transcode', options, TRANSCODE_KEYS, input, resolveTranscode, (call, r) => transcodeCall(call, input, r));
  }

  /** Several audio presets from one decode, added to `outputDir` or returned as bytes. */
  ladder(input: MediaInput, presets: string[], options: LadderOptions & CallOptions = {}): Promise<Observed<LadderResult>> {
    return this.call(
      'ladder',
      options,
      LADDER_KEYS,
      input,
      (o) => resolveLadder(presets, o, input),
      (call, r) => ladderCall(call, input, r),
    );
  }

  /** Makes sample audio inside the sandbox (see `GenerateOptions`). */
  generate(options: GenerateOptions & CallOptions): Promise<Observed<GenerateResult>> {
    return this.call('generate', options, GENERATE_KEYS, null, resolveGenerate, (call, g) =>
      sampleCall(call, g.output, g.seconds, (sink, limits) => generatePlan(g, sink, limits)),
    );
  }

  /** Makes a test video (testsrc2 and a tone, H.264 + AAC in MP4) inside the sandbox. */
  generateVideo(options: GenerateVideoOptions & CallOptions = {}): Promise<Observed<GenerateResult>> {
    return this.call(
      'generateVideo',
      options,
      GENERATE_VIDEO_KEYS,
      null,
      (o) => resolveGenerateVideo(o, this.options.core.h264Encoder),
      (call, g) => sampleCall(call, g.output, g.seconds, (sink, limits) => generateVideoPlan(g, sink, limits)),
    );
  }

  /** BS.1770-4 / EBU R128 loudness of the first audio stream, from one streamed decode. */
  async loudness(input: MediaInput, options: CallOptions = {}): Promise<Observed<Loudness>> {
    const result = await this.call(
      'loudness',
      options,
      [],
      input,
      () => ({ loudness: true }),
      (call, r) => analyzeCall(call, input, r),
    );
    return { ...result.loudness!, call: result.call };
  }

  /** Waveform peaks of the first audio stream (audiowaveform JSON, version 2). */
  async peaks(input: MediaInput, options: PeaksOptions & CallOptions = {}): Promise<Observed<Waveform>> {
    const result = await this.call(
      'peaks',
      options,
      PEAKS_KEYS,
      input,
      ({ signal: _s, onProgress: _p, limits: _l, ...peaks }) => resolveAnalyze({ loudness: false, peaks }),
      (call, r) => analyzeCall(call, input, r),
    );
    return { ...result.peaks!, call: result.call };
  }

  /** Loudness and/or waveform peaks from one decode pass. */
  analyze(input: MediaInput, options: AnalyzeOptions & CallOptions = {}): Promise<Observed<AnalysisResult>> {
    return this.call('analyze', options, ANALYZE_KEYS, input, resolveAnalyze, (call, r) => analyzeCall(call, input, r));
  }

  /** Measures, then writes `preset` with the gain (and limiter) that brings the track to the target. */
  normalize(input: MediaInput, options: NormalizeOptions & CallOptions): Promise<Observed<NormalizeResult>> {
    return this.call('normalize', options, NORMALIZE_KEYS, input, resolveNormalizeTrack, (call, r) => normalizeTrack(call, input, r));
  }

  /** One gain for a set of tracks from their combined gated loudness; all outputs or none. */
  normalizeAlbum(inputs: MediaInput[], options: AlbumNormalizeOptions & CallOptions): Promise<Observed<AlbumNormalizeResult>> {
    return this.call(
      'normalizeAlbum',
      options,
      ALBUM_KEYS,
      null,
      (o) => {
        const r = resolveNormalizeAlbum(inputs, o);
        inputs.forEach((input, i) => {
          checkInputShape(input, `inputs[${i}]`);
        });
        return r;
      },
      (call, r) => normalizeAlbum(call, inputs, r),
    );
  }

  /** Decodes an image, resizes it (fit, kernel) and encodes it (JPEG, PNG, WebP), in one job. */
  resize(input: MediaInput, options: ResizeImageOptions & CallOptions): Promise<Observed<ResizeResult>> {
    return this.call(
      'resize',
      options,
      RESIZE_KEYS,
      input,
      ({ signal: _s, onProgress: _p, limits: _l, ...o }) => resolveResize(o),
      (call, r) => resizeCall(call, input, r),
    );
  }

  /** Many sizes and formats of one image from one decode, in one job (cover art: 640, 300, 64 px). */
  imageSet(input: MediaInput, targets: ImageTarget[], options: ImageSetOptions & CallOptions = {}): Promise<Observed<ImageSetResult>> {
    return this.call(
      'imageSet',
      options,
      IMAGE_SET_KEYS,
      input,
      (o) => resolveImageSet(targets, o, input),
      (call, r) => imageCall(call, input, r),
    );
  }

  /**
   * H.264 ladder and/or audio renditions as CMAF segments, with HLS and DASH manifests over them.
   * The video is encoded in chunks of whole segments on every worker at once.
   */
  package(input: MediaInput, options: PackageOptions & CallOptions): Promise<Observed<PackageResult>> {
    return this.call(
      'package',
      options,
      PACKAGE_KEYS,
      input,
      (o) => resolvePackage(o, this.options.core.h264Encoder, this.options.videoThreads),
      (call, r) => packageCall(call, input, r, this.workers),
    );
  }

  /**
   * The plan of a package, as plain serialisable data: its renditions, the chunk jobs that encode
   * them and the audio job. Each job can run on any engine (`runChunk`); `stitch` finishes.
   */
  planPackage(input: MediaInput, options: PlanOptions & CallOptions = {}): Promise<Observed<PackagePlan>> {
    return this.call(
      'planPackage',
      options,
      PLAN_KEYS,
      input,
      (o) => resolvePlan(o, this.options.core.h264Encoder, this.options.videoThreads),
      (call, r) => planCall(call, input, r, this.workers),
    );
  }

  /** One job of a plan, on this engine, its fragmented MP4s committed into `outputDir`. */
  runChunk(input: MediaInput, plan: PackagePlan, job: string, options: RunChunkOptions & CallOptions): Promise<Observed<ChunkResult>> {
    return this.call(
      'runChunk',
      options,
      RUN_CHUNK_KEYS,
      input,
      (o) => resolveRunChunk(plan, job, o),
      (call, r) => runChunkCall(call, input, r),
    );
  }

  /** The package from every job's result: CMAF tracks and manifests in `outputDir`. */
  stitch(plan: PackagePlan, results: ChunkResult[], options: StitchOptions & CallOptions): Promise<Observed<PackageResult>> {
    return this.call(
      'stitch',
      options,
      STITCH_KEYS,
      null,
      (o) => resolveStitch(plan, results, o),
      (call, r) => stitchCall(call, r),
    );
  }

  /** A poster frame, a JPEG every N seconds and storyboard sprite sheets with their WebVTT track. */
  thumbnails(input: MediaInput, options: ThumbnailOptions & CallOptions): Promise<Observed<ThumbnailResult>> {
    return this.call('thumbnails', options, THUMBNAIL_KEYS, input, resolveThumbnails, (call, r) => thumbnailsCall(call, input, r));
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /**
   * Checks everything a call is given — its options object, the common options, the operation's
   * own (`resolve`) and the input's shape — then runs `body` as one call.
   */
  private call<O extends object, R, T extends object>(
    op: string,
    options: O,
    keys: readonly string[],
    /** `null`: the call reads no caller input (sample media), or checks its own (an album). */
    input: MediaInput | null,
    resolve: (options: O) => R,
    body: (call: Call, resolved: R) => Promise<T>,
  ): Promise<Observed<T>> {
    try {
      const common = resolveCommon(options, keys, this.options.limits);
      const resolved = resolve(options);
      if (input !== null) checkInputShape(input);
      return runCall(this.env, op, common, (call) => body(call, resolved));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

/** Creates an engine: compiles the FFmpeg core once and starts the worker pool. */
export function createEngine(options?: EngineOptions): Promise<Engine> {
  return Engine.create(options);
}
