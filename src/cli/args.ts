/**
 * Command-line parsing and validation with node:util's parseArgs. Every mistake becomes an
 * `E_OPTIONS` error naming the flag, so usage errors exit with status 2 like any bad option.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { OptionsError } from '../errors.js';
import { type Limits, resolveEngineOptions } from '../options.js';
import { resolveCore } from '../util/core-files.js';
import { byteCount, duration, integer } from './values.js';

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** How `--progress` shows a call's progress on stderr (cli/progress.ts). */
export const PROGRESS_MODES = ['bar', 'lines', 'json', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  workers: { type: 'string' },
  core: { type: 'string' },
  'video-threads': { type: 'string' },
  timeout: { type: 'string' },
  'max-input-bytes': { type: 'string' },
  'max-duration': { type: 'string' },
  progress: { type: 'string' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpecs;

interface CommandSpec {
  options: OptionSpecs;
  /** Names of the required positional arguments, for messages and help. */
  positionals: string[];
  /** Options that must be given. */
  required?: string[];
  /** More positionals than named may follow (e.g. the tracks of `normalize --album`). */
  variadic?: boolean;
}

export const IMAGE_FLAGS = {
  fit: { type: 'string' },
  position: { type: 'string' },
  kernel: { type: 'string' },
  quality: { type: 'string', short: 'q' },
  background: { type: 'string' },
  'no-enlarge': { type: 'boolean' },
  'keep-metadata': { type: 'boolean' },
  'linear-light': { type: 'boolean' },
  'chroma-444': { type: 'boolean' },
  progressive: { type: 'boolean' },
  lossless: { type: 'boolean' },
  'compression-level': { type: 'string' },
  'max-pixels': { type: 'string' },
  'shrink-on-load': { type: 'string' },
} as const;

/** Cover art and tags of audio outputs (transcode, ladder). */
export const ARTWORK_FLAGS = {
  cover: { type: 'string' },
  'no-cover': { type: 'boolean' },
  tag: { type: 'string', multiple: true },
  'strip-tags': { type: 'boolean' },
} as const;

/** Replace what a previous run wrote (never anything else): every command that writes takes it; `-y` as in ffmpeg. */
const FORCE = { force: { type: 'boolean', short: 'y' } } as const;

/** What `serve` and `worker` share: Redis, URL and output policy, queue and drain. */
export const SERVICE_FLAGS = {
  redis: { type: 'string' },
  host: { type: 'string' },
  concurrency: { type: 'string' },
  'allow-hosts': { type: 'string' },
  'output-root': { type: 'string' },
  'max-queue': { type: 'string' },
  attempts: { type: 'string' },
  'lock-seconds': { type: 'string' },
  'drain-seconds': { type: 'string' },
  'work-dir': { type: 'string' },
} as const;

export const PACKAGE_FLAGS = {
  output: { type: 'string', short: 'o' },
  ...FORCE,
  format: { type: 'string' },
  ladder: { type: 'string' },
  audio: { type: 'string' },
  'segment-duration': { type: 'string' },
  'chunk-seconds': { type: 'string' },
  'audio-only': { type: 'boolean' },
  encrypt: { type: 'string' },
  'key-id': { type: 'string' },
  key: { type: 'string' },
  'clear-lead': { type: 'string' },
  pssh: { type: 'string' },
  'hls-aes128': { type: 'boolean' },
  'key-uri': { type: 'string' },
  'init-template': { type: 'string' },
  'segment-template': { type: 'string' },
  'single-file': { type: 'boolean' },
  subtitles: { type: 'string', multiple: true },
  'audio-language': { type: 'string' },
  'audio-name': { type: 'string' },
} as const;

export const THUMBNAIL_FLAGS = {
  output: { type: 'string', short: 'o' },
  ...FORCE,
  every: { type: 'string' },
  sprite: { type: 'string' },
  width: { type: 'string' },
} as const;

export const COMMANDS = {
  probe: { options: { decode: { type: 'boolean' } }, positionals: ['FILE'] },
  transcode: {
    options: {
      output: { type: 'string', short: 'o' },
      preset: { type: 'string', short: 'p' },
      codec: { type: 'string' },
      bitrate: { type: 'string', short: 'b' },
      'sample-rate': { type: 'string' },
      channels: { type: 'string' },
      'video-bitrate': { type: 'string' },
      size: { type: 'string' },
      start: { type: 'string', short: 's' },
      duration: { type: 'string', short: 't' },
      'fade-in': { type: 'string' },
      'fade-out': { type: 'string' },
      ...ARTWORK_FLAGS,
      ...FORCE,
    },
    positionals: ['IN'],
    required: ['output'],
  },
  ladder: {
    options: { output: { type: 'string', short: 'o' }, presets: { type: 'string', short: 'p' }, ...ARTWORK_FLAGS, ...FORCE },
    positionals: ['IN'],
    required: ['output', 'presets'],
  },
  presets: { options: {}, positionals: [] },
  version: { options: {}, positionals: [] },
  loudness: { options: {}, positionals: ['FILE'] },
  normalize: {
    options: {
      output: { type: 'string', short: 'o' },
      target: { type: 'string' },
      'true-peak': { type: 'string' },
      policy: { type: 'string' },
      preset: { type: 'string', short: 'p' },
      album: { type: 'boolean' },
      ...FORCE,
    },
    positionals: ['IN'],
    required: ['output'],
    variadic: true,
  },
  peaks: {
    options: {
      output: { type: 'string', short: 'o' },
      'pixels-per-second': { type: 'string' },
      'samples-per-pixel': { type: 'string' },
      bits: { type: 'string' },
      'split-channels': { type: 'boolean' },
      ...FORCE,
    },
    positionals: ['IN'],
    required: ['output'],
  },
  demo: { options: { output: { type: 'string', short: 'o' }, seconds: { type: 'string' }, ...FORCE }, positionals: [] },
  resize: {
    options: {
      output: { type: 'string', short: 'o' },
      width: { type: 'string', short: 'w' },
      height: { type: 'string' },
      format: { type: 'string' },
      ...IMAGE_FLAGS,
      ...FORCE,
    },
    positionals: ['IN'],
    required: ['output'],
  },
  cover: {
    options: { output: { type: 'string', short: 'o' }, sizes: { type: 'string' }, format: { type: 'string' }, ...IMAGE_FLAGS, ...FORCE },
    positionals: ['IN'],
    required: ['output'],
  },
  package: { options: PACKAGE_FLAGS, positionals: ['IN'], required: ['output'] },
  thumbnails: { options: THUMBNAIL_FLAGS, positionals: ['IN'], required: ['output'] },
  'copy-runtime': { options: { ...FORCE }, positionals: ['DIR'] },
  serve: { options: { ...SERVICE_FLAGS, port: { type: 'string', short: 'p' }, 'max-sync-queue': { type: 'string' } }, positionals: [] },
  worker: { options: { ...SERVICE_FLAGS, 'metrics-port': { type: 'string' } }, positionals: [] },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export interface CommonOptions {
  json: boolean;
  verbose: boolean;
  workers?: number;
  /** The FFmpeg core named by --core (checked: it exists). */
  core?: string;
  /** --video-threads: threads per video encode (the engine checks it against the core). */
  videoThreads?: number;
  /** --progress: how progress is shown on stderr (default: a bar on a terminal, lines elsewhere). */
  progress?: ProgressMode;
  /** --quiet: errors only (the JSON of --json still prints: it was asked for). */
  quiet: boolean;
  limits: Partial<Limits>;
}

export type Invocation =
  | { kind: 'help'; command?: CommandName }
  | { kind: 'version' }
  | {
      kind: 'run';
      command: CommandName;
      positionals: string[];
      /** The command's own options, as given (strings and booleans). */
      values: Record<string, string | boolean | undefined>;
      common: CommonOptions;
    };

export function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

/** True when `--json` appears anywhere, so even a parse failure can answer in JSON. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

export function parseCommandLine(argv: readonly string[]): Invocation {
  const first = argv[0];
  if (first === undefined || first === 'help') {
    const topic = argv[1];
    return { kind: 'help', ...(isCommand(topic) ? { command: topic } : {}) };
  }
  if (first.startsWith('-')) {
    // Only --help and --version make sense without a command.
    const { values } = parse(argv, {});
    if (values.version) return { kind: 'version' };
    if (values.help) return { kind: 'help' };
    throw new OptionsError('command', 'missing (try --help)');
  }
  if (!isCommand(first)) throw new OptionsError('command', `unknown: ${JSON.stringify(first)} (known: ${Object.keys(COMMANDS).join(', ')})`);
  const spec: CommandSpec = COMMANDS[first];
  const { values, positionals } = parse(argv.slice(1), spec.options);
  if (values.help) return { kind: 'help', command: first };
  if (values.version) return { kind: 'version' };
  if (positionals.length < spec.positionals.length) {
    throw new OptionsError(spec.positionals[positionals.length]!, `missing (usage: sandcodec ${first} ${usage(first)})`);
  }
  if (positionals.length > spec.positionals.length && !spec.variadic) {
    throw new OptionsError('arguments', `unexpected ${JSON.stringify(positionals[spec.positionals.length])} (usage: sandcodec ${first} ${usage(first)})`);
  }
  for (const name of spec.required ?? []) {
    if (values[name] === undefined) throw new OptionsError(`--${name}`, `is required (usage: sandcodec ${first} ${usage(first)})`);
  }
  const own: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(spec.options)) own[name] = values[name] as string | boolean | undefined;
  return { kind: 'run', command: first, positionals, values: own, common: commonOptions(values) };
}

export function usage(command: CommandName): string {
  const spec: CommandSpec = COMMANDS[command];
  const flags = Object.entries(spec.options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ` ${name.toUpperCase()}` : ''}`;
    return spec.required?.includes(name) ? flag : `[${flag}]`;
  });
  const positionals = spec.variadic ? [...spec.positionals, '[…]'] : spec.positionals;
  return [...positionals, ...flags].join(' ');
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function parse(args: readonly string[], options: OptionSpecs): { values: Values; positionals: string[] } {
  const all: OptionSpecs = { ...COMMON_OPTIONS, ...options };
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(args, all), options: all, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (err) {
    // parseArgs' messages already name the flag; keep them, minus its advice about '--'.
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new OptionsError('arguments', message);
  }
}

/**
 * `--target -14` reads as a flag followed by a value; parseArgs refuses a value that starts with
 * a dash, so a negative number after a string option is joined to it (`--target=-14`).
 */
function joinNegativeValues(args: readonly string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function commonOptions(values: Values): CommonOptions {
  const limits: Partial<Limits> = {};
  const timeout = values.timeout as string | undefined;
  // Whole milliseconds, at least one.
  if (timeout !== undefined) limits.timeoutMs = Math.max(1, Math.round(duration('--timeout', timeout) * 1000));
  const maxInput = values['max-input-bytes'] as string | undefined;
  if (maxInput !== undefined) limits.maxInputBytes = byteCount('--max-input-bytes', maxInput);
  const maxDuration = values['max-duration'] as string | undefined;
  if (maxDuration !== undefined) limits.maxDurationSeconds = duration('--max-duration', maxDuration);
  const workers = values.workers as string | undefined;
  const core = values.core as string | undefined;
  if (core !== undefined) {
    try {
      resolveCore(core);
    } catch (err) {
      throw err instanceof OptionsError ? new OptionsError('--core', err.message.replace(/^core: /, '')) : err;
    }
  }
  const threadsText = values['video-threads'] as string | undefined;
  const videoThreads = threadsText === undefined ? undefined : integer('--video-threads', threadsText);
  if (videoThreads !== undefined) {
    // Checked here, against the core named, so that the message names the flag.
    try {
      resolveEngineOptions({ videoThreads, ...(core !== undefined ? { core } : {}) });
    } catch (err) {
      throw err instanceof OptionsError ? new OptionsError('--video-threads', err.message.replace(/^videoThreads: /, '')) : err;
    }
  }
  const progress = values.progress as string | undefined;
  if (progress !== undefined && !(PROGRESS_MODES as readonly string[]).includes(progress)) {
    throw new OptionsError('--progress', `must be ${PROGRESS_MODES.slice(0, -1).join(', ')} or ${PROGRESS_MODES.at(-1)}, got ${JSON.stringify(progress)}`);
  }
  return {
    json: values.json === true,
    verbose: values.verbose === true,
    quiet: values.quiet === true,
    ...(progress !== undefined ? { progress: progress as ProgressMode } : {}),
    ...(workers !== undefined ? { workers: workers.trim() === '0' ? 0 : integer('--workers', workers) } : {}),
    ...(core !== undefined ? { core } : {}),
    ...(videoThreads !== undefined ? { videoThreads } : {}),
    limits,
  };
}
