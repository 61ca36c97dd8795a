import Redis from 'ioredis';
import type { CliContext } from './context';
import type { Invalidation } from '../invalidation';
import { createPostgresBus, createRedisBus } from '../invalidation';
import { createLogger } from '../log';
import { CHANGES_TABLE } from '../storage';

/** Whether the change table holds the change; `missing` until `db migrate` created it. */
export type Recording = 'recorded' | 'missing' | { readonly failed: string };

export interface Telling {
  /** Running proxies will forget it: through the change table they poll, or the bus. */
  readonly told: boolean;
  /** One line for the operator, saying what happens next or what to do. */
  readonly message: string;
}

/** Writes a change that is not a key change (a cache reset, a forgotten user) to the change table. */
export async function recordForProxies(ctx: CliContext, invalidation: Invalidation): Promise<Recording> {
  try {
    if (!(await ctx.storage.changeLog.exists())) return 'missing';
    await ctx.storage.changeLog.record([invalidation]);
  } catch (err) {
    return { failed: reasonOf(err) };
  }
  await ctx.storage.changeLog.prune().catch(() => undefined);
  return 'recorded';
}

/**
 * After a change is saved, makes sure running proxies forget what it made stale: the change table
 * (polled every KEY_CHANGE_POLL_INTERVAL) carries it; the bus (CACHE_INVALIDATION), when there is
 * one, is faster. Says what will happen, or what the operator must do.
 */
export async function tellProxies(ctx: CliContext, invalidation: Invalidation, recording: Recording): Promise<Telling> {
  const { config } = ctx;
  const published = await publish(ctx, invalidation);
  if (published === true) return { told: true, message: `Running proxies were told to forget it (${config.cacheInvalidation}).` };
  const seconds = config.keyChangePollMs / 1000;
  if (recording === 'recorded' && seconds > 0) return { told: true, message: `Running proxies forget it within ${seconds} s.` };

  const ttl = `${config.keyCache.ttlMs / 1000} s (KEY_CACHE_TTL)`;
  const busFailure = published === false ? '' : ` (CACHE_INVALIDATION=${config.cacheInvalidation}: ${published.failed})`;
  const why = recording === 'missing'
    ? `this key store has no ${CHANGES_TABLE} table yet: run \`prefect-auth-proxy db migrate\`${seconds > 0 ? `, and running proxies clear their caches within ${seconds} s` : ''}`
    : recording === 'recorded'
      ? 'KEY_CHANGE_POLL_INTERVAL is 0'
      : `the key store did not take the change record (${recording.failed})`;
  return {
    told: false,
    message: `Warning: running proxies were not told${busFailure}; ${why}. Until then they forget cached keys within ${ttl}, or at once with POST /cache/reset on each.`,
  };
}

/** true when sent, false when no bus is configured, or why sending failed. */
async function publish(ctx: CliContext, invalidation: Invalidation): Promise<true | false | { failed: string }> {
  const { config } = ctx;
  const logger = createLogger({ level: 'error', format: 'pretty', env: config.env });
  let redis: Redis | undefined;
  try {
    if (config.cacheInvalidation === 'redis' && config.redisUrl) {
      redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, commandTimeout: 3000, retryStrategy: () => null });
      redis.on('error', () => undefined);
      await redis.connect();
      await createRedisBus(redis, 'cli', logger).publish(invalidation);
      return true;
    }
    if (config.cacheInvalidation === 'postgres' && config.db.type === 'postgres') {
      await createPostgresBus(ctx.storage.notify, config.db.connection, 'cli', logger).publish(invalidation);
      return true;
    }
    return false;
  } catch (err) {
    return { failed: reasonOf(err) };
  } finally {
    redis?.disconnect();
  }
}

/** A code or the first line of a message: never SQL with its bindings. */
function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') return e.code;
  return typeof e?.message === 'string' ? (e.message.split('\n')[0] ?? 'error').slice(0, 200) : 'error';
}
