import type Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import { gcra } from './gcra';
import type { RateLimit } from './limits';

export interface RateVerdict {
  readonly allowed: boolean;
  /** Whole seconds for `Retry-After` when refused (at least 1). */
  readonly retryAfterS: number;
  /** Where the verdict came from: `memory` also when Redis failed and this instance decided alone. */
  readonly store: 'memory' | 'redis';
}

export interface RateLimiter {
  /** Takes one request from the bucket of `id` (a key id, never the key). */
  take(id: string, limit: RateLimit): Promise<RateVerdict>;
}

const KEY_PREFIX = 'prefect-auth-proxy:rate:';

// Mirrors gcra(): Redis's own clock decides, so instances with skewed clocks share one bucket fairly.
// The tat is stored with three decimals: tostring() would round it to 14 significant digits.
const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = 1000 / tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local base = tonumber(redis.call('GET', KEYS[1])) or now
if base < now then base = now end
local earliest = base - tolerance
if now < earliest then return {0, math.ceil(earliest - now)} end
local tat = base + interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
return {1, 0}
`;

function verdict(allowed: boolean, retryAfterMs: number, store: RateVerdict['store']): RateVerdict {
  return { allowed, retryAfterS: allowed ? 0 : Math.max(1, Math.ceil(retryAfterMs / 1000)), store };
}

/** Buckets in this process only: right for one instance, or as the fallback when Redis fails. */
export function createMemoryLimiter(maxKeys = 100_000): RateLimiter {
  const tats = new LRUCache<string, number>({ max: maxKeys });
  return {
    async take(id, limit) {
      const now = performance.timeOrigin + performance.now();
      const result = gcra(tats.get(id), now, limit);
      if (result.allowed) tats.set(id, result.tat);
      return verdict(result.allowed, result.retryAfterMs, 'memory');
    },
  };
}

interface GcraCommand {
  prefectAuthProxyGcra(key: string, rps: number, burst: number): Promise<[number, number]>;
}

/**
 * Buckets shared by every instance through Redis. When Redis fails the request is decided by this
 * instance's own bucket: a limit is a guard against overload, not a permission, so the proxy keeps
 * serving and says so through `onError`.
 */
export function createRedisLimiter(redis: Redis, fallback: RateLimiter, onError: (err: Error) => void): RateLimiter {
  redis.defineCommand('prefectAuthProxyGcra', { numberOfKeys: 1, lua: GCRA_LUA });
  const command = redis as unknown as GcraCommand;
  return {
    async take(id, limit) {
      try {
        const [allowed, retryAfterMs] = await command.prefectAuthProxyGcra(KEY_PREFIX + id, limit.rps, limit.burst);
        return verdict(allowed === 1, retryAfterMs, 'redis');
      } catch (err) {
        onError(err as Error);
        return fallback.take(id, limit);
      }
    },
  };
}
