/** Paths shared by the tests: the repository root, the real media corpus, and scratch directories. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The read-only corpus of real files (see its README). */
export const mediaDir = join(repoRoot, '..', 'shared', 'media');

/** A file of the corpus, e.g. `media('audio', 'illurock.opus')`. */
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
