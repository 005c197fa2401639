/**
 * The command line one job's FFmpeg runs with: the plan's arguments, checked and stripped of the
 * worker's own concerns, behind the global options every run sets afresh.
 *
 * FFmpeg's CLI keeps its global options in C globals that nothing resets between runs of one
 * instance (`-xerror` given once stayed on for every later job). So each run sets every global
 * the engine relies on, and also puts back to its default every other global the CLI can put
 * back; the few it cannot (`-vsync`, `-n`, `-vstats`, `-sdp_file`, hardware devices, …) are
 * refused in plans, so no plan can change them in the first place. The error policy (no
 * `-xerror`), the log format and the progress channel belong to the worker: a plan's own copies
 * are removed.
 */
import { InternalError } from '../../errors.js';
import { ACCEPTED_DEMUXERS, PLAN_RAW_FORMATS, whitelistFor } from './formats.js';

/** Protocols a job may use. Everything else (http, tcp, data, concat:, crypto …) is refused. */
export const PROTOCOL_WHITELIST = 'file,pipe';

/**
 * The log as the worker reads it: every message printed (`repeat`, so errors are counted one by
 * one), each with its level, from warnings up. Info is left out, and with it the input's dump of
 * tags and metadata.
 */
export const LOG_LEVEL = 'repeat+level+warning';

/** Global options set on every run, in FFmpeg 5.1's defaults unless the engine needs otherwise. */
export function globalArgs(progressPath: string): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    LOG_LEVEL,
    '-nostats',
    '-stats_period',
    '0.25',
    '-progress',
    progressPath,
    // Decode errors are concealed and counted; the worker decides afterwards (run-plan.ts).
    '-noxerror',
    '-abort_on',
    '0',
    // FFmpeg's own check compares totals kept over the instance's life, not the job's: off.
    '-max_error_rate',
    '1',
    '-nocopyts',
    '-nostart_at_zero',
    '-copytb',
    '-1',
    '-nodebug_ts',
    '-dts_delta_threshold',
    '10',
    '-dts_error_threshold',
    '108000',
    '-adrift_threshold',
    '0.1',
    '-frame_drop_threshold',
    '0',
    '-async',
    '0',
    '-vol',
    '256',
    '-nobenchmark',
    '-nobenchmark_all',
    '-nodump',
    '-nohex',
    '-noqphist',
    '-nopsnr',
    '-noignore_unknown',
    '-nocopy_unknown',
    '-norecast_media',
    '-auto_conversion_filters',
    '-find_stream_info',
    '-vstats_version',
    '2',
    '-filter_complex_threads',
    '0',
  ];
}

/** Globals the worker sets itself: a plan's copy is dropped (the number is how many values follow). */
const OWNED_GLOBALS = new Map<string, number>([
  ['-hide_banner', 0],
  ['-nohide_banner', 0],
  ['-loglevel', 1],
  ['-v', 1],
  ['-stats', 0],
  ['-nostats', 0],
  ['-stats_period', 1],
  ['-progress', 1],
  ['-xerror', 0],
  ['-noxerror', 0],
  ['-abort_on', 1],
  ['-max_error_rate', 1],
  ['-y', 0],
  ['-nostdin', 0],
]);

/**
 * Globals a plan may not use: the CLI gives no way to put them back (or they reach outside the
 * job: files, devices, process limits), so one job would leave them to the next.
 */
const REFUSED_GLOBALS = new Set([
  '-n',
  '-vsync',
  '-sdp_file',
  '-vstats',
  '-vstats_file',
  '-report',
  '-max_alloc',
  '-cpuflags',
  '-cpucount',
  '-init_hw_device',
  '-filter_hw_device',
  '-stdin',
  '-timelimit',
  '-filter_threads',
  '-filter_complex_script',
  '-copyts',
  '-start_at_zero',
  '-copytb',
  '-debug_ts',
  '-dts_delta_threshold',
  '-dts_error_threshold',
  '-adrift_threshold',
  '-frame_drop_threshold',
  '-async',
  '-vol',
  '-benchmark',
  '-benchmark_all',
  '-dump',
  '-hex',
  '-qphist',
  '-psnr',
  '-ignore_unknown',
  '-copy_unknown',
  '-recast_media',
  '-auto_conversion_filters',
  '-noauto_conversion_filters',
  '-find_stream_info',
  '-nofind_stream_info',
  '-vstats_version',
  '-filter_complex_threads',
]);

export interface SandboxOptions {
  /** The `-format_whitelist` for inputs the plan did not force a format on. */
  whitelist: string;
  /** Job paths of the plan's inputs: the only files `-i` may name. */
  inputs: Set<string>;
}

/**
 * A plan's arguments as they may run: the worker's globals removed, refused globals refused,
 * and each input fenced: its protocols always, and its demuxer by the allow-list, or by the one
 * format the plan forced: raw data it made itself, or a demuxer of the allow-list it chose from
 * the header it read. A plan's `-f lavfi` source reads no input bytes and keeps working.
 */
export function sandboxArgs(args: string[], options: SandboxOptions): string[] {
  const out: string[] = [];
  let inputFormat: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const owned = OWNED_GLOBALS.get(arg);
    if (owned !== undefined) {
      i += owned;
      continue;
    }
    if (REFUSED_GLOBALS.has(arg)) throw new InternalError(`plan uses the global option ${arg}, which would outlive the job`, { args });
    if (arg === '-protocol_whitelist' || arg === '-format_whitelist') {
      i++;
      continue;
    }
    if (arg === '-f') inputFormat = args[i + 1];
    if (arg === '-i') {
      const source = args[i + 1] ?? '';
      out.push('-protocol_whitelist', PROTOCOL_WHITELIST);
      if (inputFormat !== 'lavfi') {
        if (!options.inputs.has(source)) throw new InternalError(`plan reads ${JSON.stringify(source)}, which is not one of its inputs`, { args });
        if (inputFormat === undefined) out.push('-format_whitelist', whitelistFor(source, options.whitelist));
        else if (PLAN_RAW_FORMATS.includes(inputFormat) || ACCEPTED_DEMUXERS.includes(inputFormat)) out.push('-format_whitelist', inputFormat);
        else throw new InternalError(`plan forces the input format ${inputFormat}, which inputs may not be opened as`, { args });
      }
      inputFormat = undefined;
    }
    out.push(arg);
  }
  return out;
}
