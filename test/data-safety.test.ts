/**
 * Never destructive, through the engine and the CLI: a call adds its own files and never deletes
 * or replaces what it did not create (`-o .`, `-o song.flac`, `join(root, '')`, a folder of
 * photos), and replaces a previous output only when asked to, and only what it wrote.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { failure } from './helpers/failure.js';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';

const run = promisify(execFile);
const CLI = join(repoRoot, 'dist', 'cli', 'main.js');

let engine: Engine;
let dir: string;
let song: Uint8Array;
let clip: Uint8Array;

beforeAll(async () => {
  engine = await createEngine({ workers: 2 });
  dir = await makeTempDir();
  song = (await engine.generate({ kind: 'music', seconds: 3, preset: 'flac' })).bytes!;
  clip = (await engine.generateVideo({ seconds: 2, width: 320, height: 180, frameRate: 15 })).bytes!;
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

/** A folder holding a user's source and other files. */
async function userFolder(name: string): Promise<string> {
  const folder = join(dir, name);
  await mkdir(join(folder, 'photos'), { recursive: true });
  await writeFile(join(folder, 'song.flac'), song);
  await writeFile(join(folder, 'notes.txt'), 'mine');
  await writeFile(join(folder, 'photos', 'a.jpg'), 'jpeg');
  return folder;
}

async function expectUntouched(folder: string): Promise<void> {
  expect(Buffer.compare(await readFile(join(folder, 'song.flac')), song)).toBe(0);
  expect(await readFile(join(folder, 'notes.txt'), 'utf8')).toBe('mine');
  expect(await readFile(join(folder, 'photos', 'a.jpg'), 'utf8')).toBe('jpeg');
}

describe('package and thumbnails add to a folder, never replace it', () => {
  it('packages into the folder that holds the source (`-o .`): the source and every other file stay', async () => {
    const folder = await userFolder('dot');
    const pkg = await engine.package({ path: join(folder, 'song.flac') }, { outputDir: folder, audioOnly: true, audio: ['aac-128'] });
    await expectUntouched(folder);
    expect((await readdir(folder)).sort()).toEqual(['.sandcodec-package.json', 'aac-128', 'manifest.mpd', 'master.m3u8', 'notes.txt', 'photos', 'song.flac']);
    expect(pkg.hls).toBe(join(folder, 'master.m3u8'));
  });

  it('refuses an output folder that is an existing file (`-o song.flac`), even with overwrite', async () => {
    const folder = await userFolder('file');
    for (const overwrite of [false, true]) {
      const err = await failure(engine.package({ path: join(folder, 'song.flac') }, { outputDir: join(folder, 'song.flac'), audioOnly: true, overwrite }));
      expect(err.code).toBe('E_OPTIONS');
      expect(err.details.option).toBe('outputDir');
    }
    await expectUntouched(folder);
  });

  it('a service root joined with an empty id is added to, not wiped', async () => {
    const root = await userFolder('root');
    await engine.thumbnails(clip, { outputDir: join(root, ''), every: 1, sprite: false });
    await expectUntouched(root);
    expect(existsSync(join(root, 'poster.jpg'))).toBe(true);
  });

  it('a second package into the same folder is refused, then replaces only the first one with overwrite', async () => {
    const folder = await userFolder('again');
    await engine.package(clip, { outputDir: folder, video: ['240p'], audio: ['aac-64'] });
    const err = await failure(engine.package(clip, { outputDir: folder, video: ['240p'], audio: ['aac-64'] }));
    expect(err.code).toBe('E_OPTIONS');
    expect(err.message).toMatch(/already holds .*pass overwrite: true/);
    const again = await engine.package(clip, { outputDir: folder, video: ['240p'], audio: ['aac-96'], overwrite: true });
    await expectUntouched(folder);
    // aac-64 was the first package's and is gone; aac-96 is the new one's.
    expect((await readdir(folder)).sort()).toEqual(
      ['.sandcodec-package.json', '180p', 'aac-96', 'manifest.mpd', 'master.m3u8', 'notes.txt', 'photos', 'song.flac'].sort(),
    );
    expect(again.audio.map((a) => a.id)).toEqual(['aac-96']);
  });

  it('thumbnails in a photo folder keep the photos, and clash with nothing they did not write', async () => {
    const folder = await userFolder('photos-folder');
    await writeFile(join(folder, 'poster.jpg'), 'their poster');
    const err = await failure(engine.thumbnails(clip, { outputDir: folder, every: 1 }));
    expect(err.message).toMatch(/already holds poster\.jpg/);
    const withForce = await failure(engine.thumbnails(clip, { outputDir: folder, every: 1, overwrite: true }));
    expect(withForce.message).toMatch(/did not write it/);
    expect(await readFile(join(folder, 'poster.jpg'), 'utf8')).toBe('their poster');
    await expectUntouched(folder);
  });
});

describe('file outputs', () => {
  it('an existing file is refused unless overwrite is asked, and replaced only on success', async () => {
    const folder = await userFolder('files');
    const target = join(folder, 'notes.txt');
    const err = await failure(engine.transcode(song, { preset: 'wav', output: target }));
    expect(err.code).toBe('E_OPTIONS');
    await expectUntouched(folder);
    const done = await engine.transcode(song, { preset: 'wav', output: target, overwrite: true });
    expect(done.path).toBe(target);
    expect((await readFile(target)).subarray(0, 4).toString()).toBe('RIFF');
  });

  it('a ladder into a folder adds files beside the others and refuses a clash', async () => {
    const folder = await userFolder('ladder');
    await writeFile(join(folder, 'song.flac.flac'), 'theirs');
    const err = await failure(engine.ladder({ path: join(folder, 'song.flac') }, ['opus-96', 'flac'], { outputDir: folder, baseName: 'song' }));
    expect(err.code).toBe('E_OPTIONS');
    // Nothing of the ladder is left: the opus rendition was staged, never committed.
    expect((await readdir(folder)).sort()).toEqual(['notes.txt', 'photos', 'song.flac', 'song.flac.flac']);
    await expectUntouched(folder);
  });
});

describe('the command line', () => {
  it('`package song.flac -o . --audio-only` keeps everything in the current folder', async () => {
    const folder = await userFolder('cli-dot');
    const out = await run(process.execPath, [CLI, 'package', 'song.flac', '-o', '.', '--audio-only', '--audio', 'aac-64', '--json'], { cwd: folder });
    expect(JSON.parse(out.stdout).outputDir).toBe(folder);
    await expectUntouched(folder);
  });

  it('an existing output is a usage error (exit 2) until --force', async () => {
    const folder = await userFolder('cli-force');
    const refused = await run(process.execPath, [CLI, 'transcode', 'song.flac', '-o', 'notes.txt', '--preset', 'wav', '--json'], { cwd: folder }).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect((refused as { code: number }).code).toBe(2);
    expect(JSON.parse((refused as { stdout: string }).stdout).error.message).toMatch(/--force/);
    await expectUntouched(folder);
    await run(process.execPath, [CLI, 'transcode', 'song.flac', '-o', 'notes.txt', '--preset', 'wav', '--force'], { cwd: folder });
    expect((await readFile(join(folder, 'notes.txt'))).subarray(0, 4).toString()).toBe('RIFF');
  });
});
