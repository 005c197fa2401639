/**
 * The thread boundary and the call lifecycle are the source layout; this test keeps them so.
 * Rules: `worker/` (code that runs on worker threads) imports only `model/`, `errors.ts`, `util/`
 * and itself; `model/` (plain data both threads share) imports only `errors.ts` and itself;
 * `ops/` never imports `worker/`; nothing imports `cli/` but `cli/`; `service/` (the HTTP API and
 * the Redis queue, with their dependencies) is imported only by itself and `cli/`, so the library
 * never loads them; and no import cycle anywhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative import (static, dynamic and re-export) of each module, as src-relative paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(src)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
      relative(src, resolve(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
    );
    graph.set(relative(src, file), [...new Set(targets)]);
  }
  return graph;
}

const layer = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);

const ALLOWED: Record<string, (target: string) => boolean> = {
  worker: (t) => ['worker', 'model', 'util', 'errors.ts'].includes(layer(t)),
  model: (t) => ['model', 'errors.ts'].includes(layer(t)),
  util: (t) => ['util', 'errors.ts'].includes(layer(t)),
  ops: (t) => layer(t) !== 'worker' && layer(t) !== 'cli',
};

describe('source layers', () => {
  const graph = importGraph();

  it('finds the modules and their imports', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('worker/index.ts')).toContain('worker/task-runner.ts');
    expect(graph.get('worker/task-runner.ts')).toContain('worker/ffmpeg/run-plan.ts');
  });

  it('imports only downward across the thread boundary', () => {
    const crossings: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const rule = ALLOWED[layer(from)];
        if (rule && !rule(to)) crossings.push(`${from} → ${to}`);
        if (layer(to) === 'cli' && layer(from) !== 'cli') crossings.push(`${from} → ${to}`);
        if (layer(to) === 'service' && layer(from) !== 'service' && layer(from) !== 'cli') crossings.push(`${from} → ${to}`);
      }
    }
    expect(crossings).toEqual([]);
  });

  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'open') {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
        return;
      }
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });
});
