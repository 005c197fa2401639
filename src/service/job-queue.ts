/**
 * What the HTTP API asks of a job queue, whichever holds the jobs: the process itself
 * (local-queue.ts, `serve` without Redis) or Redis through BullMQ (redis-queue.ts).
 */
import type { ErrorCode } from '../errors.js';
import type { JobResult } from './job-runner.js';
import type { JobSpec } from './job-spec.js';
import type { QueueDepth } from './metrics.js';

export type JobState = 'queued' | 'active' | 'completed' | 'failed' | 'cancelled';

export interface JobError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface JobStatus {
  id: string;
  op: string;
  state: JobState;
  /** 0..1 */
  progress: number;
  /** Attempts started (1 on the first run). */
  attempts: number;
  result?: JobResult;
  error?: JobError;
}

export interface Submission {
  spec: JobSpec;
  /** The id of the request that submitted it, carried into the job's log lines. */
  requestId: string;
}

export interface JobQueue {
  /** Queues a job; a job id already known returns that job (`created: false`). */
  submit(id: string, job: Submission): Promise<{ id: string; created: boolean }>;
  status(id: string): Promise<JobStatus | null>;
  /** Cancels a queued job at once and a running one as soon as its worker sees it. */
  cancel(id: string): Promise<JobStatus | null>;
  depth(): Promise<QueueDepth>;
  /** Whether submissions can be taken now (Redis reachable). */
  ready(): boolean;
  close(): Promise<void>;
}

/** Codes worth another attempt: ours or the network's, never the caller's input or options. */
export const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['E_INTERNAL', 'E_IO', 'E_TIMEOUT']);
