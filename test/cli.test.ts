/**
 * The `sandcodec` binary as a user runs it: real processes, real files, exit statuses and the
 * JSON shapes scripts parse. Results are checked with the library's own decode, not by trusting
 * what the CLI printed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIO_PRESET_NAMES,
  createEngine,
  type Engine,
  EXIT_STATUS,
  type LadderResult,
  type ProbeResult,
  type TranscodeResult,
  VIDEO_PRESET_NAMES,
  VIDEO_RUNG_NAMES,
} from '../dist/index.js';
import { makeTempDir, media, removeTempDir, repoRoot } from './helpers/media.js';

const BIN = join(repoRoot, 'dist', 'cli', 'main.js');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStdout` sees stdout as it arrives and may act on the child (e.g. signal it). */
function sandcodec(args: string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(stdout, child);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await makeTempDir('sandcodec-cli-');
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

describe('sandcodec without a command', () => {
  it('no arguments: the help on stderr, exit 2; --help: on stdout, exit 0; --version: the package version', async () => {
    const none = await sandcodec([]);
    expect([none.status, none.stdout]).toEqual([2, '']);
    expect(none.stderr).toMatch(/^Usage: sandcodec <command>/);
    const help = await sandcodec(['--help']);
    expect([help.status, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toBe(none.stderr);
    const version = await sandcodec(['--version']);
    const { version: packaged } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect([version.status, version.stdout]).toEqual([0, `${packaged}\n`]);
  });
});

describe('errors name the flag', () => {
  it.each([
    [['package', 'IN', '-o', 'DIR', '--ladder', '999p'], /^error \[E_OPTIONS\]: --ladder: must be a list of names from 1080p/],
    [
      ['package', 'IN', '-o', 'DIR', '--audio-only', '--segment-duration', '40'],
      /^error \[E_OPTIONS\]: --segment-duration: must be a number of seconds from 1 to 30/,
    ],
    [['package', 'IN', '-o', 'DIR', '--audio-only', '--encrypt', 'cenc', '--key-id', '12', '--key', '34'], /^error \[E_OPTIONS\]: --key-id: must be 16 bytes/],
    [['resize', 'IMG', '-o', 'OUT.jpg', '--width', '10', '--quality', '200'], /^error \[E_OPTIONS\]: --quality: must be an integer from 1 to 100, got 200/],
    [['cover', 'IMG', '-o', 'DIR', '--format', 'gif'], /^error \[E_OPTIONS\]: --format: must be one of jpeg, png, webp, got gif/],
    [['normalize', 'IN', '-o', 'OUT.ogg', '--target', '10'], /^error \[E_OPTIONS\]: --target: must be a loudness from -70 to 0 LUFS/],
    [['thumbnails', 'IN', '-o', 'DIR', '--sprite', '0x3'], /^error \[E_OPTIONS\]: --sprite: must be an integer from 1 to 100/],
    [['transcode', 'IN', '-o', 'OUT.mp3', '--bitrate', '200k'], /^error \[E_OPTIONS\]: --bitrate: must be an MP3 bitrate/],
    [['transcode', 'IN', '-o', 'OUT.ogg', '--codec', 'wma'], /^error \[E_OPTIONS\]: --codec: must be one of vorbis, opus, aac, mp3, flac, pcm/],
    [['transcode', 'IN', '-o', 'OUT.ogg', '--start', '1h'], /^error \[E_OPTIONS\]: --start: is past the end of the input/m],
    [['transcode', 'IN', '-o', 'OUT.ogg', '--duration', '1', '--fade-in', '1', '--fade-out', '1'], /^error \[E_OPTIONS\]: --fade-in: must fit/],
    [['transcode', 'IN', '-o', 'OUT.ogg', '--tag', 'title'], /^error \[E_OPTIONS\]: --tag: must be KEY=VALUE/],
    [['transcode', 'IN', '-o', 'OUT.mp4', '--size', '720'], /^error \[E_UNSUPPORTED\]: mp4-h264-aac needs a video stream/m],
  ])('%j', async (args, message) => {
    const files: Record<string, string> = {
      IN: media('audio', 'loop_amen.flac'),
      IMG: media('image', 'coffee.png'),
      DIR: join(dir, 'flags'),
      'OUT.jpg': join(dir, 'flags.jpg'),
      'OUT.ogg': join(dir, 'flags.ogg'),
      'OUT.mp3': join(dir, 'flags.mp3'),
      'OUT.mp4': join(dir, 'flags.mp4'),
    };
    const run = await sandcodec(args.map((a) => files[a] ?? a));
    expect(run.status).toBe(/E_UNSUPPORTED/.test(String(message)) ? EXIT_STATUS.E_UNSUPPORTED : EXIT_STATUS.E_OPTIONS);
    expect(run.stderr).toMatch(message);
  });
});

describe('sandcodec probe', () => {
  it('prints the ProbeResult of a real Vorbis file with --json', async () => {
    const run = await sandcodec(['probe', media('audio', 'renpyallstars.ogg'), '--json']);
    expect(run.status, run.stderr).toBe(0);
    const probe = JSON.parse(run.stdout) as ProbeResult;
    expect(probe.format).toBe('ogg');
    expect(probe.duration).toBeCloseTo(45, 0);
    const audio = probe.streams.filter((s) => s.type === 'audio');
    expect(audio).toHaveLength(1);
    expect(audio[0]).toMatchObject({ codec: 'vorbis', sampleRate: 44100, channels: 2 });
  });

  it('reports codec, rate, channels and decoded duration in the readable form', async () => {
    const run = await sandcodec(['probe', media('audio', 'alsa-Front_Center.wav'), '--decode']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^format\s+wav/m);
    expect(run.stdout).toMatch(/#0 audio: pcm_s16le, 48 kHz, 1 ch, s16, 16-bit/);
    expect(run.stdout).toMatch(/decoded: 1\.\d{3} s/);
  });

  it('refuses a file that is not media with exit status 3 and the JSON error shape', async () => {
    // A `.txt` name would not do: FFmpeg's tty demuxer reads any text file as ANSI art video.
    const notMedia = join(repoRoot, 'package.json');
    const run = await sandcodec(['probe', notMedia, '--json']);
    expect(run.status).toBe(3);
    expect(run.status).toBe(EXIT_STATUS.E_INPUT_INVALID);
    const body = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error)).toEqual(['code', 'message']);
    expect(body.error.code).toBe('E_INPUT_INVALID');
    expect(body.error.message).toMatch(/\S/);
    expect(run.stdout).toBe(`${JSON.stringify(body)}\n`);
  });

  it('prints `error [CODE]: message` on stderr without --json', async () => {
    const run = await sandcodec(['probe', join(dir, 'missing.flac')]);
    expect(run.status).toBe(EXIT_STATUS.E_INPUT_INVALID);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error \[E_INPUT_INVALID\]: no such file: .*missing\.flac\n$/);
  });
});

describe('usage errors', () => {
  it('exits 2 on an unknown command', async () => {
    const run = await sandcodec(['frobnicate', 'x']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error \[E_OPTIONS\]: .*frobnicate/);
  });

  it('answers in JSON with --json, unknown flags and missing arguments included', async () => {
    for (const args of [
      ['frobnicate', '--json'],
      ['probe', '--json', '--bogus', 'x'],
      ['transcode', 'in.flac', '--json'],
      ['ladder', 'in.flac', '-o', dir, '--json'],
    ]) {
      const run = await sandcodec(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect((JSON.parse(run.stdout) as { error: { code: string } }).error.code).toBe('E_OPTIONS');
    }
  });

  it('exits 2 for a bad flag value and an output name that implies no preset', async () => {
    const workers = await sandcodec(['probe', media('audio', 'loop_amen.flac'), '--workers', 'two']);
    expect(workers.status).toBe(2);
    expect(workers.stderr).toContain('--workers');
    const aac = await sandcodec(['transcode', media('audio', 'loop_amen.flac'), '-o', join(dir, 'x.aac')]);
    expect(aac.status).toBe(2);
    expect(aac.stderr).toContain('--preset');
  });

  it('maps a limit to its own exit status', async () => {
    const run = await sandcodec(['probe', media('audio', 'renpyallstars.ogg'), '--max-input-bytes', '64k', '--json']);
    expect(run.status).toBe(EXIT_STATUS.E_LIMIT);
    expect((JSON.parse(run.stdout) as { error: { code: string } }).error.code).toBe('E_LIMIT');
  });

  it('prints the version from package.json and lists the presets', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect((await sandcodec(['--version'])).stdout.trim()).toBe(pkg.version);
    const presets = JSON.parse((await sandcodec(['presets', '--json'])).stdout) as {
      audio: { name: string }[];
      video: { name: string }[];
      ladder: { name: string }[];
      images: { formats: Record<string, unknown>; coverSizes: number[] };
    };
    expect(presets.audio.map((p) => p.name)).toEqual([...AUDIO_PRESET_NAMES]);
    expect(presets.video.map((p) => p.name)).toEqual([...VIDEO_PRESET_NAMES]);
    expect(presets.ladder.map((p) => p.name)).toEqual([...VIDEO_RUNG_NAMES]);
    expect(Object.keys(presets.images.formats)).toEqual(['jpeg', 'png', 'webp']);
    const table = (await sandcodec(['presets'])).stdout;
    for (const name of [...AUDIO_PRESET_NAMES, ...VIDEO_PRESET_NAMES, ...VIDEO_RUNG_NAMES]) expect(table).toContain(name);
    for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('version names the FFmpeg core in use, its licence and components; --core picks another or is refused', async () => {
    const builtin = JSON.parse((await sandcodec(['version', '--json'])).stdout) as {
      sandcodec: string;
      core: { name: string; kind: string; licence: string; ffmpeg: string; components: Record<string, string[]> };
    };
    expect(builtin.core).toMatchObject({ name: 'gpl', kind: 'built', licence: 'GPL version 2 or later', ffmpeg: '5.1.9' });
    expect(builtin.core.components.decoders).toEqual(expect.arrayContaining(['h264', 'hevc', 'libdav1d', 'flac']));
    expect(builtin.core.components.encoders).toEqual(expect.arrayContaining(['libx264', 'aac', 'libopus', 'libvorbis', 'libmp3lame']));
    const stock = await sandcodec(['version', '--core', 'stock']);
    expect(stock.stdout).toMatch(/^core: stock \(@ffmpeg\/core\), FFmpeg 5\.1\.4 \(@ffmpeg\/core 0\.12\.10\)$/m);
    // A job runs on the core named.
    const probe = await sandcodec(['probe', media('audio', 'illurock.opus'), '--json', '--core', 'stock']);
    expect(probe.status).toBe(0);
    const refused = await sandcodec(['probe', media('audio', 'illurock.opus'), '--core', 'x265']);
    expect(refused.status).toBe(EXIT_STATUS.E_OPTIONS);
    expect(refused.stderr).toMatch(/^error \[E_OPTIONS\]: --core: must be one of stock, gpl, lgpl/m);
    const noThreads = await sandcodec(['probe', media('audio', 'illurock.opus'), '--core', 'stock', '--video-threads', '2']);
    expect(noThreads.status).toBe(EXIT_STATUS.E_OPTIONS);
    expect(noThreads.stderr).toMatch(/^error \[E_OPTIONS\]: --video-threads: above 1 needs a multithreaded FFmpeg core, and core stock has none/m);
  });
});

describe('sandcodec transcode', () => {
  it('writes an MP3 (preset from the extension) as long as the source when decoded', async () => {
    const source = media('audio', 'ambi_lunar_land.flac');
    const out = join(dir, 'transcode', 'lunar.mp3');
    const run = await sandcodec(['transcode', source, '-o', out]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('mp3-320');
    expect(run.stdout).toMatch(/realtime/);

    const [written, original] = await Promise.all([engine.probe({ path: out }, { decode: true }), engine.probe({ path: source }, { decode: true })]);
    const audio = written.streams.find((s) => s.type === 'audio');
    expect(audio?.codec).toBe('mp3');
    expect(audio?.sampleRate).toBe(44100);
    expect(Math.abs(written.decodedDuration! - original.decodedDuration!)).toBeLessThan(0.05);
  });

  it('trims, fades, changes the preset and tags from flags', async () => {
    const out = join(dir, 'transcode', 'preview.m4a');
    const run = await sandcodec([
      'transcode',
      media('audio', 'ambi_lunar_land.flac'),
      '-o',
      out,
      ...['--start', '1.5s', '--duration', '3', '--fade-in', '500ms', '--fade-out', '1', '--bitrate', '96k', '--channels', '1', '--tag', 'title=Preview'],
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/aac-256 with bitrate 96000, channels 1/);
    expect(run.stdout).toMatch(/kept +3\.000 s from 1\.500 s/);
    const back = await engine.probe({ path: out }, { decode: true });
    expect(back.streams[0]).toMatchObject({ codec: 'aac', channels: 1 });
    expect(back.tags.title).toBe('Preview');
    expect(back.decodedDuration).toBeGreaterThan(2.99);
    expect(back.decodedDuration).toBeLessThan(3.03);
  });

  it('-o .mp4 picks the H.264 video preset', async () => {
    const source = join(dir, 'transcode', 'clip-source.mp4');
    await engine.generateVideo({ seconds: 1, width: 320, height: 240, output: source });
    const out = join(dir, 'transcode', 'clip.mp4');
    const run = await sandcodec(['transcode', source, '-o', out, '--size', '120', '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ preset: 'mp4-h264-aac', custom: { size: 120 }, video: { codec: 'h264', width: 160, height: 120 } });
    const back = await engine.probe({ path: out });
    expect(back.streams.map((s) => s.codec)).toEqual(['h264', 'aac']);
  });

  it('prints the result without bytes with --json', async () => {
    const out = join(dir, 'transcode', 'amen.opus');
    const run = await sandcodec(['transcode', media('audio', 'loop_amen.flac'), '-o', out, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as TranscodeResult;
    expect(result).toMatchObject({ preset: 'opus-160', codec: 'opus', path: out });
    expect(result.bytes).toBeUndefined();
    expect(result.size).toBe((await readFile(out)).byteLength);
  });
});

describe('--progress', () => {
  const transcode = (...extra: string[]) =>
    sandcodec(['transcode', media('audio', 'ambi_lunar_land.flac'), '-o', join(dir, 'progress', 'lunar.ogg'), '--force', ...extra]);

  it('json: one object per line on stderr, the last at ratio 1, like ffmpeg -progress', async () => {
    const run = await transcode('--progress', 'json');
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(Object.keys(line)).toEqual(['label', 'phase', 'ratio', 'seconds', 'speed', 'eta']);
    const ratios = lines.map((l) => l.ratio as number);
    expect(ratios).toEqual([...ratios].sort((a, b) => a - b));
    // The label is what the command runs (the preset), the phase what the call is doing.
    expect(lines.at(-1)).toMatchObject({ label: 'vorbis-160', phase: 'transcode', ratio: 1, eta: 0 });
    expect(lines.at(-1)!.seconds as number).toBeGreaterThan(1);
  });

  it('an existing output is refused without --force, replaced with it or with -y (as in ffmpeg)', async () => {
    // The helper passes --force: the output is there afterwards either way.
    expect((await transcode('--progress', 'none')).status).toBe(0);
    const out = join(dir, 'progress', 'lunar.ogg');
    const again = await sandcodec(['transcode', media('audio', 'ambi_lunar_land.flac'), '-o', out, '--progress', 'none']);
    expect(again.status).toBe(EXIT_STATUS.E_OPTIONS);
    expect(again.stderr).toMatch(/lunar\.ogg exists; .*--force/);
    const yes = await sandcodec(['transcode', media('audio', 'ambi_lunar_land.flac'), '-o', out, '--progress', 'none', '-y']);
    expect(yes.status, yes.stderr).toBe(0);
  });

  it('--quiet prints nothing but errors; --json still answers; --progress still shows when asked', async () => {
    const quiet = await transcode('--quiet');
    expect([quiet.status, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
    const json = await transcode('--quiet', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ preset: 'vorbis-160' });
    const asked = await transcode('--quiet', '--progress', 'json');
    expect(asked.stdout).toBe('');
    expect(asked.stderr).toMatch(/"ratio":1/);
    const failed = await sandcodec(['transcode', join(dir, 'missing.flac'), '-o', join(dir, 'progress', 'x.ogg'), '--quiet']);
    expect(failed.stderr).toMatch(/^error \[E_INPUT_INVALID\]/);
  });

  it('lines, the default when stderr is not a terminal: plain lines, the last at 100 %; none: nothing', async () => {
    const run = await transcode();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr.trim().split('\n').at(-1)).toMatch(/^vorbis-160 transcode 100% \(\d+\.\d s of media(, [\d.]+×)?, 0 s left\)$/);
    const quiet = await transcode('--progress', 'none');
    expect([quiet.status, quiet.stderr]).toEqual([0, '']);
    const bad = await transcode('--progress', 'loud');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error \[E_OPTIONS\]: --progress: must be bar, lines, json or none, got "loud"/m);
  });
});

describe('sandcodec ladder', () => {
  it('writes two renditions and tabulates them', async () => {
    const out = join(dir, 'ladder');
    const run = await sandcodec(['ladder', media('audio', 'loop_amen.flac'), '-o', out, '--presets', 'vorbis-96,aac-128']);
    expect(run.status, run.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['loop_amen.aac-128.m4a', 'loop_amen.vorbis-96.ogg']);
    expect(run.stdout).toMatch(/^vorbis-96\s+vorbis\s+loop_amen\.vorbis-96\.ogg\s/m);
    expect(run.stdout).toMatch(/^aac-128\s+aac\s+loop_amen\.aac-128\.m4a\s/m);
    expect(run.stdout).toMatch(/2 renditions of 1\.\d\d s in .* realtime/);

    const vorbis = await engine.probe({ path: join(out, 'loop_amen.vorbis-96.ogg') });
    expect(vorbis.streams[0]).toMatchObject({ codec: 'vorbis', sampleRate: 44100, channels: 2 });
    const aac = await engine.probe({ path: join(out, 'loop_amen.aac-128.m4a') });
    expect(aac.streams[0]?.codec).toBe('aac');
  });

  it('prints the LadderResult with --json', async () => {
    const out = join(dir, 'ladder-json');
    const run = await sandcodec(['ladder', media('audio', 'loop_amen.flac'), '-o', out, '--presets', 'flac,mp3-320', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as LadderResult;
    expect(result.renditions.map((r) => [r.preset, r.codec])).toEqual([
      ['flac', 'flac'],
      ['mp3-320', 'mp3'],
    ]);
    for (const r of result.renditions) expect(existsSync(r.path!)).toBe(true);
    expect(result.realtimeFactor).toBeGreaterThan(0);
  });
});

describe('sandcodec demo', () => {
  // The demo's default is 30 s; 5 s runs the same path in a fraction of the time.
  it('generates music, encodes the whole ladder and checks each rendition by decoding it', async () => {
    const out = join(dir, 'demo');
    const run = await sandcodec(['demo', '-o', out, '--seconds', '5']);
    expect(run.status, run.stderr).toBe(0);
    const presets = ['vorbis-96', 'vorbis-160', 'vorbis-320', 'opus-96', 'opus-160', 'aac-128', 'aac-256', 'mp3-320', 'flac'];
    const files = await readdir(out);
    expect(files).toContain('sample-music.flac');
    for (const preset of presets) {
      const row = new RegExp(`^${preset}\\s+\\w+\\s+(sample-music\\.${preset}\\.\\w+)\\s.*\\s(\\d+\\.\\d{3}) s$`, 'm').exec(run.stdout);
      expect(row, `row of ${preset}`).not.toBeNull();
      expect(files).toContain(row![1]);
      expect(Math.abs(Number(row![2]) - 5)).toBeLessThan(0.05);
    }
    expect(run.stdout).toMatch(/source\s+.*sample-music\.flac\n\s+flac, 5\.00 s, 44\.1 kHz, 2 ch/);
    expect(run.stdout).toMatch(/^preset\s+codec\s+file\s+size\s+bitrate\s+nominal\s+vs nominal\s+decoded$/m);
    expect(run.stdout).toMatch(/9 renditions of 5\.00 s in .* realtime/);
    // The tour's video: H.264 and AAC, 6 s of 640×360.
    expect(run.stdout).toMatch(/^video\s+.*sample-video\.mp4\n\s+6\.00 s, 640×360 at 24 fps, H\.264 and AAC/m);
    const video = await engine.probe({ path: join(out, 'sample-video.mp4') }, { decode: true });
    expect(video.streams.map((st) => st.codec)).toEqual(['h264', 'aac']);
    expect([video.streams[0]!.width, video.streams[0]!.height]).toEqual([640, 360]);
    expect(video.decodedDuration).toBeCloseTo(6, 1);
  });

  it('stops on Ctrl-C with the aborted status and leaves no partial files', async () => {
    const out = join(dir, 'demo-abort');
    let sent = false;
    // The first line is printed once the engine is up, right before the (long) generate starts.
    const run = await sandcodec(['demo', '-o', out, '--seconds', '3600'], (text, child) => {
      if (!sent && text.includes('\n')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(run.status, run.stderr).toBe(EXIT_STATUS.E_ABORTED);
    // (Progress lines may come first: stderr is not a terminal, so they are plain lines.)
    expect(run.stderr).toMatch(/^error \[E_ABORTED\]/m);
    const left = existsSync(out) ? await readdir(out) : [];
    expect(left).toEqual([]);
  });
});
