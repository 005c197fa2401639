/**
 * Who failed, and what a run that "succeeded" on a damaged input is worth.
 *
 * Attribution, not pattern guessing: a run's records say which component spoke (a demuxer, a
 * decoder, a filter, an encoder, a muxer, or the program itself) and FFmpeg's own messages name
 * the file or stream they are about. The first decisive record of a failed run decides:
 *  - an input refused by the demuxer allow-list: E_INPUT_INVALID (text, lists) or E_UNSUPPORTED;
 *  - a stream whose codec this build cannot decode (no decoder, or AV1's hardware-only one):
 *    E_UNSUPPORTED, naming the codec;
 *  - opening, probing or reading an input, or opening its decoder: E_INPUT_INVALID;
 *  - anything else (option parsing, filters, encoders, muxers, outputs): E_FFMPEG, our own
 *    arguments or FFmpeg itself, with the log in the details.
 *
 * Damage policy for runs that exit 0. FFmpeg conceals decode errors and carries on, as native
 * ffmpeg does; a media service wants that for a glitch or two, and wants a refusal for a file
 * that is cut short or mostly broken. So a run on a damaged input fails with E_INPUT_INVALID when:
 *  - reading the input stopped on an error before its end, or its demuxer says it ended early;
 *  - it ends damaged: no frame decoded after the last decode error, or its last packet came out
 *    cut (the common shape of an interrupted upload); except for inputs whose container states
 *    that their length is unknown (a WAV streamed with size 0xFFFFFFFF), which end wherever the
 *    recording stopped;
 *  - more than MAX_DAMAGED_SHARE of its decode attempts failed;
 *  - nothing at all was decoded.
 * Otherwise it succeeds, concealed errors and all; the counts go in the result's log.
 */
import { FFmpegError, InputError, LimitError, type SandcodecError, UnsupportedError } from '../../errors.js';
import { refusedFormatError } from './formats.js';
import { type LogRecord, LogTail } from './log.js';

/**
 * The share of failed decode attempts above which a damaged input is refused. Measured on seeded
 * damage of the real corpus (test/fixtures): 1 to 16 flipped bits cost 1 to 5% of the frames
 * (one frame in 80 of a 7 s FLAC, one in 19 of a 1.75 s loop); 64 flips in that loop cost 10 to
 * 23%; 4 KiB of noise in a 1.2 s MP4 cost 25%. FFmpeg's own default (-max_error_rate) is 2/3.
 */
export const MAX_DAMAGED_SHARE = 0.1;

export interface DecodeTotals {
  decoded: number;
  errors: number;
}

interface Damage {
  /** Frames decoded in the run when the damage was seen. */
  decodedAt: number;
  record: LogRecord;
}

export interface RunWatchOptions {
  /** Job paths of the plan's inputs, as FFmpeg names them in its messages. */
  inputPaths: string[];
  /** FFmpeg's decode totals, read at any moment (core.ts). */
  totals: () => DecodeTotals;
  /** Whether a component name is one of the inputs' demuxers (and not one of the plan's muxers). */
  isDemuxer: (component: string) => boolean;
}

/** What the worker learns about one run while it happens, in bounded memory. */
export class RunWatch {
  readonly tail = new LogTail();
  private refused: string | undefined;
  private unsupported: { codec: string; record: LogRecord } | undefined;
  /** The resampler had to mix channels whose layout nobody states (a WAV of 9 channels, no mask). */
  private unmixable: { channels: string; to: string } | undefined;
  private inputFailure: LogRecord | undefined;
  private firstError: LogRecord | undefined;
  /** FFmpeg refused an allocation (ENOMEM) that the heap budget never saw: a size the input stated. */
  private outOfMemory: LogRecord | undefined;
  private lastComponentError: LogRecord | undefined;
  /** The component error printed just before the first decode error: the decoder's reason. */
  private decoderError: LogRecord | undefined;
  private endedEarly: LogRecord | undefined;
  private lastDecodeError: Damage | undefined;
  private lastCorruptPacket: Damage | undefined;
  private unknownLength = false;
  private readonly start: DecodeTotals;

  private readonly inputPaths: string[];
  private readonly totals: () => DecodeTotals;
  private readonly isDemuxer: (component: string) => boolean;

  constructor(options: RunWatchOptions) {
    this.inputPaths = options.inputPaths;
    this.totals = options.totals;
    this.isDemuxer = options.isDemuxer;
    this.start = options.totals();
  }

  /** This run's own decode counts so far. */
  counts(): DecodeTotals {
    const now = this.totals();
    return { decoded: now.decoded - this.start.decoded, errors: now.errors - this.start.errors };
  }

  observe(record: LogRecord): void {
    this.tail.push(record);
    const { component, text, level } = record;
    const severe = level === 'error' || level === 'fatal' || level === 'panic';
    if (component) {
      if (text.startsWith('Format not on whitelist')) this.refused ??= component;
      else if (/hardware accelerated \S+ decoding/.test(text)) this.unsupported ??= { codec: component, record };
      else if (/^File ended prematurely|: partial file$/.test(text)) this.endedEarly ??= record;
      else if (component === 'wav' && text.startsWith('Ignoring maximum wav data size')) this.unknownLength = true;
      // The source a filter graph is fed from takes its parameters from the input's stream: an
      // input whose stream states impossible ones (a negative aspect ratio, no channels) fails there.
      if (severe && /^(graph \d+ input from stream \d+:\d+|graph_\d+_in_\d+_\d+)$/.test(component)) this.inputFailure ??= record;
      const rematrix = /^Rematrix is needed between (\d+) channels and (\S+) but there is not enough information/.exec(text);
      if (rematrix) this.unmixable ??= { channels: rematrix[1]!, to: rematrix[2]! };
      if (severe) {
        this.firstError ??= record;
        this.lastComponentError = record;
      }
      return;
    }
    if (text.startsWith('Error while decoding stream #')) {
      this.decoderError ??= this.lastComponentError;
      this.lastDecodeError = { decodedAt: this.counts().decoded, record };
      return;
    }
    const decoder = /^Decoder \(codec (\S+)\) not found for input stream/.exec(text);
    if (decoder) {
      this.unsupported ??= { codec: decoder[1]!, record };
      return;
    }
    const input = this.inputPaths.find((path) => text.startsWith(`${path}: `));
    if (input !== undefined) {
      if (/: corrupt input packet in stream \d+$/.test(text)) this.lastCorruptPacket = { decodedAt: this.counts().decoded, record };
      else if (severe) this.inputFailure ??= record;
      return;
    }
    if (text.startsWith('Error while opening decoder for input stream')) this.inputFailure ??= record;
    // No frame ever came out of an input stream FFmpeg could not work out (its demuxer said why).
    if (/^Cannot determine format of input stream \d+:\d+ after EOF/.test(text)) this.inputFailure ??= record;
    if (/Out of memory$/.test(text)) this.outOfMemory ??= record;
    if (severe) this.firstError ??= record;
  }

  /** The run's log tail, with a last line counting the decode errors it concealed, if any. */
  log(): string[] {
    const { decoded, errors } = this.counts();
    const lines = this.tail.get();
    if (errors > 0) lines.push(`${errors} decode errors concealed, ${decoded} frames decoded`);
    return lines;
  }

  /** The error for a run that exited with `code` (not 0). */
  failure(phase: string, code: number): SandcodecError {
    const details = { log: this.tail.get(), exitCode: code, ...this.counts() };
    if (this.refused) return refusedFormatError(this.refused, details.log);
    if (this.unsupported) return unsupportedCodec(phase, this.unsupported.codec, details);
    if (this.unmixable) {
      const { channels, to } = this.unmixable;
      return new UnsupportedError(`${phase}: the input has ${channels} channels in no stated layout, which cannot be mixed down to ${to}`, details);
    }
    if (this.inputFailure) {
      // The demuxer or decoder usually said why before the program gave up on the file.
      const cause = this.firstError?.component ? ` (${describe(this.firstError)})` : '';
      return new InputError(`${phase}: the input is not readable media: ${reason(this.inputFailure)}${cause}`, details);
    }
    // Decoding failed throughout (nothing decoded, or past the damage threshold): what broke
    // afterwards (filters finding no frame format, empty outputs) follows from the input.
    const { decoded, errors } = this.counts();
    if (errors > 0 && (decoded === 0 || errors > (decoded + errors) * MAX_DAMAGED_SHARE)) return this.undecodable(phase, details);
    // Nothing but a demuxer complained: the file, not our arguments, stopped the run.
    if (this.firstError?.component && this.isDemuxer(this.firstError.component)) {
      return new InputError(`${phase}: the input is not readable media: ${describe(this.firstError)}`, details);
    }
    // An allocation larger than FFmpeg allows (a damaged header stating a huge picture): the
    // input asked for more memory than a job may have.
    if (this.outOfMemory) {
      return new LimitError('maxHeapBytes', `${phase}: the input asked for more memory than a job may allocate (${describe(this.outOfMemory)})`, details);
    }
    const why = this.firstError ? describe(this.firstError) : `exit status ${code}`;
    return new FFmpegError(`${phase}: FFmpeg failed: ${why}`, details);
  }

  private undecodable(phase: string, details: Record<string, unknown> & DecodeTotals): InputError {
    const cause = this.decoderError ?? this.lastDecodeError?.record;
    const why = cause ? ` (${describe(cause)})` : '';
    return new InputError(`${phase}: the input could not be decoded: ${details.errors} of ${details.decoded + details.errors} frames failed${why}`, details);
  }

  /** ffprobe left through exit() because a stream's decoder would not open: the decoder said why last. */
  decoderOpenFailure(): InputError {
    const cause = this.lastComponentError ? `: ${describe(this.lastComponentError)}` : '';
    return new InputError(`the input is not readable media: a stream's decoder could not be opened${cause}`, { log: this.tail.get() });
  }

  /** The error for a run that exited 0 on damaged or empty input, if it must not pass. */
  damage(phase: string, progress: { seconds: number | null; frames: number | null }): SandcodecError | undefined {
    const counts = this.counts();
    const details = { log: this.tail.get(), exitCode: 0, ...counts };
    if (this.unsupported) return unsupportedCodec(phase, this.unsupported.codec, details);
    // Streams FFmpeg could not work out are only fatal when none is left; the job used the others.
    if (this.inputFailure && !this.inputFailure.text.endsWith('could not find codec parameters')) {
      return new InputError(`${phase}: the input could not be read to its end: ${reason(this.inputFailure)}`, details);
    }
    if (this.endedEarly) return new InputError(`${phase}: the input is truncated: ${describe(this.endedEarly)}`, details);
    if (counts.decoded === 0 && counts.errors > 0) return this.undecodable(phase, details);
    if (!this.unknownLength) {
      const error = this.lastDecodeError;
      if (error && counts.decoded === error.decodedAt) {
        return new InputError(`${phase}: the input is truncated or damaged at its end: ${describe(error.record)}`, details);
      }
      // The cut packet itself may still decode (whole samples of PCM): one frame after it at most.
      const packet = this.lastCorruptPacket;
      if (packet && counts.decoded - packet.decodedAt <= 1) {
        return new InputError(`${phase}: the input is truncated: its last packet is cut short`, details);
      }
    }
    const attempts = counts.decoded + counts.errors;
    if (counts.errors > 0 && counts.errors > attempts * MAX_DAMAGED_SHARE) {
      return new InputError(`${phase}: the input is damaged: ${counts.errors} of ${attempts} frames could not be decoded`, details);
    }
    // A single still image also ends at time 0, but it counts one frame.
    if (progress.seconds === 0 && !progress.frames) {
      const cause = this.firstError?.component ? ` (${describe(this.firstError)})` : '';
      return new InputError(`${phase}: the input holds nothing to decode: no audio or video came out of it${cause}`, details);
    }
    return undefined;
  }
}

function unsupportedCodec(phase: string, codec: string, details: Record<string, unknown>): SandcodecError {
  // `none`: the container's codec field itself is damaged, not a codec we lack.
  if (codec === 'none') return new InputError(`${phase}: the input has a stream whose codec is unrecognisable (a damaged header)`, details);
  return new UnsupportedError(`${phase}: the input has a stream in ${codec}, a codec this build of FFmpeg cannot decode`, { ...details, codec });
}

/** An input record's reason, without the job path FFmpeg puts in front of it. */
function reason(record: LogRecord): string {
  return record.text.replace(/^\/job\/[^:]*: /, '');
}

function describe(record: LogRecord): string {
  return record.component ? `${record.component}: ${record.text.trim()}` : record.text.trim();
}
