/**
 * The command line's durations: one reading for every flag that takes one (seconds, units, or a
 * clock like ffmpeg's), and an `E_OPTIONS` error naming the flag for anything else.
 */
import { describe, expect, it } from 'vitest';
import { duration } from '../../src/cli/values.js';

describe('duration', () => {
  it.each([
    ['90', 90],
    ['0.5', 0.5],
    ['90s', 90],
    ['1m30s', 90],
    ['1500ms', 1.5],
    ['2h', 7200],
    ['1h2m3.5s', 3723.5],
    ['01:30', 90],
    ['0:01:30.5', 90.5],
    [' 10S ', 10],
  ])('%s is %d s', (text, seconds) => {
    expect(duration('--every', text)).toBeCloseTo(seconds, 9);
  });

  it.each(['', '-5', '5x', '1m-3s', 'ms', '1:2:3:4', 'Infinity', '1e3', '0', '0s', '00:00'])('refuses %j, naming the flag', (text) => {
    expect(() => duration('--timeout', text)).toThrow(/^--timeout: must be a duration above 0 like 90, 90s, 1m30s, 1500ms or 01:30/);
  });

  it('allows 0 where the flag does (a clear lead of none)', () => {
    expect(duration('--clear-lead', '0', 'zero allowed')).toBe(0);
    expect(() => duration('--clear-lead', '-1', 'zero allowed')).toThrow(/^--clear-lead: must be a duration like/);
  });
});
