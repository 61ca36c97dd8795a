import Redis from 'ioredis';
import type { Config } from '../config';
import type { KeyResolver } from '../keys';
import { HASH_PREFIX, sha256Hex } from '../keys';
import type { Logger } from '../log';
import type { InvalidationBus } from './bus';
import type { Invalidation } from './messages';
import type { Notify } from './postgres-bus';
import { createPostgresBus } from './postgres-bus';
import { createRedisBus } from './redis-bus';

/**
 * The shared Redis client. Commands fail fast while Redis is away (no offline queue, one retry,
 * a short timeout) so a Redis outage never holds up a request: callers fall back or report.
 */
export function createRedisClient(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000, connectTimeout: 5000 });
  let healthy = true;
  redis.on('error', (err: NodeJS.ErrnoException) => {
    if (healthy) logger.warn('Redis unreachable; rate limits are per instance until it is back', { reason: err.code ?? err.message });
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.notice('Redis reachable again');
    healthy = true;
  });
  return redis;
}

/** The bus CACHE_INVALIDATION chose, or undefined when instances do not talk to each other. */
export function createInvalidationBus(config: Config, notify: Notify, redis: Redis | undefined, origin: string, logger: Logger): InvalidationBus | undefined {
  if (config.cacheInvalidation === 'redis' && redis) return createRedisBus(redis, origin, logger);
  if (config.cacheInvalidation === 'postgres' && config.db.type === 'postgres') return createPostgresBus(notify, config.db.connection, origin, logger);
  return undefined;
}

export interface InvalidationHooks {
  readonly logger: Logger;
  /** Counts each invalidation made here and published. */
  readonly onLocal?: (invalidation: Invalidation) => void;
}

/**
 * The resolver, with every eviction also sent to the other instances. Evictions apply here at once;
 * a failed publish is logged (the others then forget at KEY_CACHE_TTL) and does not fail the caller.
 */
export function withInvalidation(resolver: KeyResolver, bus: InvalidationBus, hooks: InvalidationHooks): KeyResolver {
  const send = (invalidation: Invalidation) => {
    hooks.onLocal?.(invalidation);
    bus.publish(invalidation).catch((err: Error) => hooks.logger.error('cannot tell other instances about a cache eviction; they forget it at KEY_CACHE_TTL', {
      transport: bus.transport,
      kind: invalidation.kind,
      reason: (err as NodeJS.ErrnoException).code ?? err.message,
    }));
  };
  return {
    resolve: (key) => resolver.resolve(key),
    resolveHash: (hash) => resolver.resolveHash(hash),
    evict(keyOrHash) {
      const keyHash = keyOrHash.toLowerCase().startsWith(HASH_PREFIX) ? keyOrHash.slice(HASH_PREFIX.length).toLowerCase() : sha256Hex(keyOrHash);
      // Anything but a real hash cannot be cached, here or elsewhere: nothing to tell.
      if (/^[0-9a-f]{64}$/.test(keyHash)) send({ kind: 'key', keyHash });
      return resolver.evict(`${HASH_PREFIX}${keyHash}`);
    },
    evictUser(userId) {
      send({ kind: 'user', userId });
      return resolver.evictUser(userId);
    },
    reset() {
      send({ kind: 'all' });
      resolver.reset();
    },
    get size() {
      return resolver.size;
    },
  };
}
