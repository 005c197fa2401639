// Packaging benchmark: a 1080p testsrc2 source with a tone → 4-rung H.264 ladder (1080p, 720p,
// 480p, 360p) + AAC 128k, 4 s CMAF segments, HLS + DASH, through `engine.package` on one worker;
// against native FFmpeg running the very same arguments (the engine's own plan), single-threaded
// like one engine worker, in the same run.
//   node bench/package.mjs [--seconds 60] [--runs 1]
// Build first: npx tsc -p tsconfig.json
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../dist/index.js';
import { outputFrameRate, packagePlan, resolvePackage, videoTargets } from '../dist/ops/package.js';
import { segmentFile } from '../dist/packaging/segmenter.js';
import { describeMachine, loadAverage, nativeFfmpegVersion } from './engine/machine.js';
import { runNative } from './engine/native.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, runs: { type: 'string', default: '1' } } });
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const LADDER = ['1080p', '720p', '480p', '360p'];
const AUDIO = ['aac-128'];
const SEGMENT = 4;

const dir = mkdtempSync(join(tmpdir(), 'sandcodec-bench-package-'));
const loadStart = loadAverage();
const engine = await createEngine({ workers: 1 });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  const source = join(dir, 'source.mp4');
  await engine.generateVideo({ seconds: SECONDS, width: 1920, height: 1080, frameRate: 30, output: source });
  const sourceProbe = await engine.probe({ path: source });
  const options = { video: LADDER, audio: AUDIO, segmentDuration: SEGMENT, formats: ['hls', 'dash'] };

  const engineTimes = [];
  let result;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    result = await engine.package({ path: source }, { ...options, outputDir: join(dir, `engine-${i}`), limits: { timeoutMs: 3 * 3600_000 } });
    engineTimes.push((performance.now() - started) / 1000);
  }

  // Native: the engine's own FFmpeg arguments, with host paths for the job's files.
  const resolved = resolvePackage({ ...options, outputDir: join(dir, 'native') });
  const video = sourceProbe.streams.find((s) => s.type === 'video');
  const audio = sourceProbe.streams.find((s) => s.type === 'audio');
  const { targets } = videoTargets(resolved.video, video);
  const files = {
    video: targets.map((target, i) => ({ target, name: `v${i}.mp4`, path: join(dir, `native-v${i}.mp4`) })),
    audio: resolved.audio.map((preset, i) => ({ preset, name: `a${i}.mp4`, path: join(dir, `native-a${i}.mp4`) })),
  };
  const plan = packagePlan(
    { source: { type: 'path', path: source }, ext: 'mp4', size: 0, label: source, release: async () => {} },
    video,
    audio,
    files,
    SEGMENT,
    outputFrameRate(video),
    resolved.x264Preset,
    { maxOutputBytes: 0, maxHeapBytes: 0, maxDurationSeconds: 0 },
  );
  const hostPath = (arg) => (arg === `/job/${plan.inputs[0].name}` ? source : arg.startsWith('/job/') ? join(dir, `native-${arg.slice(5)}`) : arg);
  const args = plan.args.map(hostPath);
  const nativeVersion = nativeFfmpegVersion();
  const nativeTimes = [];
  const chunkTimes = [];
  if (nativeVersion) {
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      await runNative([
        '-nostdin',
        '-y',
        '-hide_banner',
        '-loglevel',
        'error',
        '-filter_threads',
        '1',
        '-filter_complex_threads',
        '1',
        '-threads',
        '1',
        ...args.slice(0, 3),
        '-threads',
        '1',
        ...args.slice(3),
      ]);
      nativeTimes.push((performance.now() - started) / 1000);
      // The TypeScript chunking stage alone, over the native encoder's files.
      const chunkStart = performance.now();
      for (const f of [...files.video, ...files.audio]) {
        const out = join(dir, `chunks-${i}-${f.name}`);
        spawnSync('mkdir', ['-p', out]);
        await segmentFile(f.path, { segmentDuration: SEGMENT, dir: out });
      }
      chunkTimes.push((performance.now() - chunkStart) / 1000);
    }
  }

  const machine = describeMachine();
  const e = median(engineTimes);
  const n = nativeTimes.length ? median(nativeTimes) : undefined;
  const bytes = [...result.video, ...result.audio].reduce((sum, t) => sum + t.segments.reduce((s, x) => s + x.size, 0), 0);
  console.log(`## Packaging — ${new Date().toISOString().slice(0, 10)}`);
  console.log(
    `${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB} GiB, Node ${machine.node}, ${nativeVersion ?? 'no native ffmpeg'}; load average ${loadStart} → ${loadAverage()}; median of ${RUNS}`,
  );
  console.log('');
  console.log(`| job | engine wall | engine × realtime | native wall | native × realtime | engine / native |`);
  console.log(`|---|---:|---:|---:|---:|---:|`);
  console.log(
    `| ${SECONDS} s 1080p30 testsrc2 + tone → ${result.video.map((v) => v.id).join(', ')} + ${AUDIO.join(', ')}, ${SEGMENT} s segments, HLS + DASH | ${e.toFixed(1)} s | ${(SECONDS / e).toFixed(2)}× | ${n ? `${n.toFixed(1)} s` : '-'} | ${n ? `${(SECONDS / n).toFixed(2)}×` : '-'} | ${n ? `${(e / n).toFixed(2)}×` : '-'} |`,
  );
  console.log('');
  if (chunkTimes.length)
    console.log(`TypeScript chunking stage alone (5 renditions → ${result.video[0].segments.length} segments each): ${median(chunkTimes).toFixed(2)} s`);
  console.log(
    `Renditions: ${[...result.video, ...result.audio].map((t) => `${t.id} ${t.codecs} avg ${(t.averageBandwidth / 1000).toFixed(0)} / peak ${(t.bandwidth / 1000).toFixed(0)} kbit/s`).join('; ')}; ${(bytes / 1024 ** 2).toFixed(1)} MiB of segments`,
  );
  console.log(`Source: ${(statSync(source).size / 1024 ** 2).toFixed(1)} MiB H.264 (ultrafast, crf 12) + AAC, made by engine.generateVideo`);
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
}
