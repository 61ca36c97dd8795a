import type { Knex } from 'knex';
import type { DbType } from '../config';
import type { Invalidation } from '../invalidation';
import { generateKey, HASH_PREFIX, hashedKeyValue, KEY_ID_LENGTH } from '../keys';
import type { OwnKey, OwnKeyStore } from '../selfservice';
import { OwnKeyError } from '../selfservice';
import { hasChangeLog, recordChanges } from './change-log';
import { dbNowPlus, formatDbTime, SECONDS_LEFT_SQL } from './dialect';
import { PEOPLE_TABLE } from './people-schema';
import { KEYS_TABLE } from './tables';

/** `creatd_by` holds 11 characters: the person is in `owner_id`. */
const BY_SELF = 'self';
const NAME = /^[a-z0-9][a-z0-9_.-]{0,39}$/;
const USER_MAX = 128;

/**
 * The original MySQL table is latin1: a name in another script can neither be stored in it nor
 * compared with its columns. Such a person has no keys there and is told why when making one.
 */
function isCharsetTrouble(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD' || code === 'ER_CANT_AGGREGATE_2COLLATIONS' || code === 'ER_CANT_AGGREGATE_3COLLATIONS';
}
const CHARSET_MESSAGE = 'the key table cannot store your name (its character set is latin1): ask an administrator to convert it to utf8mb4';

export function createOwnKeyStore(db: Knex, type: DbType): OwnKeyStore {
  const now = (trx: Knex | Knex.Transaction = db) => dbNowPlus(trx, type, 0);
  const hasLastUsed = (async () => 'last_used_dt' in (await db(KEYS_TABLE).columnInfo()))().catch(() => false);

  const read = async (owner: string, name?: string, trx: Knex | Knex.Transaction = db): Promise<OwnKey[]> => {
    const columns = ['user_id', 'key_name', 'scopes', 'api_key', 'creatd_dt', 'key_expr_dt', db.raw(`${SECONDS_LEFT_SQL[type]} as seconds_left`)];
    if (await hasLastUsed) columns.push('last_used_dt');
    let query = trx(KEYS_TABLE).select(columns).where({ owner_id: owner, self_service: true }).orderBy('creatd_dt', 'desc');
    if (name !== undefined) query = query.where({ key_name: name });
    const rows: Array<Record<string, unknown>> = await query;
    return rows.map((r) => ({
      name: String(r.key_name),
      user: String(r.user_id),
      keyId: String(r.api_key).slice(HASH_PREFIX.length, HASH_PREFIX.length + KEY_ID_LENGTH),
      scopes: String(r.scopes),
      created: formatDbTime(r.creatd_dt),
      expires: formatDbTime(r.key_expr_dt),
      lastUsed: r.last_used_dt ? formatDbTime(r.last_used_dt) : null,
      active: Number(r.seconds_left) > 0,
    }));
  };

  /** Runs a change and tells every proxy to forget the named keys, in one transaction. */
  const change = async <T>(fn: (trx: Knex.Transaction) => Promise<{ result: T; users: readonly string[] }>): Promise<T> => {
    const logged = await hasChangeLog(db);
    return db.transaction(async (trx) => {
      const { result, users } = await fn(trx);
      if (logged && users.length > 0) await recordChanges(trx, type, users.map((userId): Invalidation => ({ kind: 'user', userId })));
      return result;
    });
  };

  const stopAllIn = async (trx: Knex.Transaction, owner: string): Promise<string[]> => {
    const rows: Array<{ user_id: string }> = await trx(KEYS_TABLE).select('user_id')
      .where({ owner_id: owner, self_service: true }).where('key_expr_dt', '>', now(trx));
    const users = rows.map((r) => String(r.user_id));
    if (users.length > 0) {
      await trx(KEYS_TABLE).whereIn('user_id', users).update({ key_expr_dt: now(trx), last_updatd_dt: now(trx), last_updatd_by: BY_SELF });
    }
    return users;
  };

  const orCharset = <T>(work: Promise<T>, fallback: () => T): Promise<T> => work.catch((err: unknown) => {
    if (isCharsetTrouble(err)) return fallback();
    throw err;
  });

  return {
    list: (owner) => orCharset(read(owner), () => []),

    async create({ owner, name, scopes, lifetimeS, maxKeys }) {
      if (!NAME.test(name)) throw new OwnKeyError('INVALID', 'a key name is 1 to 40 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
      const user = `${owner}/${name}`;
      if (user.length > USER_MAX) throw new OwnKeyError('INVALID', `your name and the key's name together must fit in ${USER_MAX} characters; choose a shorter key name`);
      const key = generateKey();
      await orCharset(change(async (trx) => {
        if (await trx(PEOPLE_TABLE).where({ user_id: owner, disabled: true }).first('user_id')) {
          throw new OwnKeyError('INVALID', 'an administrator has disabled your access: you cannot make keys');
        }
        if (await trx(KEYS_TABLE).where({ user_id: user }).first('user_id')) {
          throw new OwnKeyError('CONFLICT', `you already have a key named "${name}": revoke it first, or choose another name`);
        }
        const live = await trx(KEYS_TABLE).where({ owner_id: owner, self_service: true }).where('key_expr_dt', '>', now(trx)).count({ n: '*' });
        if (Number(live[0]?.n ?? 0) >= maxKeys) throw new OwnKeyError('LIMIT', `you have ${maxKeys} live keys, the most allowed: revoke one first`);
        await trx(KEYS_TABLE).insert({
          user_id: user, scopes, api_key: hashedKeyValue(key),
          key_issu_dt: now(trx), key_expr_dt: dbNowPlus(trx, type, lifetimeS), creatd_dt: now(trx), last_updatd_dt: now(trx),
          creatd_by: BY_SELF, last_updatd_by: BY_SELF, owner_id: owner, key_name: name, self_service: true,
        });
        return { result: undefined, users: [user] };
      }), () => {
        throw new OwnKeyError('INVALID', CHARSET_MESSAGE);
      });
      const [info] = await read(owner, name);
      return { key, info: info as OwnKey };
    },

    async revoke(owner, name) {
      await orCharset(change(async (trx) => {
        const row = await trx(KEYS_TABLE).where({ owner_id: owner, self_service: true, key_name: name }).first('user_id');
        if (!row) throw new OwnKeyError('NOT_FOUND', `you have no key named "${name}"`);
        await trx(KEYS_TABLE).where({ user_id: row.user_id }).update({ key_expr_dt: now(trx), last_updatd_dt: now(trx), last_updatd_by: BY_SELF });
        return { result: undefined, users: [String(row.user_id)] };
      }), () => {
        throw new OwnKeyError('NOT_FOUND', `you have no key named "${name}"`);
      });
      const [info] = await read(owner, name);
      return info as OwnKey;
    },

    stopAll: (owner) => orCharset(change(async (trx) => {
      const users = await stopAllIn(trx, owner);
      return { result: users, users };
    }), () => []),

    async isDisabled(person) {
      return Boolean(await db(PEOPLE_TABLE).where({ user_id: person, disabled: true }).first('user_id'));
    },

    setDisabled: (person, disabled, { by, reason }) => change(async (trx) => {
      const values = { disabled, reason: reason ?? null, updated_by: by.slice(0, 64), updated_at: new Date().toISOString() };
      const updated = await trx(PEOPLE_TABLE).where({ user_id: person }).update(values);
      if (Number(updated) === 0) await trx(PEOPLE_TABLE).insert({ user_id: person, ...values });
      // MySQL keeps the transaction after a failed statement: a latin1 table that cannot hold the name holds no keys of theirs.
      const stoppedKeys = disabled ? await stopAllIn(trx, person).catch((err: unknown) => {
        if (isCharsetTrouble(err)) return [];
        throw err;
      }) : [];
      return { result: { stoppedKeys }, users: stoppedKeys };
    }),
  };
}
