// The image commands of the CLI: `resize` (format from the output's extension) and `cover`.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, media, removeTempDir, repoRoot } from './helpers/media.js';

const BIN = join(repoRoot, 'dist', 'cli', 'main.js');

function sandcodec(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--workers', '1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('sandcodec-image-cli-');
});
afterAll(() => removeTempDir(dir));

describe('sandcodec resize / cover', () => {
  it('resize: cover crop to a square JPEG, format from the extension', async () => {
    const out = join(dir, 'washington.jpg');
    const run = await sandcodec([
      'resize',
      media('image', 'renpy-washington.jpg'),
      '-o',
      out,
      '--width',
      '320',
      '--height',
      '320',
      '--fit',
      'cover',
      '--position',
      'top',
      '--kernel',
      'mitchell',
      '--quality',
      '85',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/jpeg 320×320/);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 320]);
  });

  it('resize: --shrink-on-load on (the default), fast or off; anything else names the flag', async () => {
    const decodes = async (mode: string | null) => {
      const run = await sandcodec([
        'resize',
        media('image', 'renpy-washington.jpg'),
        '-o',
        join(dir, 'small.png'),
        '--width',
        '64',
        '--force',
        ...(mode ? ['--shrink-on-load', mode] : []),
      ]);
      expect(run.code, run.stderr).toBe(0);
      // "decode    ffmpeg, at 1/2 (shrink-on-load), 0.052 s": the decoder (FFmpeg's, for this
      // progressive file), then the scale.
      const [, decoder, scale] = /decode +([\w-]+)(?:, (at 1\/\d+))?/.exec(run.stdout)!;
      expect(decoder).toBe('ffmpeg');
      return scale ?? 'whole';
    };
    // 1280 → 64: the quality rule decodes at 1/2 (10× left), the fast one at 1/8 (2.5× left).
    expect(await decodes(null)).toBe('at 1/2');
    expect(await decodes('on')).toBe('at 1/2');
    expect(await decodes('fast')).toBe('at 1/8');
    expect(await decodes('off')).toBe('whole');
    const bad = await sandcodec(['resize', media('image', 'renpy-washington.jpg'), '-o', join(dir, 'bad.png'), '--width', '64', '--shrink-on-load', 'maybe']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--shrink-on-load.*must be on, fast or off/);
  });

  it('resize: contain on a transparent background to WebP, --no-enlarge, --json', async () => {
    const out = join(dir, 'sylvie.webp');
    const run = await sandcodec([
      'resize',
      media('image', 'renpy-sylvie-rgba.png'),
      '-o',
      out,
      '--width',
      '2000',
      '--height',
      '2000',
      '--fit',
      'contain',
      '--background',
      '#00000000',
      '--no-enlarge',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { width: number; height: number; format: string; source: { width: number } };
    expect(result).toMatchObject({ format: 'webp', width: 456, height: 700, source: { width: 456 } });
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height, meta.hasAlpha]).toEqual(['webp', 456, 700, true]);
  });

  it('cover: the default 640/300/64 JPEG set into a directory', async () => {
    const outDir = join(dir, 'covers');
    const run = await sandcodec(['cover', media('image', 'astronaut.png'), '-o', outDir]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(outDir)).sort()).toEqual(['astronaut-300.jpg', 'astronaut-64.jpg', 'astronaut-640.jpg']);
    const sizes = await Promise.all([640, 300, 64].map(async (s) => (await sharp(join(outDir, `astronaut-${s}.jpg`)).metadata()).width));
    expect(sizes).toEqual([640, 300, 64]);
    const custom = await sandcodec(['cover', media('image', 'coffee.png'), '-o', outDir, '--sizes', '100,50', '--format', 'png']);
    expect(custom.code, custom.stderr).toBe(0);
    expect((await readdir(outDir)).filter((f) => f.startsWith('coffee')).sort()).toEqual(['coffee-100.png', 'coffee-50.png']);
  });

  it('errors exit with the status of their family and write nothing', async () => {
    const gif = await sandcodec(['resize', media('image', 'coffee.png'), '-o', join(dir, 'x.gif'), '--width', '10']);
    expect(gif.code).toBe(2);
    expect(gif.stderr).toMatch(/E_OPTIONS/);
    const fit = await sandcodec([
      'resize',
      media('image', 'coffee.png'),
      '-o',
      join(dir, 'x.png'),
      '--width',
      '10',
      '--height',
      '10',
      '--fit',
      'squash',
      '--json',
    ]);
    expect(fit.code).toBe(2);
    expect(JSON.parse(fit.stdout)).toMatchObject({ error: { code: 'E_OPTIONS' } });
    const notImage = await sandcodec(['resize', media('audio', 'loop_amen.flac'), '-o', join(dir, 'x.png'), '--width', '10']);
    expect(notImage.code).toBe(3);
    const limit = await sandcodec(['resize', media('image', 'coffee.png'), '-o', join(dir, 'x.png'), '--width', '10', '--max-pixels', '1000']);
    expect(limit.code).toBe(5);
    expect((await readdir(dir)).filter((f) => f.startsWith('x'))).toEqual([]);
  });
});
