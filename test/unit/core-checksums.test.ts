/**
 * The FFmpeg cores committed under wasm-build/dist/ are the bytes their build recorded: every file
 * matches checksums.sha256, every core is listed there, each stays within its size budget
 * (12 MB of wasm, 4 MB gzipped), and each says how it was built (BUILD_ENV.txt).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/media.js';

const dist = join(repoRoot, 'wasm-build', 'dist');
const cores = readdirSync(dist).filter((name) => statSync(join(dist, name)).isDirectory());
const listed = readFileSync(join(dist, 'checksums.sha256'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (!m) throw new Error(`checksums.sha256: malformed line ${JSON.stringify(line)}`);
    return { sum: m[1]!, file: m[2]! };
  });

describe('committed FFmpeg cores', () => {
  it('has at least the gpl single-thread core', () => {
    expect(cores).toContain('gpl-st');
  });

  it('lists every file of every core, and nothing else', () => {
    const files = cores.flatMap((core) => readdirSync(join(dist, core)).map((f) => `${core}/${f}`)).sort();
    expect(listed.map((l) => l.file).sort()).toEqual(files);
  });

  it.each(listed)('$file matches its recorded sha256', ({ sum, file }) => {
    expect(
      createHash('sha256')
        .update(readFileSync(join(dist, file)))
        .digest('hex'),
    ).toBe(sum);
  });

  it.each(cores)('%s stays within 12 MB of wasm and 4 MB gzipped, and records its build', (core) => {
    const wasm = readFileSync(join(dist, core, 'ffmpeg-core.wasm'));
    expect(wasm.length).toBeLessThanOrEqual(12 * 1000 * 1000);
    expect(gzipSync(wasm, { level: 9 }).length).toBeLessThanOrEqual(4 * 1000 * 1000);
    const env = readFileSync(join(dist, core, 'BUILD_ENV.txt'), 'utf8');
    expect(env).toMatch(/^license: (GPL|LGPL) version/m);
    expect(env).toMatch(/^emcc .*3\.1\.6/m);
    expect(env).toMatch(/^ffmpeg 7:5\.1\.9/m);
    expect(env).toMatch(/^configure: .*--disable-everything/m);
  });
});
