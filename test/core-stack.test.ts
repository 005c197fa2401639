/**
 * The core's call stack keeps the 16-byte alignment its code relies on. Run 8 bytes off, the core
 * printed some floats as garbage (`fps=\ufffd.00`, `speed=   \ufffdx` in its progress report) besides
 * decoding video wrong (hevc.test.ts). A video run with two encoders and an audio one writes
 * its `-progress` report to a file: every number in it must be a number. This is the stock core's
 * repair (a built core runs each program on a fresh instance with its own aligned stack).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileCore } from '../dist/pool/core-module.js';
import { resolveCore } from '../dist/util/core-files.js';
import { FFmpegCore } from '../dist/worker/ffmpeg/core.js';
import { media } from './helpers/media.js';

const NUMBER_KEYS = /^(fps|speed|bitrate|stream_\d+_\d+_q)=/;
const WELL_FORMED = /^[a-z_0-9]+=\s*(N\/A|-?\d+(\.\d+)?(e[+-]?\d+)?(x|kbits\/s)?)$/;

describe('core call stack', () => {
  it('prints floats intact in the progress report of a multi-output video run', async () => {
    const stock = resolveCore('stock');
    const core = await FFmpegCore.create(await compileCore(stock), {
      cancelFlag: new Int32Array(new SharedArrayBuffer(4)),
      heapBudget: 512 * 1024 * 1024,
      core: stock,
    });
    core.FS.writeFile('/in.webm', await readFile(media('video', 'oa4-launch-vp8-vorbis.webm')));
    const encode = (size: string) => ['-map', '0:v', '-s', size, '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'null', '-'];
    await core.exec([
      '-hide_banner',
      '-loglevel',
      'error',
      '-progress',
      '/progress.txt',
      '-t',
      '2',
      '-i',
      '/in.webm',
      ...encode('640x360'),
      ...encode('320x180'),
      ...['-map', '0:a', '-c:a', 'aac', '-f', 'null', '-'],
    ]);
    const report = new TextDecoder().decode(core.FS.readFile('/progress.txt') as Uint8Array).split('\n');
    const numbers = report.filter((line) => NUMBER_KEYS.test(line));
    // Two encoders' q, fps, bitrate and speed at least once each, and the closing report.
    expect(numbers.length).toBeGreaterThanOrEqual(10);
    expect(report).toContain('progress=end');
    expect(numbers.filter((line) => !WELL_FORMED.test(line))).toEqual([]);
  });
});
