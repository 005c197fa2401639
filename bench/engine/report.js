// Markdown output: tables for the terminal and the Engine section of BENCHMARKS.md. Only the text
// between the engine markers is rewritten, so other sections of the file are left as they are.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const BEGIN = '<!-- engine-bench:begin (written by `npm run bench`) -->';
export const END = '<!-- engine-bench:end -->';

const NUMERIC = /^(—|-?[\d.]+(×| ms| s)?|\*\*.*\*\*)$/;

/** A markdown table; columns whose cells are all numbers are right-aligned. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i > 0 && rows.every((r) => NUMERIC.test(String(r[i]).trim())) ? '---:' : '---'));
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

export const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '—');
export const x = (v, digits = 2) => (Number.isFinite(v) ? `${v.toFixed(digits)}×` : '—');
export const verdict = (ok) => (ok ? 'met' : '**missed**');

const SKELETON = `# Benchmarks

Numbers from \`npm run bench\` and the kernel benchmarks in \`bench/\`. Each section says the
machine, the date and the command; compare numbers only within one section's run.

## Engine

${BEGIN}
${END}
`;

/** Replaces the generated part of the Engine section of `file` with `markdown`. */
export function writeEngineSection(file, markdown) {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : SKELETON;
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  let next;
  if (start === -1 || end === -1 || end < start) {
    next = `${current.trimEnd()}\n\n## Engine\n\n${BEGIN}\n${markdown.trim()}\n${END}\n`;
  } else {
    next = `${current.slice(0, start + BEGIN.length)}\n${markdown.trim()}\n${current.slice(end)}`;
  }
  writeFileSync(file, next);
}
