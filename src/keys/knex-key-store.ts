import type { Knex } from 'knex';
import type { DbType } from '../config';
import { KEYS_TABLE } from './database';
import { SECONDS_LEFT_SQL } from './dialect';
import type { KeyRecord, KeyStore } from './types';
import { KeyStoreUnavailableError } from './types';

export function createKnexKeyStore(db: Knex, type: DbType, timeoutMs: number): KeyStore {
  const secondsLeft = SECONDS_LEFT_SQL[type];
  return {
    async findValidKeys(candidates) {
      try {
        const rows: Array<{ user_id: string; scopes: string | null; seconds_left: number | string | null }> = await db(KEYS_TABLE)
          .select('user_id', 'scopes', db.raw(`${secondsLeft} as seconds_left`))
          .whereIn('api_key', [...candidates])
          .timeout(timeoutMs, { cancel: type !== 'sqlite' });
        return rows
          .map((row): KeyRecord => ({
            userId: String(row.user_id),
            scopes: row.scopes ?? '',
            secondsLeft: Number(row.seconds_left),
          }))
          .filter((row) => Number.isFinite(row.secondsLeft) && row.secondsLeft > 0);
      } catch (err) {
        throw new KeyStoreUnavailableError(describeDbError(err));
      }
    },
    async ping() {
      try {
        await db.raw('select 1').timeout(timeoutMs, { cancel: type !== 'sqlite' });
      } catch (err) {
        throw new KeyStoreUnavailableError(describeDbError(err));
      }
    },
    async close() {
      await db.destroy();
    },
  };
}

/** A short reason for logs and metrics; driver messages name hosts and tables, not passwords. */
function describeDbError(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string };
  if (e?.name === 'KnexTimeoutError') return 'timed out';
  const text = [e?.code, e?.message].filter(Boolean).join(' ') || 'error';
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
