/**
 * The service's Prometheus metrics (prom-client), one registry per service so that two services
 * in one process (tests) do not share counters: jobs by operation and outcome code, job and
 * request durations, queue depth, how busy the engine's workers are, bytes in and out, and the
 * process's own (memory, event-loop lag, handles).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed?: number;
  failed?: number;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly jobs: Counter<'op' | 'outcome'>;
  readonly jobSeconds: Histogram<'op'>;
  readonly requests: Counter<'route' | 'status'>;
  readonly requestSeconds: Histogram<'route'>;
  readonly bytes: Counter<'direction'>;

  constructor(sources: { depth: () => Promise<QueueDepth>; busy: () => number; engine: () => { running: number; waiting: number } }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'sandcodec_' });
    this.jobs = new Counter({
      name: 'sandcodec_jobs_total',
      help: 'Jobs finished, by operation and outcome (ok or the error code)',
      labelNames: ['op', 'outcome'],
      registers,
    });
    this.jobSeconds = new Histogram({
      name: 'sandcodec_job_duration_seconds',
      help: 'Time from a job starting on a worker to its outcome',
      labelNames: ['op'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers,
    });
    this.requests = new Counter({
      name: 'sandcodec_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'sandcodec_http_request_duration_seconds',
      help: 'HTTP request durations by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.bytes = new Counter({
      name: 'sandcodec_bytes_total',
      help: 'Media bytes received (in: uploads and downloaded inputs) and sent (out: responses and uploaded outputs)',
      labelNames: ['direction'],
      registers,
    });
    new Gauge({
      name: 'sandcodec_queue_depth',
      help: 'Jobs in the queue by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const d = await sources.depth().catch(() => null);
        if (!d) return;
        for (const [state, n] of Object.entries(d)) if (typeof n === 'number') this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'sandcodec_engine_calls',
      help: "This process's engine calls (synchronous calls and jobs): running on a worker, and waiting for one (bounded by --max-sync-queue)",
      labelNames: ['state'],
      registers,
      collect() {
        const e = sources.engine();
        this.set({ state: 'running' }, e.running);
        this.set({ state: 'waiting' }, e.waiting);
      },
    });
    new Gauge({
      name: 'sandcodec_worker_busy_ratio',
      help: "Share of this process's engine workers running a job (0..1)",
      registers,
      collect() {
        this.set(sources.busy());
      },
    });
  }
}
