/**
 * `sandcodec package` and `sandcodec thumbnails` as a user runs them: real processes, the JSON a
 * script reads, the files on disk, and exit statuses of the error families.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_STATUS } from '../dist/index.js';
import { makeTempDir, media, removeTempDir, repoRoot } from './helpers/media.js';

const BIN = join(repoRoot, 'dist', 'cli', 'main.js');
let dir: string;

function sandcodec(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnSync(process.execPath, [BIN, ...args, '--workers', '1'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  dir = await makeTempDir();
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('sandcodec package', () => {
  it('writes the DASH package asked for and reports it as JSON', () => {
    const out = join(dir, 'pkg');
    const run = sandcodec([
      'package',
      media('video', 'realshort-h264-aac.mp4'),
      '-o',
      out,
      '--format',
      'dash',
      '--ladder',
      '360p',
      '--audio',
      'aac-64',
      '--segment-duration',
      '1',
      '--json',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      dash: string;
      hls?: string;
      video: Array<{ id: string; segments: number; codecs: string }>;
      audio: Array<{ id: string }>;
    };
    expect(report.hls).toBeUndefined();
    expect(report.dash).toBe(join(out, 'manifest.mpd'));
    // 1.2 s in 1 s segments: the 0.2 s tail joins the first segment rather than make a sliver.
    expect(report.video.map((v) => [v.id, v.segments])).toEqual([['240p', 1]]);
    expect(report.video[0]!.codecs).toMatch(/^avc1\.4d40[0-9a-f]{2}$/);
    expect(report.audio.map((a) => a.id)).toEqual(['aac-64']);
    expect(readdirSync(out).sort()).toEqual(['.sandcodec-package.json', '240p', 'aac-64', 'manifest.mpd']);
  });

  it('packages audio only with --audio-only, and refuses a video-less source without it', () => {
    const out = join(dir, 'music');
    const ok = sandcodec(['package', media('audio', 'loop_amen.flac'), '-o', out, '--audio-only', '--audio', 'aac-128', '--format', 'hls']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('mp4a.40.2');
    expect(existsSync(join(out, 'master.m3u8'))).toBe(true);
    const refused = sandcodec(['package', media('audio', 'loop_amen.flac'), '-o', join(dir, 'nope'), '--json']);
    expect(refused.status).toBe(EXIT_STATUS.E_UNSUPPORTED);
    expect(JSON.parse(refused.stdout).error.code).toBe('E_UNSUPPORTED');
    expect(existsSync(join(dir, 'nope'))).toBe(false);
  });

  it('--encrypt cbcs with the key from the environment: a protected package, and the key never printed', () => {
    const out = join(dir, 'protected');
    const key = '00112233445566778899aabbccddeeff';
    const input = media('audio', 'loop_amen.flac');
    const common = ['package', input, '--audio-only', '--audio', 'aac-64', '--encrypt', 'cbcs', '--key-id', '0123456789abcdef0123456789abcdef'];
    const run = sandcodec([...common, '-o', out, '--key', 'env:TEST_CONTENT_KEY', '--clear-lead', '0', '--pssh', 'clearkey,widevine'], {
      TEST_CONTENT_KEY: key,
    });
    expect(run.status, run.stderr).toBe(0);
    const init = readFileSync(join(out, 'aac-64', 'init.mp4'));
    expect(init.includes(Buffer.from('enca'))).toBe(true);
    expect(init.includes(Buffer.from('cbcs'))).toBe(true);
    const mpd = readFileSync(join(out, 'manifest.mpd'), 'utf8');
    expect(mpd).toContain('cenc:default_KID="01234567-89ab-cdef-0123-456789abcdef"');
    expect(mpd).toContain('value="Widevine"');
    expect(readFileSync(join(out, 'master.m3u8'), 'utf8')).toContain('#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,');
    expect(run.stdout + run.stderr).not.toContain(key);
    // A key of the wrong length is a usage error, naming the flag and not the value; nothing is written.
    const bad = sandcodec([...common, '-o', join(dir, 'bad-key'), '--key', key.slice(1)]);
    expect(bad.status).toBe(EXIT_STATUS.E_OPTIONS);
    expect(bad.stderr).toMatch(/^error \[E_OPTIONS\]: --key: /m);
    expect(bad.stderr).not.toContain(key.slice(1));
    expect(existsSync(join(dir, 'bad-key'))).toBe(false);
    const unset = sandcodec([...common, '-o', join(dir, 'no-env'), '--key', 'env:NOT_SET_ANYWHERE']);
    expect(unset.status).toBe(EXIT_STATUS.E_OPTIONS);
    expect(unset.stderr).toContain('NOT_SET_ANYWHERE');
  });

  it('rejects a bad --format as a usage error', () => {
    const run = sandcodec(['package', media('video', 'realshort-h264-aac.mp4'), '-o', join(dir, 'x'), '--format', 'smooth']);
    expect(run.status).toBe(EXIT_STATUS.E_OPTIONS);
    expect(run.stderr).toContain('--format');
  });

  it('--chunk-seconds: whole segments only', () => {
    const input = media('video', 'realshort-h264-aac.mp4');
    const bad = sandcodec(['package', input, '-o', join(dir, 'c'), '--segment-duration', '2', '--chunk-seconds', '3', '--json']);
    expect(bad.status).toBe(EXIT_STATUS.E_OPTIONS);
    expect(JSON.parse(bad.stdout).error.message).toMatch(/^--chunk-seconds: must be a whole number of segments/);
    expect(existsSync(join(dir, 'c'))).toBe(false);
    const ok = sandcodec([
      'package',
      input,
      '-o',
      join(dir, 'c'),
      '--ladder',
      '240p',
      '--audio',
      'aac-64',
      '--segment-duration',
      '1',
      '--chunk-seconds',
      '1',
      '--json',
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    // Two chunks (1 s and 0.2 s); the second's frames fold into the one segment.
    expect((JSON.parse(ok.stdout) as { video: Array<{ segments: number }> }).video[0]!.segments).toBe(1);
  });
});

describe('sandcodec thumbnails', () => {
  it('writes a poster, images and a storyboard', () => {
    const out = join(dir, 'thumbs');
    const run = sandcodec(['thumbnails', media('video', 'gem-anim-1-mjpeg.mov'), '-o', out, '--every', '1', '--sprite', '2x2', '--width', '64']);
    expect(run.status, run.stderr).toBe(0);
    // 3.033 s with a frame at 3.0 s: four one-second intervals have a picture.
    expect(readdirSync(out).sort()).toEqual([
      '.sandcodec-thumbnails.json',
      'poster.jpg',
      'sprite-001.jpg',
      'storyboard.vtt',
      'thumb-0001.jpg',
      'thumb-0002.jpg',
      'thumb-0003.jpg',
      'thumb-0004.jpg',
    ]);
    expect(run.stdout).toContain('4 thumbnails of 64x64 on 1 sheet(s) of 2x2');
  });
});
