/**
 * The run's summary: cases and outcomes per op and per mutator, outcomes per error family, every
 * finding with its replay id, and the findings grouped by signature (kind plus the message with
 * numbers, paths and hashes taken out), which is where triage into root causes starts. As JSON
 * for tools and as a table for people.
 */
import type { Finding } from './checks.js';
import type { CaseRecord, RunResult } from './runner.js';

export interface FindingEntry extends Finding {
  id: string;
  op: string;
  mutator: string;
  source: string;
  outcome: string;
  params: CaseRecord['params'];
}

export interface FindingGroup {
  signature: string;
  kind: string;
  count: number;
  ops: string[];
  mutators: string[];
  sources: string[];
  /** Replay ids of up to five cases, smallest input first. */
  examples: string[];
  detail: string;
}

export interface Summary {
  seed: number;
  cases: number;
  workers: number;
  concurrency: number;
  timeoutMs: number;
  corpus: string | null;
  setupSeconds: number;
  runSeconds: number;
  casesPerMinute: number;
  rss: RunResult['rss'];
  seeds: RunResult['seeds'];
  outcomes: Record<string, number>;
  byOp: Record<string, { cases: number; findings: number; outcomes: Record<string, number> }>;
  byMutator: Record<string, { cases: number; findings: number; outcomes: Record<string, number> }>;
  findings: FindingEntry[];
  groups: FindingGroup[];
  runFindings: Finding[];
  /** The command that replays one case alone (replace ID). */
  replay: string;
}

/** The finding with the volatile parts taken out: numbers, hex, paths, quoted names. */
export function signature(f: Finding): string {
  // FFmpeg's log tail differs from case to case; the message before it names the failure.
  const detail = f.detail
    .split(' | log:')[0]!
    .replace(/\/[^\s:,'"]+/g, '<path>')
    .replace(/0x[0-9a-f]+/gi, '<hex>')
    .replace(/[0-9a-f]{8,}/gi, '<hash>')
    .replace(/-?\d+(\.\d+)?/g, '<n>')
    .slice(0, 160);
  return `${f.kind}: ${detail}`;
}

export function summarize(run: RunResult, replayCommand: string): Summary {
  const tally = (key: (r: CaseRecord) => string) => {
    const out: Summary['byOp'] = {};
    for (const r of run.records) {
      const t = out[key(r)] ?? { cases: 0, findings: 0, outcomes: {} };
      out[key(r)] = t;
      t.cases++;
      if (r.findings.length > 0) t.findings++;
      t.outcomes[r.outcome] = (t.outcomes[r.outcome] ?? 0) + 1;
    }
    return out;
  };
  const outcomes: Record<string, number> = {};
  for (const r of run.records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const findings: FindingEntry[] = run.records.flatMap((r) =>
    r.findings.map((f) => ({ ...f, id: r.id, op: r.op, mutator: r.mutator, source: r.source, outcome: r.outcome, params: r.params })),
  );
  const bySignature = new Map<string, FindingEntry[]>();
  for (const f of findings) bySignature.set(signature(f), [...(bySignature.get(signature(f)) ?? []), f]);
  const sizeOf = new Map(run.records.map((r) => [r.id, r.size]));
  const groups = [...bySignature.entries()]
    .map(([sig, list]): FindingGroup => {
      const sorted = [...list].sort((a, b) => (sizeOf.get(a.id) ?? 0) - (sizeOf.get(b.id) ?? 0));
      return {
        signature: sig,
        kind: list[0]!.kind,
        count: list.length,
        ops: [...new Set(list.map((f) => f.op))],
        mutators: [...new Set(list.map((f) => f.mutator))],
        sources: [...new Set(list.map((f) => f.source))],
        examples: [...new Set(sorted.map((f) => f.id))].slice(0, 5),
        detail: sorted[0]!.detail,
      };
    })
    .sort((a, b) => b.count - a.count);
  return {
    seed: run.config.seed,
    cases: run.records.length,
    workers: run.config.workers,
    concurrency: run.config.concurrency,
    timeoutMs: run.config.timeoutMs,
    corpus: run.config.corpus,
    setupSeconds: round(run.setupSeconds),
    runSeconds: round(run.runSeconds),
    casesPerMinute: round(run.records.length / (run.runSeconds / 60)),
    rss: { baselineMb: Math.round(run.rss.baselineMb), boundMb: Math.round(run.rss.boundMb), peakMb: Math.round(run.rss.peakMb) },
    seeds: run.seeds,
    outcomes,
    byOp: tally((r) => r.op),
    byMutator: tally((r) => r.mutator),
    findings,
    groups,
    runFindings: run.runFindings,
    replay: replayCommand,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const FAMILY_COLUMNS = ['ok', 'E_INPUT_INVALID', 'E_UNSUPPORTED', 'E_LIMIT', 'E_TIMEOUT'];

function table(title: string, rows: Summary['byOp']): string[] {
  const others = (o: Record<string, number>) =>
    Object.entries(o)
      .filter(([k]) => !FAMILY_COLUMNS.includes(k))
      .map(([k, v]) => `${k.replace(/^E_/, '')}:${v}`)
      .join(' ');
  const header = [title, 'cases', 'ok', 'INVALID', 'UNSUPP', 'LIMIT', 'TIMEOUT', 'findings', 'other outcomes'];
  const body = Object.entries(rows)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, t]) => [name, String(t.cases), ...FAMILY_COLUMNS.map((c) => String(t.outcomes[c] ?? 0)), String(t.findings), others(t.outcomes)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)];
}

export function humanReport(s: Summary): string {
  const lines = [
    `sandcodec fuzz: seed ${s.seed}, ${s.cases} cases, ${s.workers} workers, ${s.concurrency} lanes, timeoutMs ${s.timeoutMs}`,
    `seeds: ${s.seeds.length} (${s.corpus ?? 'no corpus'} + generated); setup ${s.setupSeconds} s; cases ${s.runSeconds} s = ${s.casesPerMinute} cases/min`,
    `RSS: ${s.rss.baselineMb} MiB after setup, peak ${s.rss.peakMb} MiB, bound ${s.rss.boundMb} MiB`,
    '',
    ...table('op', s.byOp),
    '',
    ...table('mutator', s.byMutator),
    '',
  ];
  if (s.groups.length === 0 && s.runFindings.length === 0) {
    lines.push('no findings');
  } else {
    lines.push(`${s.findings.length} findings in ${s.cases} cases, ${s.groups.length} signatures:`);
    for (const g of s.groups) {
      lines.push(`  [${g.count}×] ${g.kind} — ${g.detail.slice(0, 200)}`);
      lines.push(`        ops ${g.ops.join(',')}; mutators ${g.mutators.join(',')}; e.g. ${g.examples.slice(0, 3).join(' ')}`);
    }
    for (const f of s.runFindings) lines.push(`  [run] ${f.kind} — ${f.detail}`);
    lines.push(`replay one: ${s.replay}`);
  }
  return lines.join('\n');
}
