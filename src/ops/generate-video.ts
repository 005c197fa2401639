/**
 * `generateVideo`: a test picture (FFmpeg's `testsrc2`: moving patterns, a frame counter) with a
 * sine tone, as H.264 + AAC in MP4, made inside the sandbox — sources for packaging tests and
 * benchmarks without fixtures.
 */
import * as v from '../call/validate.js';
import { OptionsError, UnsupportedError } from '../errors.js';
import type { FFmpegPlan, JobLimits, OutputSink } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import { AAC_ENCODER_ARGS } from '../model/presets.js';
import type { H264Encoder } from '../util/core-files.js';

export interface GenerateVideoOptions {
  /** Length in seconds (default 30). */
  seconds?: number;
  /** Picture size (default 1280×720). */
  width?: number;
  height?: number;
  /** Frames per second (default 30). */
  frameRate?: number;
  /** Add a 440 Hz tone as AAC (default true). */
  audio?: boolean;
  /** Chroma of the H.264 stream (default 4:2:0; 4:4:4 makes High 4:4:4 Predictive, with x264 only). */
  pixelFormat?: 'yuv420p' | 'yuv444p';
  /** Drop every fifth frame and keep the gaps: a variable-frame-rate stream (default false). */
  variableFrameRate?: boolean;
  /** Seconds of picture before the tone starts, as some cameras write their files (default 0). */
  audioDelay?: number;
  /** Host path to write; without it the video comes back as `bytes`. */
  output?: string;
  /** Replace an existing file at `output` (default false). */
  overwrite?: boolean;
}

export const GENERATE_VIDEO_KEYS = [
  'seconds',
  'width',
  'height',
  'frameRate',
  'audio',
  'pixelFormat',
  'variableFrameRate',
  'audioDelay',
  'output',
  'overwrite',
] as const;

export interface ResolvedGenerateVideo {
  seconds: number;
  width: number;
  height: number;
  frameRate: number;
  audio: boolean;
  pixelFormat: 'yuv420p' | 'yuv444p';
  variableFrameRate: boolean;
  audioDelay: number;
  output: string | undefined;
  encoder: H264Encoder;
}

export function resolveGenerateVideo(o: GenerateVideoOptions, encoder: H264Encoder | null): ResolvedGenerateVideo {
  const seconds = o.seconds ?? 30;
  if (typeof seconds !== 'number' || !(seconds > 0 && seconds <= 3600)) throw new OptionsError('seconds', 'must be a number of seconds from 0 to 3600');
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 16 || v > 4096 || v % 2) throw new OptionsError(name, 'must be an even integer from 16 to 4096');
  }
  const frameRate = o.frameRate ?? 30;
  if (typeof frameRate !== 'number' || !(frameRate >= 1 && frameRate <= 120)) throw new OptionsError('frameRate', 'must be from 1 to 120');
  const audio = o.audio ?? true;
  if (typeof audio !== 'boolean') throw new OptionsError('audio', 'must be a boolean');
  const pixelFormat = o.pixelFormat ?? 'yuv420p';
  if (pixelFormat !== 'yuv420p' && pixelFormat !== 'yuv444p') throw new OptionsError('pixelFormat', "must be 'yuv420p' or 'yuv444p'");
  if (encoder === null) throw new UnsupportedError("generateVideo: this engine's FFmpeg core has no H.264 encoder");
  if (pixelFormat === 'yuv444p' && encoder !== 'libx264') {
    throw new OptionsError('pixelFormat', "'yuv444p' needs x264, and this engine's FFmpeg core encodes H.264 with OpenH264 (4:2:0 only)");
  }
  const variableFrameRate = o.variableFrameRate ?? false;
  if (typeof variableFrameRate !== 'boolean') throw new OptionsError('variableFrameRate', 'must be a boolean');
  const audioDelay = o.audioDelay ?? 0;
  if (typeof audioDelay !== 'number' || !(audioDelay >= 0 && audioDelay < seconds))
    throw new OptionsError('audioDelay', 'must be a number of seconds from 0 to less than seconds');
  const output = v.optional(o.output, undefined, (x) => v.path('output', x));
  return { seconds, width, height, frameRate, audio, pixelFormat, variableFrameRate, audioDelay, output, encoder };
}

export function generateVideoPlan(g: ResolvedGenerateVideo, sink: OutputSink, limits: JobLimits): FFmpegPlan {
  const name = 'generated.mp4';
  const args = ['-f', 'lavfi', '-i', `testsrc2=size=${g.width}x${g.height}:rate=${g.frameRate}:duration=${g.seconds}`];
  if (g.audio) {
    if (g.audioDelay > 0) args.push('-itsoffset', String(g.audioDelay));
    args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${g.seconds - g.audioDelay}`);
  }
  // A near-lossless intermediate: the renditions made from it should not inherit its artefacts
  // (x264 at CRF 12 gives about 61 dB PSNR on 720p testsrc2; OpenH264 at QP 4–8, about 54 dB).
  args.push('-map', '0:v', '-pix_fmt', g.pixelFormat);
  if (g.encoder === 'libx264') args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12');
  else args.push('-c:v', 'libopenh264', '-profile:v', 'high', '-rc_mode', 'quality', '-b:v', '100000000', '-qmin', '4', '-qmax', '8');
  // Dropped frames leave holes in the timestamps; `vfr` keeps them instead of duplicating frames.
  if (g.variableFrameRate) args.push('-vf', "select='not(eq(mod(n\\,5)\\,4))'", '-fps_mode', 'vfr');
  if (g.audio) args.push('-map', '1:a', '-c:a', 'aac', '-b:a', '192000', '-ac', '2', ...AAC_ENCODER_ARGS);
  args.push('-f', 'mp4', jobPath(name));
  return { op: 'ffmpeg', phase: 'generate', inputs: [], outputs: [{ name, sink }], args, limits };
}
