#!/usr/bin/env node
/**
 * The sandcodec command line: parses the arguments, runs one command on an engine, reports
 * errors as `error [CODE]: message` (or JSON) and exits with the status of the error's family.
 */
import { dirname, resolve } from 'node:path';
import { createEngine, type Engine } from '../engine.js';
import { AbortedError, EXIT_STATUS, InternalError, SandcodecError } from '../errors.js';
import { printable } from '../util/printable.js';
import { type CommandName, parseCommandLine, wantsJson } from './args.js';
import { copyRuntimeCommand } from './commands/copy-runtime.js';
import { coverCommand } from './commands/cover.js';
import { demoCommand } from './commands/demo.js';
import { ladderCommand } from './commands/ladder.js';
import { loudnessCommand } from './commands/loudness.js';
import { normalizeCommand } from './commands/normalize.js';
import { packageCommand } from './commands/package.js';
import { peaksCommand } from './commands/peaks.js';
import { presetsCommand } from './commands/presets.js';
import { probeCommand } from './commands/probe.js';
import { resizeCommand } from './commands/resize.js';
import { serveCommand, workerCommand } from './commands/serve.js';
import { thumbnailsCommand } from './commands/thumbnails.js';
import { transcodeCommand } from './commands/transcode.js';
import { packageVersion, versionCommand } from './commands/version.js';
import type { Command, CommandContext } from './context.js';
import { withFlagName } from './flag-names.js';
import { helpText } from './help.js';
import { toStdout } from './pipes.js';
import { progressDisplay } from './progress.js';

const print = (text: string) => void process.stdout.write(`${text}\n`);
/** Whether the command's output is stdout (`-o -`). */
let stdoutTaken = false;
const warn = (text: string) => void process.stderr.write(`${text}\n`);

const COMMAND_RUNNERS: Record<CommandName, Command> = {
  probe: probeCommand,
  transcode: (ctx) => transcodeCommand(ctx, warn),
  ladder: ladderCommand,
  presets: presetsCommand,
  loudness: loudnessCommand,
  normalize: (ctx) => normalizeCommand(ctx, warn),
  peaks: peaksCommand,
  demo: demoCommand,
  resize: resizeCommand,
  cover: coverCommand,
  package: packageCommand,
  thumbnails: thumbnailsCommand,
  version: versionCommand,
  'copy-runtime': copyRuntimeCommand,
  serve: serveCommand,
  worker: workerCommand,
};

/**
 * Commands whose call runs its jobs one after another: one worker serves them, and starting a
 * second would only take CPU from the first while a short call (a probe) is starting up.
 */
const ONE_WORKER: ReadonlySet<CommandName> = new Set(['probe', 'transcode', 'ladder', 'loudness', 'normalize', 'peaks', 'resize', 'cover']);

async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const controller = new AbortController();
  // Ctrl-C, and SIGTERM (what containers and service managers send), abort the call: its staged
  // outputs and spooled input are removed and the command exits with the aborted status. A
  // second signal gives up waiting.
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_STATUS.E_ABORTED);
    controller.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  let engine: Promise<Engine> | undefined;
  let command: CommandName | undefined;
  try {
    // Nothing asked at all: the help goes to stderr, and the status says nothing ran (as `E_OPTIONS`),
    // so a script that lost its arguments does not carry on as if the command had succeeded.
    if (argv.length === 0) {
      warn(helpText());
      return EXIT_STATUS.E_OPTIONS;
    }
    const invocation = parseCommandLine(argv);
    if (invocation.kind === 'help') {
      print(helpText(invocation.command));
      return 0;
    }
    if (invocation.kind === 'version') {
      print(packageVersion());
      return 0;
    }
    const { common } = invocation;
    command = invocation.command;
    // `-o -`: stdout carries the media, so every report (and a --json error) goes to stderr.
    stdoutTaken = toStdout(invocation.values.output);
    const out = stdoutTaken ? warn : print;
    const ctx: CommandContext = {
      positionals: invocation.positionals,
      values: invocation.values,
      common,
      signal: controller.signal,
      engine: () =>
        (engine ??= createEngine({
          ...(common.workers !== undefined ? { workers: common.workers } : ONE_WORKER.has(invocation.command) ? { workers: 1 } : {}),
          ...(common.core !== undefined ? { core: common.core } : {}),
          ...(common.videoThreads !== undefined ? { videoThreads: common.videoThreads } : {}),
          limits: common.limits,
          sweepDirs: sweepDirsFor(invocation.values.output),
        })),
      print: common.quiet && !common.json ? () => {} : out,
      progress: (label) =>
        progressDisplay(common.progress ?? (common.json || common.quiet ? 'none' : process.stderr.isTTY ? 'bar' : 'lines'), process.stderr, label),
    };
    await COMMAND_RUNNERS[invocation.command](ctx);
    return 0;
  } catch (err) {
    const error = withFlagName(command, asSandcodecError(err, controller.signal));
    report(error, json, verbose);
    return EXIT_STATUS[error.code];
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    if (engine)
      await engine.then(
        (e) => e.close(),
        () => undefined,
      );
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Where a command's staged outputs live: beside its output, or inside it when it is a folder. */
function sweepDirsFor(output: unknown): string[] {
  if (typeof output !== 'string' || output === '' || toStdout(output)) return [];
  return [resolve(output), dirname(resolve(output))];
}

function asSandcodecError(err: unknown, signal: AbortSignal): SandcodecError {
  if (err instanceof SandcodecError) return err;
  if (signal.aborted) return new AbortedError();
  return new InternalError((err as Error)?.message ?? String(err), {}, { cause: err });
}

function report(error: SandcodecError, json: boolean, verbose: boolean): void {
  if (json) {
    (stdoutTaken ? warn : print)(JSON.stringify({ error: { code: error.code, message: error.message } }));
    return;
  }
  // A message can quote the file (a tag, a path): printable, so it cannot drive the terminal.
  warn(`error [${error.code}]: ${printable(error.message)}`);
  const log = error.details.log;
  if (verbose && Array.isArray(log) && log.length) {
    warn('FFmpeg log (last lines):');
    for (const line of log) warn(`  ${printable(String(line))}`);
  }
  if (error.code === 'E_INTERNAL' && verbose && error.cause instanceof Error && error.cause.stack) warn(error.cause.stack);
}

// A reader that went away (`sandcodec probe x --json | head -1`) is not a failure of ours.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
