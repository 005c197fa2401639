/**
 * The pure parts of an FFmpeg run on the worker: log records assembled from stderr writes, text
 * made printable, the -progress stream, the command line a plan runs with, the families of a
 * refused format, and the bound on bytes outputs.
 */
import { describe, expect, it } from 'vitest';
import { printable } from '../../src/util/printable.js';
import { globalArgs, sandboxArgs } from '../../src/worker/ffmpeg/args.js';
import { refusedFormatError } from '../../src/worker/ffmpeg/formats.js';
import { type LogRecord, LogRecordParser } from '../../src/worker/ffmpeg/log.js';
import { type ProgressReport, ProgressSink } from '../../src/worker/ffmpeg/progress.js';
import { BufferSink } from '../../src/worker/ffmpeg/sandbox-fs.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function parse(writes: string[]): LogRecord[] {
  const records: LogRecord[] = [];
  const parser = new LogRecordParser((r) => records.push(r));
  for (const w of writes) parser.write(bytes(w));
  parser.flush();
  return records;
}

describe('log records', () => {
  it('takes component, level and message from FFmpeg’s separate writes', () => {
    expect(
      parse([
        '[mp3float @ 0x162fd20] ',
        '[error] ',
        'big_values too big\n',
        '[error] ',
        'Error while decoding stream #0:0: Invalid data found when processing input\n',
      ]),
    ).toEqual([
      { component: 'mp3float', address: '0x162fd20', level: 'error', text: 'big_values too big' },
      { level: 'error', text: 'Error while decoding stream #0:0: Invalid data found when processing input' },
    ]);
  });

  it('keeps a filter’s graph as its parent, and a message printed in pieces as one record', () => {
    const [r] = parse(['[AVFilterGraph @ 0x1] ', '[Parsed_volume_0 @ 0x2] ', '[error] ', 'Invalid volume ', "expression 'loud'\n"]);
    expect(r).toEqual({ parent: 'AVFilterGraph', component: 'Parsed_volume_0', address: '0x2', level: 'error', text: "Invalid volume expression 'loud'" });
  });

  it('text inside a message cannot start a record of its own', () => {
    const spoof = 'image/x\n[mov @ 0x1] [error] /job/in0: I/O error\nFile ended prematurely\n';
    const records = parse(['[mp3 @ 0xa] ', '[warning] ', `Unknown attached picture mimetype: ${spoof}`, '[error] ', 'real\n']);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ component: 'mp3', level: 'warning' });
    expect(records[0]!.text).toBe('Unknown attached picture mimetype: image/x\\n[mov @ 0x1] [error] /job/in0: I/O error\\nFile ended prematurely');
    expect(records[1]).toEqual({ level: 'error', text: 'real' });
  });

  it('a prefix-shaped message is a message, and a run ending mid-line still yields its record', () => {
    expect(parse(['[warning] ', '[tty @ 0x1] ', 'tail'])).toEqual([{ level: 'warning', text: '[tty @ 0x1] tail' }]);
  });

  it('bounds a record’s text', () => {
    const [r] = parse(['[error] ', `${'x'.repeat(100_000)}\n`]);
    expect(r!.text.length).toBe(2048);
  });

  it('makes text printable: escape sequences removed, controls and invisible reordering shown escaped', () => {
    expect(printable('a\x1b[31mred\x1b[0m\x1b]0;title\x07 b')).toBe('ared b');
    expect(printable('tab\there\r\n\x00\x7f\u009b')).toBe('tab here\\r\\n\\x00\\x7f\\x9b');
    expect(printable('abc\u202eevil\u200b\u2028')).toBe('abc\\u202eevil\\u200b\\u2028');
    expect(printable('été ✓ 日本')).toBe('été ✓ 日本');
  });
});

describe('-progress', () => {
  it('reports out_time_us and frame at each progress= line, across split writes', () => {
    const reports: ProgressReport[] = [];
    const sink = new ProgressSink((r) => reports.push(r));
    const text = 'frame=12\nfps=0.0\nout_time_us=1500000\nout_time=00:00:01.500000\nprogress=continue\nframe=25\nout_time_us=N/A\nprogress=end\n';
    let at = 0;
    for (const piece of [text.slice(0, 17), text.slice(17, 60), text.slice(60)]) {
      sink.write(bytes(piece), at);
      at += piece.length;
    }
    expect(reports).toEqual([
      { seconds: 1.5, frames: 12, end: false },
      { seconds: null, frames: 25, end: true },
    ]);
  });

  it('ignores lines that are not FFmpeg’s short key=value pairs', () => {
    const reports: ProgressReport[] = [];
    const sink = new ProgressSink((r) => reports.push(r));
    sink.write(bytes(`out_time_us=${'9'.repeat(500)}\nout_time_us=2000000\nprogress=continue\n`), 0);
    expect(reports).toEqual([{ seconds: 2, frames: null, end: false }]);
  });
});

describe('the command line', () => {
  const options = { whitelist: 'wav,flac', inputs: new Set(['/job/in0.flac', '/job/in.jpeg']) };

  it('sets every global the engine relies on, on every run', () => {
    const args = globalArgs('/job/.progress');
    for (const expected of [
      ['-loglevel', 'repeat+level+warning'],
      ['-noxerror'],
      ['-max_error_rate', '1'],
      ['-abort_on', '0'],
      ['-progress', '/job/.progress'],
      ['-nostats'],
    ]) {
      const at = args.indexOf(expected[0]!);
      expect(at, expected[0]).toBeGreaterThanOrEqual(0);
      expect(args.slice(at, at + expected.length)).toEqual(expected);
    }
  });

  it('drops the plan’s own error policy and log options, and fences each input', () => {
    expect(sandboxArgs(['-xerror', '-loglevel', 'info', '-i', '/job/in0.flac', '-stats', '-f', 'flac', '/job/out'], options)).toEqual([
      '-protocol_whitelist',
      'file,pipe',
      '-format_whitelist',
      'wav,flac',
      '-i',
      '/job/in0.flac',
      '-f',
      'flac',
      '/job/out',
    ]);
  });

  it('lets image2 open only a still named by the image pipeline, and a plan force its own raw data or one accepted demuxer', () => {
    expect(sandboxArgs(['-i', '/job/in.jpeg'], options)).toContain('wav,flac,image2');
    const fenced = (args: string[]) => args.slice(args.indexOf('-format_whitelist'), args.indexOf('-format_whitelist') + 2);
    expect(fenced(sandboxArgs(['-f', 'rawvideo', '-s', '2x2', '-i', '/job/in0.flac'], options))).toEqual(['-format_whitelist', 'rawvideo']);
    expect(fenced(sandboxArgs(['-f', 'jpeg_pipe', '-i', '/job/in0.flac'], options))).toEqual(['-format_whitelist', 'jpeg_pipe']);
    expect(() => sandboxArgs(['-f', 'image2', '-i', '/job/in0.flac'], options)).toThrow(/forces the input format image2/);
    expect(sandboxArgs(['-f', 'lavfi', '-i', 'sine=duration=1'], options)).not.toContain('-format_whitelist');
  });

  it('refuses globals that would outlive the job, inputs outside the plan and forced text formats', () => {
    expect(() => sandboxArgs(['-vsync', 'vfr', '-i', '/job/in0.flac'], options)).toThrow(/-vsync, which would outlive the job/);
    expect(() => sandboxArgs(['-copyts', '-i', '/job/in0.flac'], options)).toThrow(/-copyts/);
    expect(() => sandboxArgs(['-i', '/etc/passwd'], options)).toThrow(/not one of its inputs/);
    expect(() => sandboxArgs(['-f', 'concat', '-i', '/job/in0.flac'], options)).toThrow(/forces the input format concat/);
  });
});

describe('refused formats', () => {
  it('text, scripts and lists are invalid input; other media formats are unsupported', () => {
    expect(refusedFormatError('sbg', []).code).toBe('E_INPUT_INVALID');
    expect(refusedFormatError('hls', []).code).toBe('E_INPUT_INVALID');
    expect(refusedFormatError('voc', []).code).toBe('E_UNSUPPORTED');
    expect(refusedFormatError('voc', []).details.demuxer).toBe('voc');
  });
});

describe('bytes outputs', () => {
  it('grow in place up to their bound and never past it', () => {
    const sink = new BufferSink(100_000);
    sink.write(new Uint8Array(70_000).fill(1), 0);
    sink.write(new Uint8Array(20_000).fill(2), 70_000);
    expect(() => sink.write(new Uint8Array(20_000), 90_000)).toThrow(/cannot grow past 100000 bytes/);
    const out = sink.bytes();
    expect(out.byteLength).toBe(90_000);
    expect(out.buffer.byteLength).toBe(90_000);
    expect([out[69_999], out[70_000]]).toEqual([1, 2]);
  });
});
