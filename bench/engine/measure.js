// Wall-clock sampling for long jobs: several runs, the median reported, bounded by a time budget
// so a slow preset on a loaded machine cannot stretch the whole benchmark past its limit.

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

let deadline = Infinity;

/** After `at` (a `performance.now()` time) every measurement takes only its minimum of runs. */
export function setDeadline(at) {
  deadline = at;
}

/**
 * Runs `fn` at least `min` and at most `max` times, stopping after `min` once `budgetMs` of wall
 * time is spent. `fn` may return extra numbers to keep per sample (e.g. the job's own time).
 * Returns `{ ms, samples, extras }` with `ms` the median wall time.
 */
export async function sample(fn, { min = 1, max = 3, budgetMs = 20_000 } = {}) {
  const samples = [];
  const extras = [];
  let spent = 0;
  const enough = () => samples.length >= min && (spent >= budgetMs || performance.now() > deadline);
  while (samples.length < max && !enough()) {
    globalThis.gc?.();
    const started = performance.now();
    const extra = await fn(samples.length);
    const ms = performance.now() - started;
    samples.push(ms);
    if (extra !== undefined) extras.push(extra);
    spent += ms;
  }
  return { ms: median(samples), samples, extras };
}

/** The median of one numeric field across the `extras` of a sample. */
export function medianOf(extras, key) {
  return median(extras.map((e) => e[key]).filter((v) => typeof v === 'number'));
}
