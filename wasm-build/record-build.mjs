// Writes dist/<profile>-<variant>/BUILD_ENV.txt (what the core was built from and how) and
// dist/checksums.sha256 (every committed core file), after a build: node record-build.mjs gpl st
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const [profile, variant] = process.argv.slice(2);
if (!/^(gpl|lgpl)$/.test(profile ?? '') || !/^(st|mt)$/.test(variant ?? '')) {
  console.error('usage: node record-build.mjs gpl|lgpl st|mt');
  process.exit(2);
}
const root = dirname(fileURLToPath(import.meta.url));
const work = process.env.WORK ?? join(root, '.work');
const out = join(work, `${profile}-${variant}`);
const ff = join(out, 'build', 'ffmpeg');
const dist = join(root, 'dist', `${profile}-${variant}`);
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, NODE_PATH: '/usr/share/nodejs' } }).trim();

const config = readFileSync(join(ff, 'config.h'), 'utf8');
const define = (name) => new RegExp(`#define ${name} "(.*)"`).exec(config)?.[1] ?? '';
const components = readFileSync(join(ff, 'config_components.h'), 'utf8');
const enabled = {};
for (const m of components.matchAll(/#define CONFIG_(\w+?)_(DECODER|ENCODER|MUXER|DEMUXER|INDEV|PARSER|BSF|FILTER|PROTOCOL) 1/g)) {
  (enabled[m[2].toLowerCase()] ??= []).push(m[1].toLowerCase());
}
const wasm = readFileSync(join(dist, 'ffmpeg-core.wasm'));
const sources = readFileSync(join(root, 'sources.lock'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .filter((l) => !l.startsWith(profile === 'gpl' ? 'openh264=' : 'x264='))
  // libjpeg-turbo is linked into single-thread cores only (libs/jpeg.sh).
  .filter((l) => variant === 'st' || !l.startsWith('libjpeg-turbo='))
  .map((l) => l.replace('=', ' '));
const ffversion = /FFMPEG_VERSION "(.*)"/.exec(readFileSync(join(ff, 'libavutil', 'ffversion.h'), 'utf8'))?.[1] ?? 'unknown';
const sourceSums = readFileSync(join(root, 'sources.sha256'), 'utf8').trim().split('\n')
  .filter((l) => l.includes('.dsc') && !l.includes(profile === 'gpl' ? 'openh264_' : 'x264_'))
  .filter((l) => variant === 'st' || !l.includes('libjpeg-turbo_'));
// The patches this profile's build applied: FFmpeg's and its H.264 encoder's.
const patched = ['ffmpeg', 'zlib', 'lame', 'ogg', 'vorbis', 'opus', 'webp', 'dav1d', profile === 'gpl' ? 'x264' : 'openh264', ...(variant === 'st' ? ['libjpeg-turbo'] : [])];
const patches = readdirSync(join(root, 'patches'), { recursive: true })
  .filter((p) => p.endsWith('.patch') && patched.includes(p.split(/[\\/]/)[0]))
  .sort()
  .map((p) => `${sha256(readFileSync(join(root, 'patches', p)))}  ${p}`);

const lines = [
  `# FFmpeg core ${profile}-${variant}: how it was built (wasm-build/record-build.mjs)`,
  `license: ${define('FFMPEG_LICENSE')}`,
  `ffmpeg: ${ffversion}`,
  `wasm: ${wasm.length} bytes, ${gzipSync(wasm, { level: 9 }).length} gzipped, sha256 ${sha256(wasm)}`,
  '',
  '## toolchain',
  run('emcc', ['--version']).split('\n')[0],
  // The Debian packages of the toolchain, exactly.
  ...run('dpkg-query', ['-W', '-f', '${Package} ${Version}\n', 'emscripten', 'clang-14', 'lld-14', 'binaryen', 'meson']).split('\n'),
  `node (emcc's JS tools): ${process.version}`,
  `debian: ${readFileSync('/etc/debian_version', 'utf8').trim()}`,
  '',
  '## sources (Debian source packages; sha256 of each .dsc, which pins every file it lists)',
  ...sources,
  ...sourceSums,
  '',
  '## patches',
  ...patches,
  '',
  // The host glue linked in (glue/library.js for every core, mt-*.{c,js} for multithreaded ones).
  '## glue',
  ...readdirSync(join(root, 'glue'))
    .sort()
    .map((f) => `${sha256(readFileSync(join(root, 'glue', f)))}  glue/${f}`),
  '',
  '## flags',
  `cflags: ${readFileSync(join(out, 'cflags.txt'), 'utf8').trim().replaceAll(work, '$WORK')}`,
  // The libraries built otherwise (libs/vorbis.sh and libs/jpeg.sh say why).
  'cflags of libvorbis: -O3, without -msimd128 and -ffast-math',
  ...(variant === 'st' ? ['cflags of libjpeg-turbo: -Os in place of -O3'] : []),
  `configure: ${define('FFMPEG_CONFIGURATION').replaceAll(work, '$WORK')}`,
  `link: ${readFileSync(join(out, 'link-flags.txt'), 'utf8').trim().replaceAll(work, '$WORK').replaceAll(root, '$WASM_BUILD')}`,
  '',
  '## enabled components',
  ...Object.entries(enabled).map(([kind, names]) => `${kind}s (${names.length}): ${names.join(' ')}`),
  '',
];
writeFileSync(join(dist, 'BUILD_ENV.txt'), lines.join('\n'));

// Checksums of every committed core file, checked by the test suite on every clone.
const distRoot = join(root, 'dist');
const sums = [];
for (const core of readdirSync(distRoot).sort()) {
  const dir = join(distRoot, core);
  if (!statSync(dir).isDirectory()) continue;
  for (const file of readdirSync(dir).sort()) sums.push(`${sha256(readFileSync(join(dir, file)))}  ${core}/${file}`);
}
writeFileSync(join(distRoot, 'checksums.sha256'), `${sums.join('\n')}\n`);
console.log(lines.slice(0, 4).join('\n'));
