/**
 * Signals and what killed processes leave: SIGTERM (what containers and service managers send)
 * aborts a command like Ctrl-C — staged outputs rolled back, the aborted exit status — and what
 * a SIGKILL leaves behind is swept by the next engine that starts on the same folders.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, EXIT_STATUS } from '../dist/index.js';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';

const BIN = join(repoRoot, 'dist', 'cli', 'main.js');
const STAGED = /\.sandcodec-[0-9a-f]{6}-\d+-[0-9a-f]{8}\.part$/;

let dir: string;
let source: string;

beforeAll(async () => {
  dir = await makeTempDir();
  source = join(dir, 'long.flac');
  const engine = await createEngine({ workers: 1 });
  try {
    await engine.generate({ kind: 'noise', seconds: 240, preset: 'flac', output: source });
  } finally {
    await engine.close();
  }
});

afterAll(async () => {
  await removeTempDir(dir);
});

/** Runs the CLI; `whenStaged` is called once a staged name appears in `watch`. */
function run(args: string[], watch: string, whenStaged: (child: ChildProcess) => void): Promise<{ status: number | null; stderr: string; sawStaged: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sawStaged = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const poll = setInterval(() => {
      if (sawStaged || !existsSync(watch)) return;
      if (readdirSync(watch).some((n) => STAGED.test(n))) {
        sawStaged = true;
        whenStaged(child);
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(poll);
      resolve({ status, stderr, sawStaged });
    });
  });
}

describe('SIGTERM', () => {
  it('aborts a ladder like Ctrl-C: the aborted status, and no staged file left', async () => {
    const out = join(dir, 'ladder-out');
    await mkdir(out);
    await writeFile(join(out, 'mine.txt'), 'mine');
    const result = await run(['ladder', source, '-o', out, '--presets', 'flac,vorbis-320'], out, (child) => child.kill('SIGTERM'));
    expect(result.sawStaged).toBe(true);
    expect(result.status, result.stderr).toBe(EXIT_STATUS.E_ABORTED);
    expect(result.stderr).toMatch(/^error \[E_ABORTED\]/m);
    expect(await readdir(out)).toEqual(['mine.txt']);
  });

  it('aborts a package: its staged folder and work files are removed', async () => {
    const parent = join(dir, 'pkg-parent');
    await mkdir(parent);
    const out = join(parent, 'pkg');
    const result = await run(['package', source, '-o', out, '--audio-only', '--audio', 'flac'], parent, (child) => child.kill('SIGTERM'));
    expect(result.sawStaged).toBe(true);
    expect(result.status, result.stderr).toBe(EXIT_STATUS.E_ABORTED);
    expect(await readdir(parent)).toEqual([]);
  });
});

describe('after SIGKILL', () => {
  it('leaves staged names, which the next engine on the same folder sweeps (and nothing else)', async () => {
    const out = join(dir, 'killed');
    await mkdir(out);
    await writeFile(join(out, 'mine.txt'), 'mine');
    const result = await run(['ladder', source, '-o', out, '--presets', 'flac'], out, (child) => child.kill('SIGKILL'));
    expect(result.status).toBeNull();
    const left = (await readdir(out)).filter((n) => STAGED.test(n));
    expect(left.length).toBeGreaterThan(0);

    const engine = await createEngine({ workers: 1, sweepDirs: [out] });
    try {
      expect([...engine.swept].sort()).toEqual(left.map((n) => join(out, n)).sort());
    } finally {
      await engine.close();
    }
    expect(await readdir(out)).toEqual(['mine.txt']);
  });
});
