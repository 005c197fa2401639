/**
 * `--help`: every flag of every command is described (its value, default and allowed values),
 * and no line is wider than 80 columns.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, COMMON_OPTIONS, type CommandName } from '../../src/cli/args.js';
import { helpText } from '../../src/cli/help.js';

const commands = Object.keys(COMMANDS) as CommandName[];

describe('helpText', () => {
  it.each(commands)('%s: every flag described, every line within 80 columns', (command) => {
    const text = helpText(command);
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    const flags = [...Object.keys(COMMANDS[command].options), ...Object.keys(COMMON_OPTIONS)];
    for (const flag of flags) {
      // The flag at the start of its entry, then its description on that line or the next.
      expect(text, `--${flag}`).toMatch(new RegExp(`^ {2}(-\\w, )?--${flag}\\b.*\\n?.*\\w`, 'm'));
    }
    expect(text).toMatch(new RegExp(`^Usage: sandcodec ${command}`));
  });

  it('the overview lists every command within 80 columns', () => {
    const text = helpText();
    for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    for (const command of commands) expect(text).toMatch(new RegExp(`^ {2}${command} +\\w`, 'm'));
  });

  it('states defaults and allowed values', () => {
    expect(helpText('resize')).toMatch(
      /--kernel KERNEL +resampling filter: nearest, box, linear, catmull-rom,\n +mitchell, lanczos2, lanczos3 \(default lanczos3\)/,
    );
    expect(helpText('thumbnails')).toMatch(/--every DUR +one image every DUR \(default 10\)/);
    expect(helpText('package')).toMatch(/--format FORMAT +hls, dash or both \(default\)/);
  });
});
