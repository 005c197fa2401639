/**
 * Tags are the file's text, and a hostile one carries terminal escape sequences (clear the screen,
 * retitle the window, fake a line): `sandcodec probe` prints them escaped, never raw.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir, repoRoot } from './helpers/media.js';
import { sineFill, writeWav } from './helpers/wav.js';

const run = promisify(execFile);
const BIN = join(repoRoot, 'dist', 'cli', 'main.js');
const HOSTILE = '\x1b[2J\x1b]0;owned\x07title\nfake line\u202e';

let dir: string;
let file: string;

/** A WAV with a RIFF INFO title (`INAM`) of `title`, the sizes kept right. */
async function withTitle(path: string, title: string): Promise<void> {
  const wav = await readFile(path);
  const text = Buffer.from(`${title}\0`, 'utf8');
  const inam = Buffer.concat([Buffer.from('INAM'), Buffer.alloc(4), text, Buffer.alloc(text.length & 1)]);
  inam.writeUInt32LE(text.length, 4);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.alloc(4), Buffer.from('INFO'), inam]);
  list.writeUInt32LE(list.length - 8, 4);
  const out = Buffer.concat([wav, list]);
  out.writeUInt32LE(out.length - 8, 4);
  await writeFile(path, out);
}

beforeAll(async () => {
  dir = await makeTempDir();
  file = join(dir, 'tagged.wav');
  writeWav(file, { format: 's16', sampleRate: 48000, channels: 1, frames: 4800 }, sineFill(48000, 1000, [0.5]));
  await withTitle(file, HOSTILE);
});

afterAll(async () => {
  await removeTempDir(dir);
});

describe('probe on a terminal', () => {
  it('prints a tag with escape sequences as visible, inert text on one line', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'probe', file]);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be printed
    expect(stdout).not.toMatch(/[\x1b\x07\u202e]/);
    const tags = stdout.split('\n').find((line) => line.startsWith('tags'));
    // The escape sequences are gone, the line break is a space, the direction override is shown.
    expect(tags).toBe('tags      title=title fake line\\u202e');
  });

  it('keeps the exact text in --json (JSON escapes it)', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'probe', file, '--json']);
    expect(JSON.parse(stdout).tags.title).toBe(HOSTILE);
  });
});
