/**
 * The output transaction: a call adds its own files and never deletes or replaces anything it did
 * not create; everything it stages is committed together or not at all.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { marker, OutputTransaction, writeOutputFile } from '../../src/call/outputs.js';
import { isStagedName, stagedName, sweepStaging } from '../../src/call/staging.js';
import { SandcodecError } from '../../src/errors.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sandcodec-outputs-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<SandcodecError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandcodecError);
  return err as SandcodecError;
}

/** Every name under `dir`, recursively, sorted. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(e.name);
    if (e.isDirectory()) for (const n of await tree(join(dir, e.name))) out.push(`${e.name}/${n}`);
  }
  return out.sort();
}

describe('file outputs', () => {
  it('refuses an existing file unless asked to overwrite, and leaves it as it was', async () => {
    const path = join(root, 'song.mp3');
    await writeFile(path, 'mine');
    const err = await failure(new OutputTransaction(false).file(path, 'output'));
    expect(err.code).toBe('E_OPTIONS');
    expect(err.message).toMatch(/^output: .*song\.mp3 exists; pass overwrite: true/);
    expect(await readFile(path, 'utf8')).toBe('mine');
  });

  it('replaces it with overwrite only when the call commits', async () => {
    const path = join(root, 'song.mp3');
    await writeFile(path, 'old');
    const t = new OutputTransaction(true);
    const f = await t.file(path, 'output');
    await writeFile(f.tempPath, 'new');
    expect(await readFile(path, 'utf8')).toBe('old');
    await t.commit();
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await readdir(root)).toEqual(['song.mp3']);
  });

  it('a rolled-back call leaves the old file and no staged name', async () => {
    const path = join(root, 'song.mp3');
    await writeFile(path, 'old');
    const t = new OutputTransaction(true);
    await writeFile((await t.file(path, 'output')).tempPath, 'half');
    await t.rollback();
    expect(await readdir(root)).toEqual(['song.mp3']);
    expect(await readFile(path, 'utf8')).toBe('old');
  });

  it('refuses a directory at a file output even with overwrite', async () => {
    await mkdir(join(root, 'album'));
    const err = await failure(new OutputTransaction(true).file(join(root, 'album'), 'output'));
    expect(err.message).toMatch(/is a directory/);
  });

  it('creates missing folders and removes them again on rollback', async () => {
    const t = new OutputTransaction(false);
    await writeFile((await t.file(join(root, 'a', 'b', 'x.flac'), 'output')).tempPath, 'x');
    expect(existsSync(join(root, 'a', 'b'))).toBe(true);
    await t.rollback();
    expect(await readdir(root)).toEqual([]);
  });

  it('commits all or nothing: a clash at the second file takes the first back out', async () => {
    const t = new OutputTransaction(false);
    const a = await t.file(join(root, 'a.ogg'), 'outputDir');
    const b = await t.file(join(root, 'b.ogg'), 'outputDir');
    await writeFile(a.tempPath, 'a');
    await writeFile(b.tempPath, 'b');
    // Someone else's file appears at the second destination while the call runs.
    await writeFile(join(root, 'b.ogg'), 'theirs');
    const err = await failure(t.commit());
    expect(err.code).toBe('E_IO');
    expect(await readdir(root)).toEqual(['b.ogg']);
    expect(await readFile(join(root, 'b.ogg'), 'utf8')).toBe('theirs');
  });

  it('writes a new staged version for the same destination and commits the latest', async () => {
    const t = new OutputTransaction(false);
    const f = await t.file(join(root, 'x.flac'), 'output');
    await writeFile(f.tempPath, 'first');
    await writeFile(f.restage(), 'second');
    await t.commit();
    expect(await readdir(root)).toEqual(['x.flac']);
    expect(await readFile(join(root, 'x.flac'), 'utf8')).toBe('second');
  });

  it('writeOutputFile never replaces a file unless asked', async () => {
    const path = join(root, 'peaks.json');
    await writeFile(path, 'mine');
    expect((await failure(writeOutputFile(path, '{}', { option: '--output', overwrite: false }))).code).toBe('E_OPTIONS');
    expect(await readFile(path, 'utf8')).toBe('mine');
    await writeOutputFile(path, '{}', { option: '--output', overwrite: true });
    expect(await readFile(path, 'utf8')).toBe('{}');
    expect(await readdir(root)).toEqual(['peaks.json']);
  });
});

describe('directory outputs', () => {
  it('a new folder appears whole on commit, with its marker', async () => {
    const t = new OutputTransaction(false);
    const d = await t.dir(join(root, 'pkg'), 'outputDir', 'package');
    await mkdir(d.path('720p'));
    await writeFile(d.path('720p', 'seg-1.m4s'), 's');
    await writeFile(d.path('master.m3u8'), 'm');
    expect(existsSync(join(root, 'pkg'))).toBe(false);
    await t.commit();
    expect(await tree(join(root, 'pkg'))).toEqual([marker('package'), '720p', '720p/seg-1.m4s', 'master.m3u8']);
    const record = JSON.parse(await readFile(join(root, 'pkg', marker('package')), 'utf8'));
    expect(record).toEqual({ createdBy: 'sandcodec', kind: 'package', entries: ['720p', 'master.m3u8'] });
  });

  it('adds its entries into an existing folder and touches nothing else (`-o .`)', async () => {
    await writeFile(join(root, 'song.flac'), 'source');
    await mkdir(join(root, 'photos'));
    await writeFile(join(root, 'photos', 'a.jpg'), 'p');
    const t = new OutputTransaction(false);
    const d = await t.dir(root, 'outputDir', 'package');
    await d.claim(['aac-128', 'master.m3u8']);
    await mkdir(d.path('aac-128'));
    await writeFile(d.path('aac-128', 'init.mp4'), 'i');
    await writeFile(d.path('master.m3u8'), 'm');
    await t.commit();
    expect(await tree(root)).toEqual([marker('package'), 'aac-128', 'aac-128/init.mp4', 'master.m3u8', 'photos', 'photos/a.jpg', 'song.flac']);
    expect(await readFile(join(root, 'song.flac'), 'utf8')).toBe('source');
  });

  it('refuses a folder output that is a file, even with overwrite', async () => {
    await writeFile(join(root, 'song.flac'), 'source');
    for (const overwrite of [false, true]) {
      const err = await failure(new OutputTransaction(overwrite).dir(join(root, 'song.flac'), 'outputDir', 'package'));
      expect(err.message).toMatch(/is a file, not a directory/);
    }
    expect(await readFile(join(root, 'song.flac'), 'utf8')).toBe('source');
  });

  it('refuses a name clash before any work, without overwrite', async () => {
    await writeFile(join(root, 'master.m3u8'), 'theirs');
    const t = new OutputTransaction(false);
    const d = await t.dir(root, 'outputDir', 'package');
    const err = await failure(d.claim(['720p', 'master.m3u8']));
    expect(err.code).toBe('E_OPTIONS');
    expect(err.message).toMatch(/already holds master\.m3u8; pass overwrite: true .* to replace a previous package/);
    await t.rollback();
    expect(await readdir(root)).toEqual(['master.m3u8']);
  });

  it('with overwrite, replaces only what a previous call of the same kind recorded', async () => {
    // A previous package: 1080p and a master playlist, recorded in its marker.
    const first = new OutputTransaction(false);
    const p = await first.dir(root, 'outputDir', 'package');
    await mkdir(p.path('1080p'));
    await writeFile(p.path('1080p', 'seg-1.m4s'), 'old');
    await writeFile(p.path('master.m3u8'), 'old');
    await first.commit();
    await writeFile(join(root, 'notes.txt'), 'mine');
    await writeFile(join(root, 'manifest.mpd'), 'theirs');

    // Replacing it: the master playlist and the marker are ours, 1080p goes (not made again).
    const second = new OutputTransaction(true);
    const d = await second.dir(root, 'outputDir', 'package');
    await d.claim(['720p', 'master.m3u8']);
    await mkdir(d.path('720p'));
    await writeFile(d.path('720p', 'seg-1.m4s'), 'new');
    await writeFile(d.path('master.m3u8'), 'new');
    await second.commit();
    expect(await tree(root)).toEqual([marker('package'), '720p', '720p/seg-1.m4s', 'manifest.mpd', 'master.m3u8', 'notes.txt']);
    expect(await readFile(join(root, 'master.m3u8'), 'utf8')).toBe('new');
    expect(await readFile(join(root, 'manifest.mpd'), 'utf8')).toBe('theirs');

    // A name no marker lists is never replaced, overwrite or not.
    const third = new OutputTransaction(true);
    const e = await third.dir(root, 'outputDir', 'package');
    const err = await failure(e.claim(['720p', 'manifest.mpd']));
    expect(err.message).toMatch(/already holds manifest\.mpd; a previous package of sandcodec did not write it/);
    await third.rollback();
    expect(await readFile(join(root, 'manifest.mpd'), 'utf8')).toBe('theirs');
  });

  it('a rolled-back folder output leaves the existing folder exactly as it was', async () => {
    await writeFile(join(root, 'keep.txt'), 'k');
    const t = new OutputTransaction(false);
    const d = await t.dir(root, 'outputDir', 'thumbnails');
    await writeFile(d.path('poster.jpg'), 'p');
    await t.rollback();
    expect(await readdir(root)).toEqual(['keep.txt']);
  });
});

describe('the sweep of stale staged names', () => {
  it('removes what a dead process of this host left, keeps live ones and other names', async () => {
    const mine = stagedName('song.mp3');
    expect(isStagedName(mine)).toBe(true);
    // The same name with a process id that no process has.
    const dead = mine.replace(`-${process.pid}-`, '-4194303-');
    await writeFile(join(root, mine), 'live');
    await writeFile(join(root, dead), 'stale');
    await mkdir(join(root, dead.replace('song.mp3', 'pkg')));
    await writeFile(join(root, 'song.mp3.part'), 'not ours');
    const removed = await sweepStaging(root);
    expect(removed.sort()).toEqual([join(root, dead), join(root, dead.replace('song.mp3', 'pkg'))].sort());
    expect((await readdir(root)).sort()).toEqual([mine, 'song.mp3.part'].sort());
  });

  it('removes staged names of any owner once they are older than maxAgeMs', async () => {
    const other = '.x.sandcodec-abcdef-1-0123abcd.part';
    await writeFile(join(root, other), 'x');
    expect(await sweepStaging(root)).toEqual([]);
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    await utimes(join(root, other), old, old);
    expect(await sweepStaging(root, { maxAgeMs: 3600 * 1000 })).toEqual([join(root, other)]);
  });

  it('a folder that does not exist has nothing to sweep', async () => {
    expect(await sweepStaging(join(root, 'missing'))).toEqual([]);
  });
});
