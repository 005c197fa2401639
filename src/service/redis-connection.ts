/**
 * Connections to Redis for BullMQ. The API's connection fails commands at once while Redis is
 * away (so a submission gets 503 rather than waiting), a worker's waits and reconnects; both
 * keep trying to reconnect, every 2 s at most, for as long as the process lives.
 */
import { IOError, OptionsError } from '../errors.js';

export const QUEUE_NAME = 'sandcodec';
/** Jobs that failed every attempt, kept for people to look at and re-submit. */
export const DEAD_QUEUE_NAME = 'sandcodec-dead';

export const cancelKey = (id: string) => `sandcodec:cancel:${id}`;
export const cancelledKey = (id: string) => `sandcodec:cancelled:${id}`;

export function checkRedisUrl(value: unknown): string {
  if (typeof value !== 'string') throw new OptionsError('redis', 'must be a redis:// or rediss:// URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError('redis', `must be a redis:// or rediss:// URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new OptionsError('redis', `must be a redis:// or rediss:// URL, got ${url.protocol}`);
  return value;
}

type RedisCtor = typeof import('ioredis').Redis;
export type RedisClient = InstanceType<RedisCtor>;

/**
 * BullMQ, loaded when a service uses Redis. Its message encoder (msgpackr) would load a native
 * addon when one is installed: the engine runs no native code, so that stays off.
 */
export async function loadBullmq(): Promise<typeof import('bullmq')> {
  process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true';
  return import('bullmq');
}

export async function connect(url: string, role: 'producer' | 'worker', onError: (err: Error) => void): Promise<RedisClient> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    // BullMQ's blocking commands must wait through reconnects; the API's must fail fast.
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  client.on('error', onError);
  return client;
}

/** A failed Redis command as the error the API answers 503 to. */
export function unavailable(err: unknown): IOError {
  return new IOError(`the job queue (Redis) is unavailable: ${err instanceof Error ? err.message : String(err)}`, { unavailable: true }, { cause: err });
}
