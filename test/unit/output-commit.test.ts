/**
 * A job's folder output is committed once: staged beside its place, renamed in whole with a
 * marker naming the job, never over a folder that is not the job's, never outside the root
 * (even through a symbolic link); a retried job that finds its own marker does not write again.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stagedName } from '../../src/call/staging.js';
import { OptionsError } from '../../src/errors.js';
import { relativeDir } from '../../src/service/job-spec.js';
import { COMMIT_MARKER, commitOutputs, listOutputs } from '../../src/service/output-commit.js';
import { urlPolicy } from '../../src/service/url-policy.js';

let dir: string;
let root: string;
let staged: string;

const ctx = (jobId: string) => ({ jobId, outputRoot: root, transfer: { policy: urlPolicy(), timeoutMs: 1000, retries: 0 } });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandcodec-commit-'));
  root = join(dir, 'root');
  staged = join(dir, 'staged');
  await mkdir(root);
  await mkdir(join(staged, 'video', '720p'), { recursive: true });
  await writeFile(join(staged, 'master.m3u8'), '#EXTM3U\n');
  await writeFile(join(staged, 'video', '720p', 'seg-1.m4s'), new Uint8Array(1000));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('commitOutputs to a folder', () => {
  it('lists the outputs, commits them whole with a marker, and a second attempt of the same job writes nothing', async () => {
    const files = await listOutputs(staged);
    expect(files).toEqual([
      { name: 'master.m3u8', size: 8 },
      { name: 'video/720p/seg-1.m4s', size: 1000 },
    ]);
    expect(await commitOutputs(staged, { dir: 'shows/ep1' }, files, ctx('job-1'))).toEqual({ committed: true });
    const target = join(root, 'shows', 'ep1');
    expect((await readdir(target)).sort()).toEqual([COMMIT_MARKER, 'master.m3u8', 'video']);
    expect(JSON.parse(await readFile(join(target, COMMIT_MARKER), 'utf8')).job).toBe('job-1');
    const before = (await stat(join(target, 'master.m3u8'))).mtimeMs;
    await writeFile(join(staged, 'master.m3u8'), '#EXTM3U\n# changed\n');
    expect(await commitOutputs(staged, { dir: 'shows/ep1' }, files, ctx('job-1'))).toEqual({ committed: false });
    expect(await readFile(join(target, 'master.m3u8'), 'utf8')).toBe('#EXTM3U\n');
    expect((await stat(join(target, 'master.m3u8'))).mtimeMs).toBe(before);
    expect(await readdir(join(root, 'shows'))).toEqual(['ep1']);
  });

  it("never replaces a folder that is not the job's", async () => {
    await mkdir(join(root, 'taken'));
    await writeFile(join(root, 'taken', 'mine.txt'), 'user data');
    const files = await listOutputs(staged);
    await expect(commitOutputs(staged, { dir: 'taken' }, files, ctx('job-2'))).rejects.toThrow(/^output\.dir: taken already exists/);
    await commitOutputs(staged, { dir: 'other' }, files, ctx('job-3'));
    await expect(commitOutputs(staged, { dir: 'other' }, files, ctx('job-4'))).rejects.toThrow(OptionsError);
    expect(await readdir(join(root, 'taken'))).toEqual(['mine.txt']);
    // An empty folder is not the job's either.
    await mkdir(join(root, 'empty'));
    await expect(commitOutputs(staged, { dir: 'empty' }, files, ctx('job-5'))).rejects.toThrow(/already exists/);
    expect(await readdir(root)).toEqual(expect.arrayContaining(['empty', 'other', 'taken']));
    expect((await readdir(root)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses a folder that a symbolic link inside the root takes outside it', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside);
    await symlink(outside, join(root, 'link'));
    const files = await listOutputs(staged);
    await expect(commitOutputs(staged, { dir: 'link/escape' }, files, ctx('job-6'))).rejects.toThrow(
      /^output\.dir: link\/escape resolves outside the output root/,
    );
    expect(await readdir(outside)).toEqual([]);
  });

  it('removes what a killed attempt of the job left staged, and only that', async () => {
    const dead = join(root, stagedName('ep2'));
    await mkdir(dead);
    await writeFile(join(dead, 'half.m4s'), new Uint8Array(10));
    const unrelated = join(root, stagedName('ep3'));
    await mkdir(unrelated);
    await commitOutputs(staged, { dir: 'ep2' }, await listOutputs(staged), ctx('job-7'));
    const names = await readdir(root);
    expect(names).toContain('ep2');
    expect(names.filter((n) => n.startsWith('.ep2.'))).toEqual([]);
    expect(names.filter((n) => n.startsWith('.ep3.'))).toHaveLength(1);
  });
});

describe('relativeDir', () => {
  it.each(['../x', 'a/../../x', '/abs', '.hidden', 'a/.git', 'a\\b', '', 'x'.repeat(513), 'a/./b'])('refuses %j', (value) => {
    expect(() => relativeDir(value)).toThrow(/^output\.dir: /);
  });

  it('takes plain relative folders, with their slashes tidied', () => {
    expect(relativeDir('shows/ep1')).toBe('shows/ep1');
    expect(relativeDir('shows//ep1/')).toBe('shows/ep1');
    expect(relativeDir('a_b-c.d/2026')).toBe('a_b-c.d/2026');
  });
});
