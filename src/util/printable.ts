/** Text from a file made safe to print: for logs, error messages and terminals. */

// ECMA-48 control sequences (colours, cursor movement, OSC titles), removed whole.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to remove
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
// C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text
// (bidirectional overrides, zero-width characters, line and paragraph separators).
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to escape
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Text from a file (tags, codec strings, names) reaches the log and, through it, error messages
 * and terminals: escape sequences are dropped and other control characters shown escaped, so a
 * log line can neither drive a terminal nor pass for two lines.
 */
export function printable(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(UNPRINTABLE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return ' ';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
