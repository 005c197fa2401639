/** Paths the tests use: the repository root, the real media fixtures, and scratch directories. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The real media files committed with the tests (see test/fixtures/README.md). */
export const mediaDir = join(repoRoot, 'test', 'fixtures');

/** A fixture file, e.g. `media('audio', 'illurock.opus')`. */
export function media(kind: 'audio' | 'video' | 'image', name: string): string {
  return join(mediaDir, kind, name);
}

/** A fresh scratch directory; remove it with `removeTempDir`. */
export function makeTempDir(prefix = 'sandcodec-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function removeTempDir(dir: string | undefined): Promise<void> {
  return dir ? rm(dir, { recursive: true, force: true }) : Promise.resolve();
}
