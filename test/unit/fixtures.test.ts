/**
 * The real media the tests read are committed with them, so a fresh clone passes its own tests:
 * every fixture is listed in test/fixtures/README.md with the SHA-256 of the file as its Debian
 * package installs it, and nothing in the repository reaches for media outside it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test', 'fixtures');
const KINDS = ['audio', 'video', 'image'];

function files(dir: string, skip: (path: string) => boolean = () => false): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (skip(path)) return [];
    return e.isDirectory() ? files(path, skip) : [path];
  });
}

/** `sha256  kind/name` lines of the README's checksum block. */
function listedChecksums(): Map<string, string> {
  const readme = readFileSync(join(fixtures, 'README.md'), 'utf8');
  const block = readme.slice(readme.indexOf('## SHA-256'));
  return new Map([...block.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)].map((m) => [m[2]!, m[1]!]));
}

/** Fixture files as `kind/name`. */
function present(): string[] {
  return KINDS.flatMap((kind) => files(join(fixtures, kind)).map((f) => relative(fixtures, f))).sort();
}

describe('test fixtures', () => {
  it('are the files the README lists, each unchanged from its source', () => {
    const listed = listedChecksums();
    expect(present().length).toBeGreaterThan(0);
    expect(present()).toEqual([...listed.keys()].sort());
    for (const file of present()) {
      const digest = createHash('sha256')
        .update(readFileSync(join(fixtures, file)))
        .digest('hex');
      expect(digest, file).toBe(listed.get(file));
    }
  });

  it('each has a row in the sources table and in the uses table', () => {
    const readme = readFileSync(join(fixtures, 'README.md'), 'utf8');
    for (const file of present()) {
      const rows = readme.split('\n').filter((line) => line.startsWith('|') && line.split('|')[1]?.trim() === file);
      expect(rows, file).toHaveLength(2);
    }
  });
});

describe('the repository reads media only from itself', () => {
  it('no test, benchmark, script or config points at a media folder beside the repository', () => {
    const skip = (path: string) => path === fixtures || path.endsWith('node_modules');
    const sources = [
      ...['test', 'bench', 'scripts'].flatMap((dir) => files(join(root, dir), skip)),
      join(root, 'package.json'),
      join(root, 'vitest.config.ts'),
    ].filter((f) => /\.(ts|mts|js|mjs|cjs|json)$/.test(f));
    expect(sources.length).toBeGreaterThan(10);
    const outside = sources.filter((file) => /shared[/'",\s]+media/.test(readFileSync(file, 'utf8'))).map((f) => relative(root, f));
    expect(outside).toEqual([]);
  });
});
