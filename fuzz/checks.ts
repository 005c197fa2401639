/**
 * What a case must satisfy, apart from not crashing the host: a failure is a SandcodecError of a
 * family a bad input may cause; a failed call leaves nothing in the output location and a
 * successful one only what it reports; the spool holds nothing of the call afterwards; the
 * caller's files (the input, a file beside the outputs, one at the destination) are untouched.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { SandcodecError } from '../dist/index.js';
import type { CaseSpec } from './case.js';

export type FindingKind =
  | 'host-crash'
  | 'uncaught'
  | 'untyped-error'
  | 'wrong-family'
  | 'limit-unnamed'
  | 'early-timeout'
  | 'hang'
  | 'valid-rejected'
  | 'leftover-output'
  | 'unreported-output'
  | 'missing-output'
  | 'leftover-spool'
  | 'user-file-destroyed'
  | 'input-modified'
  | 'rss'
  | 'pool-broken';

export interface Finding {
  kind: FindingKind;
  detail: string;
}

/** Families a corrupt, truncated or hostile input may fail with. */
const INPUT_FAMILIES = new Set(['E_INPUT_INVALID', 'E_UNSUPPORTED', 'E_LIMIT']);

export interface ErrorSummary {
  outcome: string;
  message: string;
  log?: string[];
  limit?: string;
}

export function describeError(err: unknown): ErrorSummary {
  if (err instanceof SandcodecError) {
    const log = Array.isArray(err.details.log) ? err.details.log.slice(-4) : undefined;
    return { outcome: err.code, message: err.message, ...(log ? { log } : {}), ...(err.details.limit ? { limit: String(err.details.limit) } : {}) };
  }
  const e = err as { name?: unknown; message?: unknown } | undefined;
  return { outcome: 'non-sandcodec', message: `${String(e?.name ?? typeof err)}: ${String(e?.message ?? err)}` };
}

/** Judges a failure against the case: the family, and for limits and timeouts, their details. */
export function judgeError(spec: CaseSpec, err: unknown, elapsedMs: number, aborted: boolean): Finding[] {
  const d = describeError(err);
  if (d.outcome === 'non-sandcodec') return [{ kind: 'untyped-error', detail: d.message }];
  const code = d.outcome;
  // The caller's own abort, or the hang guard's (reported as the hang).
  if (code === 'E_ABORTED' && (aborted || (spec.abortAfterMs !== null && elapsedMs >= spec.abortAfterMs))) return [];
  // A file already at the output path is refused: the fuzzer never asks to overwrite it.
  if (code === 'E_OPTIONS' && spec.occupied && /exists; pass overwrite: true/.test(d.message)) return [];
  if (spec.mutator === 'identity' && spec.fits && code === 'E_INPUT_INVALID') {
    return [{ kind: 'valid-rejected', detail: `${code}: ${d.message}` }];
  }
  if (INPUT_FAMILIES.has(code)) {
    if (code === 'E_LIMIT' && !d.limit) return [{ kind: 'limit-unnamed', detail: d.message }];
    return [];
  }
  if (code === 'E_TIMEOUT') {
    const timeout = spec.limits.timeoutMs ?? Infinity;
    return elapsedMs >= timeout * 0.9 ? [] : [{ kind: 'early-timeout', detail: `E_TIMEOUT after ${Math.round(elapsedMs)} ms of ${timeout}: ${d.message}` }];
  }
  return [{ kind: 'wrong-family', detail: `${code}: ${d.message}${d.log ? ` | log: ${d.log.join(' / ')}` : ''}` }];
}

/** Every entry under `dir`, relative, directories with a trailing slash. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (path: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = join(path, e.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (e.isDirectory()) {
        out.push(`${rel}/`);
        await visit(full);
      } else {
        out.push(rel);
      }
    }
  };
  await visit(dir);
  return out.sort();
}

export async function sha256Of(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  } catch {
    return undefined;
  }
}

export interface FileState {
  /** The output folder of the case. */
  out: string;
  /** Caller files that must survive: path → content hash before the call and where it sits. */
  userFiles: Map<string, { hash: string; where: string }>;
}

/** The marker a folder output records its entries in (`.sandcodec-package.json`, …). */
const MARKER = /(^|\/)\.sandcodec-[a-z]+\.json$/;

/** Output-location checks after the call: leftovers, unreported files, missing ones, destroyed user files. */
export async function judgeFiles(state: FileState, ok: boolean, reported: string[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  // Every caller file must survive, a successful call or not: the fuzzer never asks to
  // overwrite, and an output never replaces what it did not create.
  for (const [path, { hash, where }] of state.userFiles) {
    const now = await sha256Of(path);
    if (now !== hash) findings.push({ kind: 'user-file-destroyed', detail: `the caller's file ${where} was ${now === undefined ? 'deleted' : 'changed'}` });
  }
  const allowed = new Set<string>();
  const allow = (path: string) => {
    const rel = relative(state.out, path).split(sep).join('/');
    if (rel.startsWith('..')) return;
    allowed.add(rel);
    for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) allowed.add(rel.slice(0, i + 1));
  };
  for (const path of state.userFiles.keys()) allow(path);
  if (ok) for (const path of reported) allow(path);
  const tree = await listTree(state.out);
  const extra = tree.filter((e) => !allowed.has(e) && !(ok && MARKER.test(e)));
  if (extra.length > 0) {
    findings.push({
      kind: ok ? 'unreported-output' : 'leftover-output',
      detail: `${extra.length} entr${extra.length === 1 ? 'y' : 'ies'}: ${extra
        .slice(0, 6)
        .map((e) => e.replace(/[0-9a-f]{8}/g, '*'))
        .join(', ')}`,
    });
  }
  if (ok) {
    const present = new Set(tree);
    const missing = reported.filter((p) => !present.has(relative(state.out, p).split(sep).join('/')));
    if (missing.length > 0)
      findings.push({ kind: 'missing-output', detail: `${missing.length} reported file(s) do not exist: ${missing.slice(0, 3).join(', ')}` });
  }
  return findings;
}
