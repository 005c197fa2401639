/**
 * Structured logs (pino): one JSON line per request and per job state change, each with the job's
 * id, operation, timings and outcome code, and the request id that submitted it so that a job's
 * lines can be found from the request that made it.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export function serviceLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'sandcodec',
      level: options.level ?? process.env.SANDCODEC_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      // Presigned URLs carry their signature in the query: never log one.
      redact: { paths: ['url', '*.url'], censor: (value) => (typeof value === 'string' ? value.replace(/\?.*$/, '?…') : value) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
