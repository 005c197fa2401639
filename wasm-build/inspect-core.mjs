#!/usr/bin/env node
// Checks an FFmpeg core build against what sandcodec relies on, before it is pinned: the
// minified exports and imports that src/worker/ffmpeg/stock-core.ts patches, and every encoder, muxer and
// demuxer the presets use. Prints the core's version and configure line. Exit 1 on a mismatch.
//   node wasm-build/inspect-core.mjs            (after `npm run build`)
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';

const REQUIRED = {
  encoders: ['libvorbis', 'libopus', 'aac', 'libmp3lame', 'flac', 'pcm_s16le', 'pcm_s24le'],
  muxers: ['ogg', 'opus', 'ipod', 'mp3', 'flac', 'wav', 'null'],
  demuxers: ['ogg', 'flac', 'mp3', 'wav', 'aiff', 'mov,mp4,m4a,3gp,3g2,mj2', 'matroska,webm', 'lavfi'],
};

// The stock core (@ffmpeg/core): the built cores are checked by test/cores.test.ts instead.
const stock = resolveCore('stock');
const module = await compileCore(stock);
const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
const imports = new Map(WebAssembly.Module.imports(module).map((i) => [i.name, i.kind]));
const problems = [];
for (const name of ['Da', 'Ea', 'ta', 'ya', 'za']) if (!exports.has(name)) problems.push(`export ${name} missing`);
for (const name of ['N', 'v', 'J', 'k']) if (imports.get(name) !== 'function') problems.push(`import ${name} missing`);

// Instantiating runs the stack self-test; a drifted build fails here with a clear message.
const core = await FFmpegCore.create(module, { cancelFlag: new Int32Array(new SharedArrayBuffer(4)), heapBudget: 2 ** 31, core: stock });
const run = (args) => {
  const lines = [];
  // Listings and -version go to stdout, which the core hands to its (private) stdout sink.
  core.stdoutSink = (line) => lines.push(line);
  core.setRecordSink((record) => lines.push(...record.text.split('\n')));
  core.exec(['-hide_banner', '-loglevel', 'info', ...args]);
  return lines;
};
const version = run(['-version']);
console.log(version.slice(0, 3).join('\n'));
for (const [kind, names] of Object.entries(REQUIRED)) {
  const listed = run([`-${kind}`]).join('\n');
  for (const name of names) {
    const re = new RegExp(`\\s${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`);
    if (!re.test(listed)) problems.push(`${kind.slice(0, -1)} ${name} missing`);
  }
}
console.log(`heap after load: ${(core.heapBytes / 2 ** 20).toFixed(0)} MiB`);
if (problems.length) {
  console.error(`core check FAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('core check passed: patched exports/imports present, every preset encoder/muxer/demuxer enabled');
