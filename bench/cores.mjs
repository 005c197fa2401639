#!/usr/bin/env node
// The FFmpeg cores side by side, in one run: the stock @ffmpeg/core and every core committed under
// wasm-build/dist/, with native FFmpeg as the reference where it is installed. Per core: wasm size,
// compile and instantiate time, a fresh-process probe, every audio preset, a loudness scan, a 720p
// x264 veryfast encode (1 thread, and 2 on a multithreaded core) and an H.264 decode. Prints markdown and writes it into
// BENCHMARKS.md between the cores-bench markers.
// The timed jobs alternate between the cores, run by run, so the machine's changing load falls on all.
// Usage: npm run build && node --expose-gc bench/cores.mjs [--quick] [--no-write] [--cores stock,gpl-st]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AUDIO_PRESET_NAMES, AUDIO_PRESETS, createEngine } from '../dist/index.js';
import { compileCore } from '../dist/pool/core-module.js';
import { builtCoresDir, resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { describeMachine, loadAverage, nativeFfmpegVersion } from './engine/machine.js';
import { median, sample } from './engine/measure.js';
import { nativeArgs, runNative } from './engine/native.js';
import { ms, table, x } from './engine/report.js';

const quick = process.argv.includes('--quick');
const write = !process.argv.includes('--no-write');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = readdirSync(builtCoresDir()).filter((n) => statSync(join(builtCoresDir(), n)).isDirectory());
const coresArg = process.argv.indexOf('--cores');
const cores = coresArg > 0 ? process.argv[coresArg + 1].split(',') : ['stock', ...built];
const MUSIC_SECONDS = quick ? 5 : 30;
const VIDEO_SECONDS = quick ? 2 : 10;
const RUNS = quick ? 1 : 3;
const log = (line) => process.stderr.write(`${line}\n`);
const native = nativeFfmpegVersion();
const startedAt = new Date();
const loadBefore = loadAverage();

const dir = await mkdtemp(join(tmpdir(), 'sandcodec-cores-bench-'));
const music = join(dir, 'music.flac');
const video = join(dir, 'video-720p.mp4');

// Sources made once, by the stock core (what makes them does not matter, only that all read the same bytes).
{
  const engine = await createEngine({ workers: 1, core: 'stock' });
  await engine.generate({ kind: 'music', seconds: MUSIC_SECONDS, sampleRate: 44100, channels: 2, preset: 'flac', output: music });
  await engine.generateVideo({ seconds: VIDEO_SECONDS, width: 1280, height: 720, frameRate: 30, output: video });
  await engine.close();
}
const videoBytes = new Uint8Array(await readFile(video));
const probeFile = join(root, 'test', 'fixtures', 'audio', 'loop_amen.flac');

/** One FFmpeg run on a fresh core with `/in.mp4` in its FS (the time counted is the whole call). */
async function coreRun(files, module, args, threads = 1) {
  const core = await FFmpegCore.create(module, { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: 1024 ** 3, core: files });
  core.setThreads(threads);
  core.FS.writeFile('/in.mp4', videoBytes);
  const started = performance.now();
  const exit = await core.exec(['-hide_banner', '-loglevel', 'error', ...args]);
  const took = performance.now() - started;
  if (exit.code !== 0) throw new Error(`${files.name}: ffmpeg ${args.join(' ')} exited ${exit.code}`);
  return took;
}

const X264 = ['-threads', '1', '-i', '/in.mp4', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-threads', '1', '-f', 'null', '-'];
// The same encode on x264's C functions (asm=0): what its SIMD128 kernels are worth, in one core.
// Frame threads on a multithreaded core (and natively): what a second thread gives one encode.
const X264_2 = X264.map((a, i) => (X264[i - 1] === '-threads' ? '2' : a));
const X264_C = [...X264.slice(0, -3), '-x264-params', 'asm=0', '-f', 'null', '-'];
const OPENH264 = ['-threads', '1', '-i', '/in.mp4', '-an', '-c:v', 'libopenh264', '-b:v', '2800000', '-threads', '1', '-f', 'null', '-'];
const DECODE = ['-threads', '1', '-i', '/in.mp4', '-an', '-f', 'null', '-'];
// A ladder rung's picture path: decode and a bicubic downscale; `-cpuflags 0` runs swscale's C code.
const SCALE = ['-threads', '1', '-i', '/in.mp4', '-an', '-vf', 'scale=640:360:flags=bicubic', '-f', 'null', '-'];
const SCALE_C = ['-cpuflags', '0', ...SCALE];

function freshCommand(cmd, args) {
  const times = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    const started = performance.now();
    spawnSync(cmd, args, { stdio: 'ignore' });
    times.push(performance.now() - started);
  }
  return median(times);
}

// Static facts and start-up, core by core; then every timed job alternates between the cores
// (one run of each in turn, RUNS rounds), so a change in the machine's load falls on all of them.
const results = {};
const modules = {};
for (const name of cores) {
  log(`\n== core ${name}`);
  const files = resolveCore(name);
  const wasm = readFileSync(files.wasm);
  const r = { name, files, licence: files.licence, bytes: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length, presets: {} };
  r.compileMs = median(
    await Promise.all(
      [0, 1, 2].map(async () => {
        const started = performance.now();
        await WebAssembly.compile(wasm);
        return performance.now() - started;
      }),
    ),
  );
  modules[name] = await compileCore(files);
  const inst = await sample(
    async () => {
      await FFmpegCore.create(modules[name], { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: 256 * 1024 ** 2, core: files });
    },
    { min: 3, max: 5 },
  );
  r.instantiateMs = inst.ms;
  log(`  ${(r.bytes / 1e6).toFixed(1)} MB, compile ${ms(r.compileMs)} ms, ready ${ms(r.instantiateMs)} ms`);
  results[name] = r;
}

/** Median of RUNS rounds, each round timing `fn(core)` once per core in turn. */
async function alternating(label, fn, which = cores) {
  const times = Object.fromEntries(which.map((c) => [c, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const name of which) {
      globalThis.gc?.();
      const started = performance.now();
      await fn(name);
      times[name].push(performance.now() - started);
    }
  }
  const medians = Object.fromEntries(which.map((c) => [c, median(times[c])]));
  log(`  ${label}: ${which.map((c) => `${c} ${ms(medians[c])}`).join(', ')}`);
  return medians;
}

const probeTimes = Object.fromEntries(cores.map((c) => [c, []]));
for (let round = 0; round < (quick ? 2 : 5); round++) {
  for (const name of cores) {
    const started = performance.now();
    const r = spawnSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'probe', probeFile, '--json', '--core', name], { encoding: 'utf8' });
    probeTimes[name].push(performance.now() - started);
    if (r.status !== 0) throw new Error(`probe with --core ${name} failed: ${r.stderr}`);
  }
}
for (const name of cores) results[name].freshProbeMs = median(probeTimes[name]);
log(`  fresh-process probe: ${cores.map((c) => `${c} ${ms(results[c].freshProbeMs)}`).join(', ')}`);

const engines = {};
for (const name of cores) engines[name] = await createEngine({ workers: 1, core: name });
for (const preset of AUDIO_PRESET_NAMES) {
  const m = await alternating(preset, (name) => engines[name].transcode({ path: music }, { preset }));
  for (const name of cores) results[name].presets[preset] = m[name];
}
const loud = await alternating('loudness', (name) => engines[name].loudness({ path: music }));
for (const name of cores) results[name].loudnessMs = loud[name];
for (const e of Object.values(engines)) await e.close();
const withX264 = cores.filter((c) => results[c].files.h264Encoder === 'libx264');
const withOpenH264 = cores.filter((c) => results[c].files.h264Encoder === 'libopenh264');
const builtCores = cores.filter((c) => results[c].files.kind === 'built');
const run = (args, threads) => (name) => coreRun(results[name].files, modules[name], args, threads);
const x264 = await alternating('x264', run(X264), withX264);
const threadedX264 = withX264.filter((c) => results[c].files.threaded);
const x264Two = await alternating('x264 2 threads', run(X264_2, 2), threadedX264);
const x264C = await alternating(
  'x264 asm=0',
  run(X264_C),
  withX264.filter((c) => builtCores.includes(c)),
);
const openh264 = await alternating('openh264', run(OPENH264), withOpenH264);
const decode = await alternating('decode', run(DECODE));
const scale = await alternating('decode + scale', run(SCALE));
const scaleC = await alternating('decode + scale -cpuflags 0', run(SCALE_C), builtCores);
for (const name of cores) {
  Object.assign(results[name], {
    x264Ms: x264[name],
    x264TwoMs: x264Two[name],
    x264CMs: x264C[name],
    openh264Ms: openh264[name],
    decodeMs: decode[name],
    scaleMs: scale[name],
    scaleCMs: scaleC[name],
  });
}

// Native references, in the same run.
const ref = {};
ref.nodeMs = freshCommand(process.execPath, ['-e', '0']);
if (native) {
  ref.ffprobeMs = freshCommand('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', probeFile]);
  const source = await (await createEngine({ workers: 1 })).probe({ path: music });
  ref.presets = {};
  for (const preset of AUDIO_PRESET_NAMES) {
    const out = join(dir, `native.${AUDIO_PRESETS[preset].extension}`);
    const audio = source.streams.find((s) => s.type === 'audio');
    ref.presets[preset] = (await sample(() => runNative(nativeArgs(music, audio, AUDIO_PRESETS[preset], out)), { min: RUNS, max: RUNS })).ms;
  }
  const nativeRun = (args) =>
    sample(() => runNative(['-nostdin', '-y', '-hide_banner', '-loglevel', 'error', ...args.map((a) => (a === '/in.mp4' ? video : a))]), {
      min: RUNS,
      max: RUNS,
    });
  ref.x264Ms = (await nativeRun(X264)).ms;
  ref.x264TwoMs = (await nativeRun(X264_2)).ms;
  ref.decodeMs = (await nativeRun(DECODE)).ms;
  ref.scaleMs = (await nativeRun(SCALE)).ms;
}

const names = Object.keys(results);
const lines = [];
lines.push(`Machine: ${JSON.stringify(describeMachine())}; load before ${loadBefore}, after ${loadAverage()}; ${startedAt.toISOString().slice(0, 10)}.`);
lines.push(
  `Native reference: ${native ?? 'not installed'}. Sources: ${MUSIC_SECONDS} s of generated music (FLAC, 44.1 kHz stereo), ${VIDEO_SECONDS} s of 720p30 H.264 (testsrc2). Medians of ${RUNS} runs; times in ms.`,
);
lines.push('');
const header = ['', ...names, 'native'];
/** A row of times, each with its ratio to native where there is one; — where a core cannot run it. */
function timed(label, key, native) {
  return [
    label,
    ...names.map((n) => (results[n][key] === undefined ? '—' : `${ms(results[n][key])}${native ? ` (${x(results[n][key] / native)})` : ''}`)),
    ms(native),
  ];
}
const rows = [
  ['wasm size (MB) / gzip', ...names.map((n) => `${(results[n].bytes / 1e6).toFixed(1)} / ${(results[n].gzip / 1e6).toFixed(1)}`), '—'],
  ['compile (ms)', ...names.map((n) => ms(results[n].compileMs)), '—'],
  ['core ready: instantiate + self-tests (ms)', ...names.map((n) => ms(results[n].instantiateMs)), '—'],
  [`fresh-process probe (ms; \`node -e 0\` ${ms(ref.nodeMs)})`, ...names.map((n) => ms(results[n].freshProbeMs)), ms(ref.ffprobeMs)],
  ...AUDIO_PRESET_NAMES.map((p) => [
    `${p} (ms)`,
    ...names.map((n) => `${ms(results[n].presets[p])}${ref.presets ? ` (${x(results[n].presets[p] / ref.presets[p])})` : ''}`),
    ms(ref.presets?.[p]),
  ]),
  ['loudness scan (ms)', ...names.map((n) => ms(results[n].loudnessMs)), '—'],
  timed('x264 720p veryfast, 1 thread (ms)', 'x264Ms', ref.x264Ms),
  [
    'x264 720p veryfast, 2 threads (ms; speed-up over 1 thread)',
    ...names.map((n) => (results[n].x264TwoMs ? `${ms(results[n].x264TwoMs)} (${x(results[n].x264Ms / results[n].x264TwoMs)})` : '—')),
    ref.x264TwoMs ? `${ms(ref.x264TwoMs)} (${x(ref.x264Ms / ref.x264TwoMs)})` : '—',
  ],
  [
    'x264 on its C functions (`asm=0`): SIMD128 speed-up',
    ...names.map((n) => (results[n].x264CMs ? `${ms(results[n].x264CMs)} (${x(results[n].x264CMs / results[n].x264Ms)})` : '—')),
    '—',
  ],
  timed('OpenH264 720p at 2.8 Mbit/s, 1 thread (ms)', 'openh264Ms', undefined),
  timed('H.264 720p decode, 1 thread (ms)', 'decodeMs', ref.decodeMs),
  timed('decode + bicubic scale to 640x360 (ms)', 'scaleMs', ref.scaleMs),
  [
    'the same on swscale’s C code (`-cpuflags 0`): SIMD128 speed-up',
    ...names.map((n) => (results[n].scaleCMs ? `${ms(results[n].scaleCMs)} (${x(results[n].scaleCMs / results[n].scaleMs)})` : '—')),
    '—',
  ],
];
lines.push(table(header, rows));
const markdown = lines.join('\n');
console.log(markdown);

if (write) {
  const file = join(root, 'BENCHMARKS.md');
  const BEGIN = '<!-- cores-bench:begin (written by `node bench/cores.mjs`) -->';
  const END = '<!-- cores-bench:end -->';
  let text = readFileSync(file, 'utf8');
  const block = `${BEGIN}\n${markdown}\n${END}`;
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  text = a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + END.length) : `${text.trimEnd()}\n\n## FFmpeg cores\n\n${block}\n`;
  writeFileSync(file, text);
}
await rm(dir, { recursive: true, force: true });
process.exit(0);
