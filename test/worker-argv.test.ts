/**
 * An engine starts in a process run with Node options a worker thread may not take (V8 flags such
 * as --expose-gc, --max-old-space-size; --title): they are left out of the workers' options, as
 * Node leaves them out of what a worker inherits, and the pool serves.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, media, removeTempDir, repoRoot } from './helpers/media.js';

const script = `
const { createEngine } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'index.js')).href)});
const { workerExecArgv } = await import(${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'pool', 'worker-argv.js')).href)});
const engine = await createEngine({ workers: 1 });
const probe = await engine.probe({ path: ${JSON.stringify(media('audio', 'loop_amen.flac'))} });
await engine.close();
console.log(JSON.stringify({ format: probe.format, argv: workerExecArgv() ?? null }));
`;

describe('the pool under the process’s own Node options', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await makeTempDir();
    file = join(dir, 'start.mjs');
    writeFileSync(file, script);
  });
  afterAll(() => removeTempDir(dir));
  const cases: Array<{ options: string[]; passed: string[]; left: string[] }> = [
    { options: ['--expose-gc'], passed: [], left: ['--expose-gc'] },
    { options: ['--max-old-space-size=512', '--title=sandcodec-test'], passed: [], left: ['--max-old-space-size=512', '--title=sandcodec-test'] },
    { options: ['--enable-source-maps'], passed: ['--enable-source-maps'], left: [] },
  ];

  it('leaves out the code of `node -e`', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { argv: string[] | null };
    if (out.argv !== null) expect(out.argv).toEqual(['--input-type=module', '--no-experimental-require-module']);
  });
  it.each(cases)('$options', ({ options, passed, left }) => {
    const run = spawnSync(process.execPath, [...options, file], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { format: string; argv: string[] | null };
    expect(out.format).toBe('flac');
    // Null: this Node has no require(esm) to switch off, and the workers inherit as Node decides.
    if (out.argv === null) return;
    expect(out.argv).toEqual([...passed, '--no-experimental-require-module']);
    for (const option of left) expect(out.argv).not.toContain(option);
  });
});
