/**
 * `-` as input (stdin) and output (stdout), as a shell pipeline uses the CLI: real processes, bytes
 * through real pipes, and what comes out checked with the library's own decode. With `-o -`
 * stdout carries nothing but the media (reports, progress and errors go to stderr), and a command
 * that fails writes nothing to it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../dist/index.js';
import { repoRoot } from './helpers/media.js';

const BIN = join(repoRoot, 'dist', 'cli', 'main.js');
const FLAC = join(repoRoot, 'test', 'fixtures', 'audio', 'ambi_lunar_land.flac');
const PNG = join(repoRoot, 'test', 'fixtures', 'image', 'coffee.png');

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the CLI with `stdin` piped in (or nothing), collecting stdout as bytes. */
function sandcodec(args: string[], stdin?: Uint8Array): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr }));
    // A command that fails before reading stdin closes it: that is not the test's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

let engine: Engine;

beforeAll(async () => {
  engine = await createEngine({ workers: 1 });
});

afterAll(async () => {
  await engine?.close();
});

describe('the CLI in a pipeline', () => {
  it('transcode - -o -: FLAC in through stdin, Opus out through stdout, the report on stderr', async () => {
    const flac = readFileSync(FLAC);
    const r = await sandcodec(['transcode', '-', '-o', '-', '--preset', 'opus-96', '--progress', 'none'], flac);
    expect(r.status, r.stderr).toBe(0);
    const made = await engine.probe(new Uint8Array(r.stdout), { decode: true });
    expect(made.streams[0]!.codec).toBe('opus');
    expect(made.decodedDuration).toBeCloseTo(7.394, 1);
    expect(r.stderr).toMatch(/^stdout \(opus-96, opus\)$/m);
  });

  it('probe - and loudness - read stdin; the result is the same as from the file', async () => {
    const flac = readFileSync(FLAC);
    const piped = await sandcodec(['probe', '-', '--json'], flac);
    expect(piped.status, piped.stderr).toBe(0);
    const fromPipe = JSON.parse(piped.stdout.toString()) as { format: string; duration: number; streams: Array<{ codec: string }> };
    const fromFile = await engine.probe({ path: FLAC });
    expect([fromPipe.format, fromPipe.duration, fromPipe.streams[0]!.codec]).toEqual([fromFile.format, fromFile.duration, fromFile.streams[0]!.codec]);
    const loud = await sandcodec(['loudness', '-', '--json'], flac);
    expect(loud.status, loud.stderr).toBe(0);
    const measured = await engine.loudness({ path: FLAC });
    expect((JSON.parse(loud.stdout.toString()) as { integrated: number }).integrated).toBeCloseTo(measured.integrated!, 6);
  });

  it('resize IN -o - --format png: the PNG on stdout is the size asked for', async () => {
    const r = await sandcodec(['resize', PNG, '-o', '-', '--width', '150', '--format', 'png', '--progress', 'none']);
    expect(r.status, r.stderr).toBe(0);
    expect([...r.stdout.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const made = await engine.probe(new Uint8Array(r.stdout));
    expect([made.streams[0]!.width, made.streams[0]!.height]).toEqual([150, 100]);
  });

  it('peaks - -o -: audiowaveform JSON on stdout, from stdin', async () => {
    const r = await sandcodec(['peaks', '-', '-o', '-', '--progress', 'none'], readFileSync(FLAC));
    expect(r.status, r.stderr).toBe(0);
    const waveform = JSON.parse(r.stdout.toString()) as { version: number; channels: number; sample_rate: number; data: number[] };
    expect([waveform.version, waveform.channels, waveform.sample_rate]).toEqual([2, 1, 44100]);
    const fromFile = await engine.peaks({ path: FLAC });
    expect(waveform.data).toEqual(fromFile.data);
  });

  it('-o - needs what a file name would have said, and a failure writes nothing to stdout', async () => {
    const noPreset = await sandcodec(['transcode', FLAC, '-o', '-']);
    expect(noPreset.status).toBe(2);
    expect(noPreset.stdout.length).toBe(0);
    expect(noPreset.stderr).toMatch(/^error \[E_OPTIONS\]: --preset: is required when the output is stdout/m);
    const noFormat = await sandcodec(['resize', PNG, '-o', '-', '--width', '10']);
    expect(noFormat.status).toBe(2);
    expect(noFormat.stderr).toMatch(/^error \[E_OPTIONS\]: --format: is required when the output is stdout/m);
    // Not media: exit 3, the JSON error on stderr (stdout is the output), stdout empty.
    const garbage = await sandcodec(['transcode', '-', '-o', '-', '--preset', 'opus-96', '--json'], new TextEncoder().encode('not audio at all\n'.repeat(100)));
    expect(garbage.status).toBe(3);
    expect(garbage.stdout.length).toBe(0);
    expect(garbage.stderr).toMatch(/\{"error":\{"code":"E_INPUT_INVALID"/);
  });

  it('stdin is counted against --max-input-bytes as it arrives', async () => {
    const r = await sandcodec(['probe', '-', '--max-input-bytes', '64k'], readFileSync(FLAC));
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/^error \[E_LIMIT\]: .*maxInputBytes/m);
  });
});
