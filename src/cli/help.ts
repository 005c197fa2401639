/** The CLI's --help texts. */
import { DEFAULT_RESIZE_KERNEL, FIT_MODES, POSITIONS, RESIZE_KERNELS } from '../model/image-spec.js';
import { AUDIO_CODEC_NAMES, AUDIO_PRESET_NAMES, PACKAGE_AUDIO_NAMES, PRESET_NAMES, VIDEO_RUNG_NAMES } from '../model/presets.js';
import { type ARTWORK_FLAGS, COMMANDS, COMMON_OPTIONS, type CommandName, type IMAGE_FLAGS, type SERVICE_FLAGS } from './args.js';

const SUMMARY: Record<CommandName, string> = {
  probe: 'show the format and streams of a media file',
  transcode: "encode IN to OUT in an audio or video preset (from OUT's extension unless --preset is given), optionally changed, trimmed and faded",
  ladder: 'encode several presets from one decode of IN into a folder',
  presets: 'list the presets: audio, video files, the package ladder and image outputs',
  version: "show the package's version and the FFmpeg core in use: its licence and enabled components",
  loudness: 'measure EBU R128 loudness: integrated (LUFS), range (LU), true peak (dBTP), sample peak, max momentary and short-term',
  normalize: 'write IN to OUT at a target loudness under a true-peak ceiling (an album: one gain for the set)',
  peaks: 'write waveform peaks of IN as audiowaveform JSON (version 2) to OUT',
  demo: 'generate music-like audio and encode the full ladder into a folder (default ./out)',
  resize: 'resize an image to OUT (.jpg, .png, .webp)',
  package:
    'package IN for adaptive streaming into a folder: an H.264 ladder and audio as CMAF segments, HLS and DASH manifests, subtitles, Common Encryption or HLS AES-128',
  thumbnails: 'write a poster, an image every few seconds and storyboard sprites with a WebVTT track into a folder',
  cover: 'write a cover-art set (default 640, 300, 64 px JPEG) of IN into a folder from one decode',
  serve:
    'run the HTTP API: jobs (POST /v1/jobs), small synchronous calls (PUT /v1/probe, /v1/loudness, /v1/resize), /healthz, /readyz, /metrics; with --redis, jobs go through Redis and a worker runs beside the API',
  worker: 'take jobs from Redis (BullMQ) and run them; /healthz, /readyz and /metrics on --metrics-port',
  'copy-runtime':
    'copy what an app bundled with esbuild needs beside its bundle into DIR: DIR/sandcodec/ (the worker modules, kernels and FFmpeg cores) and DIR/worker.js',
};

/** What a flag takes (its value's name) and does, with its default and allowed values. */
type FlagHelp = readonly [arg: string, text: string];

const COMMON_FLAGS: Record<keyof typeof COMMON_OPTIONS, FlagHelp> = {
  json: ['', 'print results (and errors) as JSON on stdout'],
  workers: [
    'N',
    'worker threads (default: available parallelism; 1 for commands that run one job at a time); 0 runs every job on the main thread, without worker threads',
  ],
  core: ['NAME', "FFmpeg core: gpl (default), lgpl, stock, or a core's folder"],
  'video-threads': ['N', 'threads per video encode (default 1); above 1 the video jobs of package and transcode run on the multithreaded core (gpl-mt)'],
  timeout: ['DUR', 'wall-clock limit per job'],
  'max-input-bytes': ['N', 'refuse larger inputs (accepts 64k, 200M, 2G)'],
  'max-duration': ['DUR', 'refuse inputs playing longer than DUR'],
  progress: [
    'MODE',
    'progress on stderr: bar (default on a terminal), lines (a line every 5 s, the default elsewhere), json (an object per line, twice a second: label, phase, ratio, seconds, speed, eta), none',
  ],
  verbose: ['', "on errors, also print FFmpeg's last log lines"],
  quiet: ['', 'print nothing but errors (and the JSON of --json); no progress unless --progress asks'],
  help: ['', 'show help'],
  version: ['', 'show the version'],
};

/** Every command's flags, as `--help` describes them (a flag may mean something else per command). */
const IMAGE_FLAG_HELP: Record<keyof typeof IMAGE_FLAGS, FlagHelp> = {
  fit: ['FIT', `how the picture fills WIDTH × HEIGHT: ${FIT_MODES.join(', ')} (default cover when both are given)`],
  position: ['POS', `what cover keeps: ${POSITIONS.join(', ')} (default centre)`],
  kernel: ['KERNEL', `resampling filter: ${RESIZE_KERNELS.join(', ')} (default ${DEFAULT_RESIZE_KERNEL})`],
  quality: ['Q', 'JPEG and lossy WebP quality, 1–100 (default 80)'],
  background: ['#RGB', 'letterbox and JPEG background: #rgb, #rrggbb or #rrggbbaa (default #000000)'],
  'no-enlarge': ['', 'never make the picture larger than it is'],
  'keep-metadata': ['', 'keep the EXIF block (orientation reset to 1) and tag the file sRGB'],
  'linear-light': ['', 'resize in linear light rather than in sRGB values'],
  'chroma-444': ['', 'JPEG with full-resolution chroma (4:4:4) instead of 4:2:0'],
  progressive: ['', 'progressive JPEG'],
  lossless: ['', 'lossless WebP'],
  'compression-level': ['N', 'PNG compression, 0–9 (default 6)'],
  'max-pixels': ['N', 'refuse pictures of more pixels (default 24000000)'],
  'shrink-on-load': ['MODE', 'JPEG decoding at 1/2, 1/4, 1/8: on (default: only where it keeps quality), fast (sharp’s rule), off'],
};

const ARTWORK_HELP: Record<keyof typeof ARTWORK_FLAGS, FlagHelp> = {
  cover: ['IMAGE', "set the cover art (resized to fit 1000 px, JPEG) instead of keeping IN's"],
  'no-cover': ['', "leave IN's cover art out (default: kept in MP3, M4A, FLAC, Ogg, Opus)"],
  tag: ['KEY=VALUE', 'set a tag, e.g. title=Intro (repeatable; an empty VALUE removes it)'],
  'strip-tags': ['', "leave IN's tags out (--tag ones are still written)"],
};

const OUTPUT_PIPE: FlagHelp = ['OUT', 'the file to write, or - for stdout (reports then go to stderr)'];
const OUTPUT_DIR: FlagHelp = ['DIR', 'the folder to write into'];
const FORCE_HELP: FlagHelp = ['', 'replace what a previous run wrote (-y as in ffmpeg); without it an existing output is refused'];

const SERVICE_HELP: Record<keyof typeof SERVICE_FLAGS, FlagHelp> = {
  redis: [
    'URL',
    'redis://host:6379 (default: the REDIS_URL variable, which keeps a password out of the arguments): jobs are queued in Redis with BullMQ; serve without it runs jobs in this process',
  ],
  host: ['ADDR', 'address to listen on (default 127.0.0.1; 0.0.0.0 in a container)'],
  concurrency: ['N', "jobs run at once (default: the engine's workers); serve --redis --concurrency 0: the API only"],
  'allow-hosts': ['A,B,…', 'hosts (names or IP literals) whose URLs may reach private, loopback or link-local addresses; all others are refused'],
  'output-root': ['DIR', 'jobs may write output.dir folders under DIR (shared by every worker for split packages)'],
  'max-queue': ['N', 'jobs waiting beyond which submissions get 429 (default 10000)'],
  attempts: ['N', 'attempts of a job failing with E_INTERNAL, E_IO or E_TIMEOUT (default 3)'],
  'lock-seconds': ['DUR', "how long a job's lock lasts unrenewed: how soon a dead worker's job goes to another (default 30)"],
  'drain-seconds': ['DUR', 'on SIGTERM, how long running jobs may finish before they are handed back to the queue (default 60)'],
  'work-dir': ['DIR', 'local scratch for job inputs and outputs (default: the temp folder)'],
};

const FLAG_HELP: { [C in CommandName]: Record<keyof (typeof COMMANDS)[C]['options'], FlagHelp> } = {
  probe: { decode: ['', 'also decode the whole input and report its decoded duration'] },
  transcode: {
    output: OUTPUT_PIPE,
    preset: ['NAME', "the preset (default: from OUT's extension, .mp4 and .webm for video; required with -o -)"],
    codec: ['CODEC', `the audio codec instead of the preset's: ${AUDIO_CODEC_NAMES.join(', ')} (an audio preset's container follows it)`],
    bitrate: ['RATE', "audio bit rate instead of the preset's, e.g. 192k"],
    'sample-rate': ['HZ', "audio sample rate instead of the preset's, e.g. 44100 or 48k"],
    channels: ['N', 'audio channels: mixed down or up to N (1 or 2 for lossy codecs, up to 8 for flac, wav)'],
    'video-bitrate': ['RATE', 'video presets: an average bit rate (e.g. 2M) instead of constant quality'],
    size: ['PX', 'video presets: short side of the picture at most (default 1080; never enlarged)'],
    start: ['DUR', 'start this far into IN (audio: to the sample; video: to the frame)'],
    duration: ['DUR', 'keep this much of IN (default: to the end)'],
    'fade-in': ['DUR', 'fade in from silence (and black) over DUR'],
    'fade-out': ['DUR', 'fade out to silence (and black) over the last DUR'],
    ...ARTWORK_HELP,
    force: FORCE_HELP,
  },
  ladder: { output: OUTPUT_DIR, presets: ['A,B,…', 'the presets to encode, comma-separated'], ...ARTWORK_HELP, force: FORCE_HELP },
  presets: {},
  version: {},
  loudness: {},
  normalize: {
    output: ['OUT', 'the file to write (with --album, the folder)'],
    target: ['LUFS', 'integrated loudness to reach (default -14)'],
    'true-peak': ['DBTP', 'true-peak ceiling (default -1)'],
    policy: ['POLICY', 'gain (default: one gain, held under the ceiling) or limit (reach the target, limiting peaks)'],
    preset: ['NAME', "the audio preset (default: from OUT's extension)"],
    album: ['', 'one gain for all the inputs, written into the folder OUT'],
    force: FORCE_HELP,
  },
  peaks: {
    output: OUTPUT_PIPE,
    'pixels-per-second': ['N', 'peaks per second of audio (default 20)'],
    'samples-per-pixel': ['N', 'audio samples per peak, instead of --pixels-per-second'],
    bits: ['BITS', '8 or 16 (default 16)'],
    'split-channels': ['', 'one set of peaks per channel'],
    force: FORCE_HELP,
  },
  demo: { output: ['DIR', 'the folder to write into (default out)'], seconds: ['DUR', 'length of the generated music (default 30)'], force: FORCE_HELP },
  resize: {
    output: ['OUT', 'the image to write: .jpg, .png or .webp, or - for stdout (with --format)'],
    width: ['PX', 'width in pixels (with only a width, the height follows the picture)'],
    height: ['PX', 'height in pixels'],
    format: ['FORMAT', "jpeg, png or webp (default: from OUT's extension; required with -o -)"],
    ...IMAGE_FLAG_HELP,
    force: FORCE_HELP,
  },
  cover: {
    output: OUTPUT_DIR,
    sizes: ['A,B,…', 'square sizes in pixels (default 640,300,64)'],
    format: ['FORMAT', 'jpeg (default), png or webp'],
    ...IMAGE_FLAG_HELP,
    force: FORCE_HELP,
  },
  'copy-runtime': { force: ['', 'replace the sandcodec/ folder and worker.js an earlier copy made (nothing else)'] },
  serve: {
    ...SERVICE_HELP,
    port: ['PORT', 'HTTP port (default 8080)'],
    'max-sync-queue': ['N', 'synchronous calls waiting for a worker beyond which they get 429 (default 16)'],
  },
  worker: { ...SERVICE_HELP, 'metrics-port': ['PORT', '/healthz, /readyz and /metrics port (default 9464)'] },
  package: {
    output: OUTPUT_DIR,
    force: FORCE_HELP,
    format: ['FORMAT', 'hls, dash or both (default)'],
    ladder: ['A,B,…', `H.264 renditions (default 1080p,720p,480p,360p; known: ${VIDEO_RUNG_NAMES.join(', ')})`],
    audio: ['A,B,…', `audio renditions (default aac-128,aac-64; known: ${PACKAGE_AUDIO_NAMES.join(', ')})`],
    'segment-duration': ['DUR', 'segment length, 1 to 30 s (default 4)'],
    'chunk-seconds': ['DUR', 'video encoded in chunks of whole segments on every worker (default: from the length and the workers)'],
    'audio-only': ['', 'no video renditions'],
    encrypt: ['SCHEME', 'Common Encryption: cenc or cbcs (needs --key-id and --key)'],
    'key-id': ['HEX', 'the key ID, 32 hex digits'],
    key: ['HEX', 'the key, 32 hex digits, or env:NAME to read it from the environment'],
    'clear-lead': ['DUR', 'seconds left in the clear at the start (default 0)'],
    pssh: ['A,B', 'DRM systems signalled: clearkey (default), widevine'],
    'hls-aes128': ['', 'HLS AES-128 encryption of whole segments instead (needs --key and --key-uri; HLS only)'],
    'key-uri': ['URI', 'where HLS players fetch the AES-128 key'],
    'init-template': ['NAME', 'init segment names (default init.mp4; $RepresentationID$ allowed)'],
    'segment-template': ['NAME', 'media segment names (default seg-$Number$.m4s; e.g. seg-$Number%05d$.m4s)'],
    'single-file': ['', 'one file per rendition with a sidx: DASH SegmentBase, HLS byte ranges'],
    subtitles: ['LANG=PATH', 'a WebVTT subtitle track (repeatable)'],
    'audio-language': ['LANG', 'language tag of the audio renditions (e.g. en)'],
    'audio-name': ['NAME', 'display name of the audio renditions'],
  },
  thumbnails: {
    output: OUTPUT_DIR,
    force: FORCE_HELP,
    every: ['DUR', 'one image every DUR (default 10)'],
    sprite: ['CxR', 'storyboard sprite grid, columns × rows (default 10x10)'],
    width: ['PX', 'storyboard tile width (default 160)'],
  },
};

const WIDTH = 80;
const FLAG_COLUMN = 25;

/** `text` wrapped to 80 columns, every line after the first indented by `indent` spaces. */
export function wrap(text: string, first: string, indent: number): string {
  const lines: string[] = [];
  let line = first;
  const pad = ' '.repeat(indent);
  for (const word of text.split(' ')) {
    const fresh = line === first || line === pad;
    if (!fresh && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = pad + word;
    } else {
      line = fresh ? line + word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join('\n');
}

function flagLines(flags: Record<string, FlagHelp>, shorts: Record<string, string | undefined>): string[] {
  return Object.entries(flags).map(([name, [arg, text]]) => {
    const short = shorts[name];
    const flag = `  ${short ? `-${short}, ` : ''}--${name}${arg ? ` ${arg}` : ''}`;
    // A flag too long for its column puts its text on the next line.
    if (flag.length < FLAG_COLUMN - 1) return wrap(text, flag.padEnd(FLAG_COLUMN), FLAG_COLUMN);
    return `${flag}\n${wrap(text, ' '.repeat(FLAG_COLUMN), FLAG_COLUMN)}`;
  });
}

const shortsOf = (options: object): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(options as Record<string, { short?: string }>).map(([n, o]) => [n, o.short]));

const COMMON = `Common options:
${flagLines(COMMON_FLAGS, shortsOf(COMMON_OPTIONS)).join('\n')}

${wrap('IN and FILE may be - to read stdin (probe, loudness, transcode, resize, peaks); OUT may be - to write stdout (transcode, resize, peaks).', '', 0)}

${wrap('Durations (DUR: --timeout, --max-duration, --segment-duration, --every, …) are seconds, or written with units or as a clock: 90, 90s, 1m30s, 1500ms, 01:30.', '', 0)}

${wrap('Exit status: 0 ok, 2 usage or options, 3 invalid input, 4 unsupported, 5 limit, 6 timeout, 7 aborted (Ctrl-C), 8 queue full or closed, 9 FFmpeg failure, 10 I/O, 70 internal error.', '', 0)}`;

/** The positionals and the required flags, by the names the option list uses; then `[options]`. */
function usageLine(command: CommandName, flags: Record<string, FlagHelp>): string {
  const spec: { positionals: string[]; required?: string[]; variadic?: boolean; options: object } = COMMANDS[command];
  const shorts = shortsOf(spec.options);
  const required = (spec.required ?? []).map((name) => `${shorts[name] ? `-${shorts[name]}` : `--${name}`} ${flags[name]![0]}`);
  const positionals = spec.variadic ? [...spec.positionals, '[…]'] : spec.positionals;
  return [...positionals, ...required, ...(Object.keys(flags).length > (spec.required?.length ?? 0) ? ['[options]'] : [])].join(' ');
}

export function helpText(command?: CommandName): string {
  if (command) {
    const spec = COMMANDS[command];
    const flags = FLAG_HELP[command] as Record<string, FlagHelp>;
    const options = Object.keys(flags).length ? `\n\nOptions:\n${flagLines(flags, shortsOf(spec.options)).join('\n')}` : '';
    const presets = command === 'transcode' ? PRESET_NAMES : command === 'ladder' || command === 'normalize' ? AUDIO_PRESET_NAMES : [];
    const extra = presets.length ? `\n\n${wrap(`Presets: ${presets.join(', ')}`, '', 0)}` : '';
    return `${wrap(`sandcodec ${command} ${usageLine(command, flags)}`, 'Usage: ', 7)}\n\n${wrap(SUMMARY[command], '', 0)}${options}${extra}\n\n${COMMON}`;
  }
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => wrap(SUMMARY[n], `  ${n.padEnd(width)}  `, width + 4));
  return `Usage: sandcodec <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n${COMMON}\n\nRun 'sandcodec <command> --help' for a command's options.`;
}
