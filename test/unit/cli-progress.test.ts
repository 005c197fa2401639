/**
 * The CLI's terminal progress line: the command's label once, then the call's phase only when it
 * differs ("package 42%", "demo ladder 42%"), redrawn in place and erased at the end.
 */
import { describe, expect, it } from 'vitest';
import { terminalProgress } from '../../src/cli/progress.js';

function capture(): { stream: { write(text: string): boolean }; text: () => string } {
  let out = '';
  return {
    stream: {
      write(text: string) {
        out += text;
        return true;
      },
    },
    text: () => out,
  };
}

describe('terminalProgress', () => {
  it('names the command once when the phase is the command itself', () => {
    const { stream, text } = capture();
    const display = terminalProgress(stream, 'package');
    display.listener({ phase: 'package', ratio: 0.42, seconds: 12.5, speed: 2 });
    expect(text()).toBe('\r\x1b[Kpackage ██████████░░░░░░░░░░░░░░  42%  12.5 s  2.0×');
    display.done();
    expect(text().endsWith('\r\x1b[K')).toBe(true);
  });

  it('adds the phase when it says more', () => {
    const { stream, text } = capture();
    terminalProgress(stream, 'demo').listener({ phase: 'ladder', ratio: 1, seconds: 30, speed: undefined });
    expect(text()).toBe('\r\x1b[Kdemo ladder ████████████████████████ 100%  30.0 s');
  });
});
