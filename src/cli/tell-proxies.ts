import Redis from 'ioredis';
import type { CliContext } from './context';
import type { Invalidation } from '../invalidation';
import { createPostgresBus } from '../invalidation/postgres-bus';
import { createRedisBus } from '../invalidation/redis-bus';
import { createLogger } from '../log';

/**
 * Tells every running proxy to forget what a key change made stale, on the channel the proxies
 * listen to (CACHE_INVALIDATION). The change itself is already saved: a failure here is a warning,
 * since the proxies forget on their own within KEY_CACHE_TTL.
 */
/** Returns whether the message went out. */
export async function tellProxies(ctx: CliContext, invalidation: Invalidation): Promise<boolean> {
  const { config } = ctx;
  const ttl = `${config.keyCache.ttlMs / 1000} s (KEY_CACHE_TTL)`;
  if (config.cacheInvalidation === 'off') {
    process.stderr.write(`Note: CACHE_INVALIDATION is off; running proxies forget cached keys within ${ttl}, or at once with POST /cache/reset on each.\n`);
    return false;
  }
  const logger = createLogger({ level: 'error', format: 'pretty', env: config.env });
  let redis: Redis | undefined;
  try {
    if (config.cacheInvalidation === 'redis' && config.redisUrl) {
      redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, commandTimeout: 3000, retryStrategy: () => null });
      redis.on('error', () => undefined);
      await redis.connect();
      await createRedisBus(redis, 'cli', logger).publish(invalidation);
    } else if (config.cacheInvalidation === 'postgres' && config.db.type === 'postgres') {
      await createPostgresBus(ctx.db, config.db.connection, 'cli', logger).publish(invalidation);
    }
    process.stderr.write(`Running proxies were told to forget it (${config.cacheInvalidation}).\n`);
    return true;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    process.stderr.write(`Warning: the change is saved, but running proxies could not be told (${config.cacheInvalidation}: ${reason}); they forget cached keys within ${ttl}.\n`);
    return false;
  } finally {
    redis?.disconnect();
  }
}
