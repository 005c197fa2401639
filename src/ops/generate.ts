/**
 * `generate`: sample media made inside the sandbox with FFmpeg's lavfi sources, for the demo,
 * tests and benchmarks — no fixtures to download, nothing native to install.
 */

import type { Call } from '../call/run-call.js';
import * as v from '../call/validate.js';
import { OptionsError } from '../errors.js';
import type { FFmpegPlan, JobLimits, OutputSink } from '../model/plan.js';
import { jobPath } from '../model/plan.js';
import { AUDIO_PRESET_NAMES, encoderArgs, getAudioPreset } from '../model/presets.js';

export const SIGNALS = Object.freeze(['music', 'sine', 'noise', 'silence'] as const);
export type SignalKind = (typeof SIGNALS)[number];

export interface GenerateOptions {
  /** What to make. `music` is a melody over a bass line with drums-like noise bursts. */
  kind: SignalKind;
  /** Length in seconds (default 30). */
  seconds?: number;
  /** Default 44100. */
  sampleRate?: number;
  /** 1 or 2 (default 2). */
  channels?: number;
  /** For `sine`: frequency in Hz (default 1000). */
  frequency?: number;
  /** For `sine` and `noise`: peak amplitude 0..1 (default 0.5). */
  amplitude?: number;
  /** Preset to encode with (default `flac`). */
  preset?: string;
  /** Host path to write; without it the audio comes back as `bytes`. */
  output?: string;
  /** Replace an existing file at `output` (default false). */
  overwrite?: boolean;
}

export const GENERATE_KEYS = ['kind', 'seconds', 'sampleRate', 'channels', 'frequency', 'amplitude', 'preset', 'output', 'overwrite'] as const;

export interface ResolvedGenerate {
  kind: SignalKind;
  seconds: number;
  sampleRate: number;
  channels: number;
  frequency: number;
  amplitude: number;
  preset: string;
  output: string | undefined;
}

export function resolveGenerate(o: GenerateOptions): ResolvedGenerate {
  if (!o || typeof o !== 'object') throw new OptionsError('options', 'must be an object');
  if (!SIGNALS.includes(o.kind)) throw new OptionsError('kind', `must be one of ${SIGNALS.join(', ')}`);
  const seconds = o.seconds ?? 30;
  if (!(seconds > 0 && seconds <= 24 * 3600)) throw new OptionsError('seconds', 'must be a number of seconds from 0 to 86400');
  const sampleRate = o.sampleRate ?? 44100;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000) throw new OptionsError('sampleRate', 'must be an integer from 8000 to 192000');
  const channels = o.channels ?? 2;
  if (channels !== 1 && channels !== 2) throw new OptionsError('channels', 'must be 1 or 2');
  const frequency = o.frequency ?? 1000;
  if (!(frequency > 0 && frequency < sampleRate / 2)) throw new OptionsError('frequency', 'must be between 0 and half the sample rate');
  const amplitude = o.amplitude ?? 0.5;
  if (!(amplitude >= 0 && amplitude <= 1)) throw new OptionsError('amplitude', 'must be from 0 to 1');
  const preset = o.preset ?? 'flac';
  if (!getAudioPreset(preset)) throw new OptionsError('preset', `must be one of ${AUDIO_PRESET_NAMES.join(', ')}`);
  const output = v.optional(o.output, undefined, (x) => v.path('output', x));
  return { kind: o.kind, seconds, sampleRate, channels, frequency, amplitude, preset, output };
}

/**
 * A melody stepping through a minor pentatonic scale every 1/4 s with a decaying envelope, a bass
 * note changing every 2 s, and noise bursts on the beat: broadband, time-varying material that
 * makes encoders work the way real music does (a pure tone would flatter every codec).
 */
function musicExpression(channel: number): string {
  const scale = 'if(lt(mod(trunc(t*4),5),1),0,if(lt(mod(trunc(t*4),5),2),3,if(lt(mod(trunc(t*4),5),3),5,if(lt(mod(trunc(t*4),5),4),7,10))))';
  const melody = `0.22*sin(2*PI*t*${channel ? 442 : 440}*pow(2,(${scale}+12*mod(trunc(t/2),2))/12))*exp(-4*mod(t,0.25))`;
  const bass = `0.25*sin(2*PI*t*55*pow(2,mod(trunc(t/2),4)*5/12))`;
  const drums = `0.3*(random(${channel})-0.5)*exp(-18*mod(t,0.5))`;
  const hat = `0.06*(random(${channel + 2})-0.5)*exp(-40*mod(t+0.25,0.5))`;
  return `${melody}+${bass}+${drums}+${hat}`;
}

function sourceGraph(g: ResolvedGenerate): string {
  const d = g.seconds;
  const layout = g.channels === 2 ? 'stereo' : 'mono';
  switch (g.kind) {
    case 'music': {
      const exprs = g.channels === 2 ? `${musicExpression(0)}|${musicExpression(1)}` : musicExpression(0);
      return `aevalsrc=exprs='${exprs}':s=${g.sampleRate}:d=${d}:c=${layout}`;
    }
    case 'sine':
      return `aevalsrc=exprs='${g.amplitude}*sin(2*PI*${g.frequency}*t)${g.channels === 2 ? `|${g.amplitude}*sin(2*PI*${g.frequency}*t)` : ''}':s=${g.sampleRate}:d=${d}:c=${layout}`;
    case 'noise':
      return `anoisesrc=color=pink:amplitude=${g.amplitude}:sample_rate=${g.sampleRate}:duration=${d}:seed=42,aformat=channel_layouts=${layout}`;
    case 'silence':
      return `anullsrc=sample_rate=${g.sampleRate}:channel_layout=${layout},atrim=duration=${d}`;
  }
}

export function generatePlan(g: ResolvedGenerate, sink: OutputSink, limits: JobLimits): FFmpegPlan {
  const preset = getAudioPreset(g.preset)!;
  const name = `generated.${preset.extension}`;
  // Generated masters are 16-bit like a CD unless the caller asks for a lossy preset.
  const lossless = preset.codec === 'pcm' || preset.codec === 'flac';
  const source = {
    index: 0,
    type: 'audio' as const,
    codec: 'pcm_s16le',
    sampleRate: g.sampleRate,
    channels: g.channels,
    sampleFormat: 's16',
    bitsPerSample: 16,
    tags: {},
  };
  const args = [
    '-f',
    'lavfi',
    '-i',
    sourceGraph(g),
    ...encoderArgs(preset, source),
    ...(lossless ? ['-sample_fmt', 's16'] : []),
    '-f',
    preset.format,
    jobPath(name),
  ];
  return { op: 'ffmpeg', phase: 'generate', inputs: [], outputs: [{ name, sink }], args, limits };
}

export interface GenerateResult {
  path?: string;
  bytes?: Uint8Array;
  size: number;
  seconds: number;
}

/** Sample media is made by one plan, to `output` (staged, committed with the call) or to bytes. */
export async function sampleCall(
  call: Call,
  output: string | undefined,
  seconds: number,
  plan: (sink: OutputSink, limits: JobLimits) => FFmpegPlan,
): Promise<GenerateResult> {
  const file = output === undefined ? undefined : await call.outputs.file(output, 'output');
  const result = await call.run(
    plan(file ? { type: 'path', path: file.tempPath } : { type: 'bytes' }, call.jobLimits),
    call.tracker.phase('generate', seconds),
  );
  call.tracker.emit('generate', 1, seconds, undefined);
  const out = result.outputs[0]!;
  return { ...(file ? { path: file.finalPath } : { bytes: out.bytes! }), size: out.size, seconds };
}
