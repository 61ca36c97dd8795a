import type { Knex } from 'knex';
import type { DbType } from '../config';
import type { Logger } from '../log';
import { describeDbError } from './db-error';
import { dbNowPlus } from './dialect';
import { KEYS_TABLE } from './tables';

export interface KeyUsageRecorder {
  /** A key row was used now: remembered in memory, written at the next flush. */
  used(userId: string): void;
  flush(): Promise<void>;
  /** Stops the timer and writes what is left. */
  close(): Promise<void>;
}

const CHUNK = 500;
/** Beyond this many distinct keys between flushes, more are dropped until the next flush (memory bound). */
const MAX_PENDING = 100_000;

/**
 * `last_used_dt`, batched: the hot path only adds a user id to a set; every `intervalMs` one UPDATE
 * per 500 used keys stamps them with the database's time. So "last used" is exact to the interval,
 * and a thousand requests a second cost one write a minute.
 */
export function createKeyUsageRecorder(db: Knex, type: DbType, options: { intervalMs: number; logger?: Logger }): KeyUsageRecorder {
  let pending = new Set<string>();
  let warned = false;
  const flush = async (): Promise<void> => {
    if (pending.size === 0) return;
    const batch = [...pending];
    pending = new Set();
    try {
      for (let i = 0; i < batch.length; i += CHUNK) {
        await db(KEYS_TABLE).whereIn('user_id', batch.slice(i, i + CHUNK)).update({ last_used_dt: dbNowPlus(db, type, 0) });
      }
      warned = false;
    } catch (err) {
      // Keys keep working; the next flush stamps them. Said once until a flush succeeds again.
      for (const user of batch) if (pending.size < MAX_PENDING) pending.add(user);
      if (!warned) options.logger?.warn('cannot record when keys were last used (run `prefect-auth-proxy db migrate`?)', { reason: describeDbError(err) });
      warned = true;
    }
  };
  const timer = setInterval(() => void flush(), options.intervalMs);
  timer.unref();
  return {
    used(userId) {
      if (pending.size < MAX_PENDING) pending.add(userId);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
