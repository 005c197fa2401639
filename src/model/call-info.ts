/**
 * One call of the engine (a probe, a transcode, a package…), as results, errors, channels and
 * logs report it. Times are milliseconds of wall clock.
 */
export interface CallInfo {
  /** Unique across processes (a UUID): what logs and traces correlate on. */
  id: string;
  /** The engine method: `probe`, `transcode`, `resize`, `package`, … */
  op: string;
  /** From the call to its result or error. */
  elapsedMs: number;
  /** Spent waiting for a worker, summed over the call's jobs. */
  queueMs: number;
  /** Spent running on workers, summed over the call's jobs (jobs on several workers add up). */
  runMs: number;
  /** Spent reading inputs (spooling streams) and putting outputs in place. */
  ioMs: number;
  /** Jobs the call ran on workers. */
  jobs: number;
}
