/**
 * What a command gets to run with: its parsed arguments, the Ctrl-C signal, a lazily created
 * engine (so `presets` and `--help` never start workers) and the output streams.
 */
import type { Engine } from '../engine.js';
import type { ProgressListener } from '../progress.js';
import type { CommonOptions, Invocation } from './args.js';

export type RunInvocation = Extract<Invocation, { kind: 'run' }>;

export interface CommandContext {
  positionals: string[];
  values: RunInvocation['values'];
  common: CommonOptions;
  signal: AbortSignal;
  engine(): Promise<Engine>;
  /** Writes one line (or block) of the command's result to stdout. */
  print(text: string): void;
  /** A progress listener drawing on stderr when it is a terminal and output is not JSON. */
  progress(label: string): ProgressDisplay | undefined;
}

export interface ProgressDisplay {
  listener: ProgressListener;
  /** Erases the progress line. */
  done(): void;
}

export type Command = (ctx: CommandContext) => Promise<void>;

/** The limits the common flags set, as the engine's per-call option. */
export function callLimits(ctx: CommandContext): { limits?: CommonOptions['limits'] } {
  return Object.keys(ctx.common.limits).length ? { limits: ctx.common.limits } : {};
}

/** `overwrite: true` when `--force` was given, for the calls of commands that write. */
export function writeOptions(ctx: CommandContext): { overwrite?: true } {
  return ctx.values.force === true ? { overwrite: true } : {};
}

/** Runs `run` with the command's progress display (if any) as its `onProgress`, erased afterwards. */
export async function withProgress<T>(ctx: CommandContext, label: string, run: (option: { onProgress?: ProgressListener }) => Promise<T>): Promise<T> {
  const display = ctx.progress(label);
  try {
    return await run(display ? { onProgress: display.listener } : {});
  } finally {
    display?.done();
  }
}

export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.print(JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? undefined : v), 2));
}
