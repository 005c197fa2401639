/** The CLI's --help texts. */
import { AUDIO_PRESET_NAMES } from '../model/presets.js';
import { COMMANDS, type CommandName, usage } from './args.js';

const SUMMARY: Record<CommandName, string> = {
  probe: 'show the format and streams of a media file (--decode also measures the decoded duration)',
  transcode: "encode the audio of IN to OUT; the preset follows OUT's extension unless --preset is given",
  ladder: 'encode several presets from one decode of IN into DIR (--output), e.g. --presets vorbis-96,opus-160',
  presets: 'list the audio presets',
  version: "show the package's version and the FFmpeg core in use (--core NAME): its licence and enabled components",
  loudness: 'measure EBU R128 loudness: integrated (LUFS), range (LU), true peak (dBTP), sample peak, max momentary and short-term',
  normalize:
    'write IN to OUT at --target LUFS (default -14) under --true-peak dBTP (default -1); --policy gain|limit; --album A B C -o DIR gives a set one gain',
  peaks: 'write waveform peaks of IN as audiowaveform JSON (version 2) to OUT; --pixels-per-second N (default 20), --bits 8|16',
  demo: 'generate 30 s of music-like audio and encode the full ladder into DIR (default ./out)',
  resize: 'resize an image to OUT (.jpg, .png, .webp); --fit fill|contain|cover|inside|outside, --position centre|top|top-left|…, --kernel lanczos3|…',
  package:
    'package IN for adaptive streaming into DIR: H.264 ladder (--ladder 1080p,720p,480p,360p) and audio (--audio aac-128,aac-64) as CMAF segments; --format hls|dash|both, --segment-duration S, --chunk-seconds S (video encoded in chunks of whole segments on every worker), --audio-only, --segment-template "seg-$Number%05d$.m4s" and --init-template NAME ($RepresentationID$ allowed), or --single-file (one file per rendition with a sidx: DASH SegmentBase, HLS byte ranges); --subtitles LANG=PATH (WebVTT, repeatable) and --audio-language LANG / --audio-name NAME; --encrypt cenc|cbcs --key-id HEX --key HEX|env:NAME [--clear-lead S] [--pssh clearkey,widevine] for Common Encryption, or --hls-aes128 --key HEX|env:NAME --key-uri URI (HLS only)',
  thumbnails: 'write a poster, an image every --every S seconds (default 10) and storyboard sprites (--sprite 10x10 --width 160) with a WebVTT track into DIR',
  cover: 'write a cover-art set (default 640, 300, 64 px JPEG) of IN into DIR from one decode; --sizes 640,300,64',
};

const COMMON = `Common options:
  --json                 print results (and errors) as JSON on stdout
  --workers N            worker threads (default: available parallelism)
  --core NAME            FFmpeg core: gpl (default), lgpl, stock, or a core's folder
  --video-threads N      threads per video encode (default 1); above 1 the package's video jobs
                         run on the multithreaded core (gpl-mt)
  --timeout DUR          wall-clock limit per job
  --max-input-bytes N    refuse larger inputs (accepts 64k, 200M, 2G)
  --max-duration DUR     refuse inputs playing longer than DUR
  --progress MODE        progress on stderr: bar (default on a terminal), lines (a line every
                         5 s, the default elsewhere), json (an object per line, twice a
                         second: label, phase, ratio, seconds, speed, eta), none
  -v, --verbose          on errors, also print FFmpeg's last log lines
  -h, --help             show help
  --version              show the version

Durations (DUR: --timeout, --max-duration, --segment-duration, --every, …) are seconds, or
written with units or as a clock: 90, 90s, 1m30s, 1500ms, 01:30.

Exit status: 0 ok, 2 usage or options, 3 invalid input, 4 unsupported, 5 limit, 6 timeout,
7 aborted (Ctrl-C), 8 queue full or closed, 9 FFmpeg failure, 10 I/O, 70 internal error.`;

export function helpText(command?: CommandName): string {
  if (command) {
    const extra = command === 'transcode' || command === 'ladder' || command === 'normalize' ? `\n\nPresets: ${AUDIO_PRESET_NAMES.join(', ')}` : '';
    return `Usage: sandcodec ${command} ${usage(command)}\n\n${SUMMARY[command]}${extra}\n\n${COMMON}`;
  }
  const names = Object.keys(COMMANDS) as CommandName[];
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${SUMMARY[n]}`);
  return `Usage: sandcodec <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n${COMMON}\n\nRun 'sandcodec <command> --help' for a command's options.`;
}
