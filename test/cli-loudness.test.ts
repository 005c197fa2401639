/**
 * `sandcodec loudness`, `normalize` and `peaks` as a user runs them: real processes and files,
 * exit statuses and the JSON scripts parse; outputs are checked with the library, not by trusting
 * what the CLI printed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Waveform } from '../dist/index.js';
import { withoutCall } from './helpers/call.js';
import { makeTempDir, media, removeTempDir, repoRoot } from './helpers/media.js';
import { dbfs, sineFill, writeWav } from './helpers/wav.js';

const BIN = join(repoRoot, 'dist', 'cli', 'main.js');

function sandcodec(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let engine: Engine;
let dir: string;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
  dir = await makeTempDir('sandcodec-cli-loudness-');
});

afterAll(async () => {
  await engine?.close();
  await removeTempDir(dir);
});

function sine(name: string, level: number, seconds = 4): string {
  const path = join(dir, name);
  writeWav(path, { format: 's16', sampleRate: 44100, channels: 2, frames: seconds * 44100 }, sineFill(44100, 1000, [dbfs(level), dbfs(level)]));
  return path;
}

describe('sandcodec loudness', () => {
  it('--json prints exactly the six measurements as numbers, equal to engine.loudness', async () => {
    const path = media('audio', 'ambi_lunar_land.flac');
    const run = await sandcodec(['loudness', path, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(printed)).toEqual(['integrated', 'range', 'truePeak', 'samplePeak', 'momentaryMax', 'shortTermMax']);
    for (const v of Object.values(printed)) expect(typeof v).toBe('number');
    expect(printed).toEqual(withoutCall(await engine.loudness({ path })));
  });

  it('digital silence: integrated is null', async () => {
    const path = join(dir, 'silence.flac');
    await engine.generate({ kind: 'silence', seconds: 2, output: path });
    const run = await sandcodec(['loudness', path, '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).integrated).toBeNull();
  });

  it('prints a readable report without --json', async () => {
    const run = await sandcodec(['loudness', sine('report.wav', -23)]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/integrated\s+-23\.0 LUFS/);
    expect(run.stdout).toMatch(/true peak\s+-23\.0 dBTP/);
  });

  it('a missing file exits 3 with a JSON error', async () => {
    const run = await sandcodec(['loudness', join(dir, 'nope.flac'), '--json']);
    expect(run.status).toBe(3);
    expect(JSON.parse(run.stdout).error.code).toBe('E_INPUT_INVALID');
  });
});

describe('sandcodec normalize', () => {
  it('IN -o OUT --target -16 (negative values as separate arguments): the output measures -16 LUFS', async () => {
    const src = sine('quiet.wav', -30);
    const out = join(dir, 'quiet.flac');
    const run = await sandcodec(['normalize', src, '-o', out, '--target', '-16', '--true-peak', '-2']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/gain\s+\+1[34]\.\d\d dB/);
    const m = await engine.loudness({ path: out });
    expect(Math.abs(m.integrated! + 16)).toBeLessThan(0.1);
    expect((await engine.probe({ path: out })).tags.REPLAYGAIN_TRACK_GAIN).toBe(`${(-18 - m.integrated!).toFixed(2)} dB`);
  });

  it('--policy limit --json: the result names the policy and the re-measured output', async () => {
    const src = sine('limit.wav', -20);
    const out = join(dir, 'limit.opus');
    const run = await sandcodec(['normalize', src, '-o', out, '--policy', 'limit', '--json']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as { policy: string; output: { integrated: number; truePeak: number }; tags: Record<string, string> };
    expect(r.policy).toBe('limit');
    expect(Math.abs(r.output.integrated + 14)).toBeLessThan(0.5);
    expect(r.output.truePeak).toBeLessThanOrEqual(-0.9);
    expect(r.tags.R128_TRACK_GAIN).toBeDefined();
    expect((await engine.loudness({ path: out })).integrated).toBeCloseTo(r.output.integrated, 6);
  });

  it('--album A B -o DIR: one gain for both tracks, album tags on each', async () => {
    const a = sine('track-a.wav', -20);
    const b = sine('track-b.wav', -26);
    const outDir = join(dir, 'album');
    const run = await sandcodec(['normalize', '--album', a, b, '-o', outDir, '--target', '-18', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as { gain: number; tracks: Array<{ path: string; gain: number }> };
    expect(r.tracks.map((t) => t.path)).toEqual([join(outDir, 'track-a.flac'), join(outDir, 'track-b.flac')]);
    expect(r.tracks.every((t) => t.gain === r.gain)).toBe(true);
    const [ma, mb] = await Promise.all(r.tracks.map((t) => engine.loudness({ path: t.path })));
    expect(ma!.integrated! - mb!.integrated!).toBeCloseTo(6, 1);
    const tags = await Promise.all(r.tracks.map(async (t) => (await engine.probe({ path: t.path })).tags));
    expect(tags[0]!.REPLAYGAIN_ALBUM_GAIN).toBeDefined();
    expect(tags[0]!.REPLAYGAIN_ALBUM_GAIN).toBe(tags[1]!.REPLAYGAIN_ALBUM_GAIN);
  });

  it('bad --policy exits 2 (E_OPTIONS) and writes nothing', async () => {
    const out = join(dir, 'never.flac');
    const run = await sandcodec(['normalize', sine('x.wav', -20, 1), '-o', out, '--policy', 'clip', '--json']);
    expect(run.status).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'E_OPTIONS' });
    expect(existsSync(out)).toBe(false);
  });
});

describe('sandcodec peaks', () => {
  it('-o peaks.json --pixels-per-second 10 --bits 8 writes the same waveform as engine.peaks', async () => {
    const path = media('audio', 'loop_amen.flac');
    const out = join(dir, 'peaks.json');
    const run = await sandcodec(['peaks', path, '-o', out, '--pixels-per-second', '10', '--bits', '8']);
    expect(run.status, run.stderr).toBe(0);
    const written = JSON.parse(await readFile(out, 'utf8')) as Waveform;
    expect(written).toEqual(withoutCall(await engine.peaks({ path }, { pixelsPerSecond: 10, bits: 8 })));
    expect(written).toMatchObject({ version: 2, bits: 8 });
  });

  it('--bits 12 exits 2', async () => {
    const run = await sandcodec(['peaks', media('audio', 'loop_amen.flac'), '-o', join(dir, 'p.json'), '--bits', '12']);
    expect(run.status).toBe(2);
  });
});
