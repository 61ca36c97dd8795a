import type { Knex } from 'knex';
import type { DbType } from '../config';
import type { KeyRecord, KeyStore } from '../keys';
import { HASH_PREFIX, KeyStoreUnavailableError } from '../keys';
import { describeDbError } from './db-error';
import { SECONDS_LEFT_SQL } from './dialect';
import { KEYS_TABLE } from './tables';

interface KeyRow {
  readonly user_id: string;
  readonly scopes: string | null;
  readonly api_key: string;
  readonly seconds_left: number | string | null;
}

export function createKnexKeyStore(db: Knex, type: DbType, timeoutMs: number): KeyStore {
  const secondsLeft = SECONDS_LEFT_SQL[type];
  return {
    async findValidKeys(candidates) {
      let rows: KeyRow[];
      try {
        rows = await db(KEYS_TABLE)
          .select('user_id', 'scopes', 'api_key', db.raw(`${secondsLeft} as seconds_left`))
          .whereIn('api_key', [...candidates])
          .timeout(timeoutMs, { cancel: type !== 'sqlite' });
      } catch (err) {
        throw new KeyStoreUnavailableError(describeDbError(err));
      }
      return rows
        .filter((row) => matchesExactly(String(row.api_key), candidates))
        .map((row): KeyRecord => ({
          userId: String(row.user_id),
          scopes: row.scopes ?? '',
          secondsLeft: Number(row.seconds_left),
        }))
        .filter((row) => Number.isFinite(row.secondsLeft) && row.secondsLeft > 0);
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

/**
 * The index finds the rows; this decides. MySQL's original latin1 table compares case-insensitively
 * (and ignores trailing spaces), so `tEsTkEy001` would open `TestKey001`: a plaintext key must match
 * exactly. A stored hash is hex, whose case carries no secret: it may be upper case.
 */
function matchesExactly(stored: string, candidates: readonly string[]): boolean {
  const hashed = stored.toLowerCase().startsWith(HASH_PREFIX);
  const value = hashed ? stored.toLowerCase() : stored;
  return candidates.some((candidate) => (hashed ? candidate.toLowerCase() === value : candidate === value));
}
