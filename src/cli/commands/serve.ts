/**
 * `sandcodec serve` and `sandcodec worker`: the service's processes. They run until SIGTERM or
 * Ctrl-C, then drain: readiness goes false, no new work is taken, running work finishes within
 * --drain-seconds (a worker hands back what does not), and the process exits 0. A second signal
 * exits at once.
 */
import type { RunningService, ServiceOptions } from '../../service/service.js';
import type { CommandContext } from '../context.js';
import { duration, integer } from '../values.js';

function port(flag: string, text: string | boolean | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  return text.trim() === '0' ? 0 : integer(flag, text);
}

function count(flag: string, text: string | boolean | undefined, zero = false): number | undefined {
  if (typeof text !== 'string') return undefined;
  return zero && text.trim() === '0' ? 0 : integer(flag, text);
}

function ms(flag: string, text: string | boolean | undefined): number | undefined {
  return typeof text === 'string' ? Math.round(duration(flag, text, 'zero allowed') * 1000) : undefined;
}

function serviceOptions(ctx: CommandContext, portFlag: 'port' | 'metrics-port'): ServiceOptions {
  const v = ctx.values;
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;
  return defined({
    port: port(`--${portFlag}`, v[portFlag]),
    host: v.host as string | undefined,
    // The URL may hold Redis's password: REDIS_URL keeps it out of the process's arguments.
    redis: (v.redis as string | undefined) ?? (process.env.REDIS_URL || undefined),
    workers: ctx.common.workers,
    concurrency: count('--concurrency', v.concurrency, true),
    allowHosts: v['allow-hosts'] as string | undefined,
    outputRoot: v['output-root'] as string | undefined,
    maxQueue: count('--max-queue', v['max-queue']),
    maxSyncQueue: count('--max-sync-queue', v['max-sync-queue'], true),
    attempts: count('--attempts', v.attempts),
    lockMs: ms('--lock-seconds', v['lock-seconds']),
    drainMs: ms('--drain-seconds', v['drain-seconds']),
    workDir: v['work-dir'] as string | undefined,
    core: ctx.common.core,
    limits: Object.keys(ctx.common.limits).length ? ctx.common.limits : undefined,
  });
}

async function runUntilSignal(ctx: CommandContext, start: () => Promise<RunningService>): Promise<void> {
  const service = await start();
  if (ctx.common.json) ctx.print(JSON.stringify({ port: service.port }));
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await service.stop();
  // Everything is closed; should a client library still hold a handle, it must not keep a
  // stopped service's process alive (an unref'd timer fires only if something else does).
  setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref();
}

export async function serveCommand(ctx: CommandContext): Promise<void> {
  const { startServer } = await import('../../service/service.js');
  if (ctx.common.workers === 0) throw new (await import('../../errors.js')).OptionsError('--workers', 'must be at least 1 for a service');
  await runUntilSignal(ctx, () => startServer(serviceOptions(ctx, 'port')));
}

export async function workerCommand(ctx: CommandContext): Promise<void> {
  const { startWorker } = await import('../../service/service.js');
  const { OptionsError } = await import('../../errors.js');
  if (ctx.common.workers === 0) throw new OptionsError('--workers', 'must be at least 1 for a service');
  if (ctx.values.redis === undefined && !process.env.REDIS_URL)
    throw new OptionsError('--redis', 'is required: a worker takes its jobs from Redis (or set REDIS_URL)');
  await runUntilSignal(ctx, () => startWorker(serviceOptions(ctx, 'metrics-port')));
}
