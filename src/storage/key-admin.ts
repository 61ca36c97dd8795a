import type { Knex } from 'knex';
import type { RoleTable } from '../authz';
import type { DbType } from '../config';
import type { Invalidation } from '../invalidation';
import type { Expiry, KeyAdmin, KeyInfo, Recorded } from '../keys';
import { checkBy, checkUser, DEFAULT_EXPIRY, generateKey, HASH_PREFIX, hashedKeyValue, KEY_ID_LENGTH, KeyAdminError, normalizeScopes } from '../keys';
import { hasChangeLog, pruneChanges, recordChanges } from './change-log';
import { dbNowPlus, formatDbTime, SECONDS_LEFT_SQL } from './dialect';
import { KEYS_TABLE } from './tables';

/**
 * Key management over the original table. Only `sha256:<hex>` is ever written for new keys; the
 * `previous` stored value returned by changes lets a running proxy evict the old cache entry.
 * Every change also writes a row to the change table, in the same transaction.
 */
export function createKeyAdmin(db: Knex, type: DbType, roles: RoleTable): KeyAdmin {
  const now = () => dbNowPlus(db, type, 0);
  const expiryValue = (e: Expiry) => ('in' in e ? dbNowPlus(db, type, e.in) : e.at);
  // Once there, the table stays: ask until it is.
  let logged = false;
  const changeLogReady = async () => (logged ||= await hasChangeLog(db));
  /**
   * Runs a change and records what proxies must forget, in one transaction. Queries inside must
   * use `trx`: SQLite has a single connection, which the transaction holds.
   */
  const change = async <T>(fn: (trx: Knex.Transaction) => Promise<{ result: T; changes: readonly Invalidation[] }>): Promise<T & Recorded> => {
    const recorded = await changeLogReady();
    const result = await db.transaction(async (trx) => {
      const done = await fn(trx);
      if (recorded) await recordChanges(trx, type, done.changes);
      return done.result;
    });
    if (recorded) await pruneChanges(db, type).catch(() => undefined);
    return { ...result, recorded };
  };

  // Columns of later migrations, read when a shared store has them (`db migrate`).
  const added = async (): Promise<string[]> => {
    const columns = await db(KEYS_TABLE).columnInfo();
    return ['last_used_dt', 'self_service'].filter((c) => c in columns);
  };
  const read = async (user?: string, unusedDays?: number): Promise<KeyInfo[]> => {
    const extra = await added();
    let query = db(KEYS_TABLE)
      .select('user_id', 'scopes', 'api_key', 'key_issu_dt', 'key_expr_dt', 'creatd_by', 'last_updatd_by', ...extra, db.raw(`${SECONDS_LEFT_SQL[type]} as seconds_left`))
      .orderBy('user_id');
    if (user !== undefined) query = query.where({ user_id: user });
    if (unusedDays !== undefined) {
      const before = dbNowPlus(db, type, -unusedDays * 86400);
      query = query.where('key_expr_dt', '>', now()).where((q) => {
        if (!extra.includes('last_used_dt')) return q.where('creatd_dt', '<', before);
        return q.where('last_used_dt', '<', before).orWhere((n) => n.whereNull('last_used_dt').where('creatd_dt', '<', before));
      });
    }
    const rows: Array<Record<string, unknown>> = await query;
    return rows.map((r) => {
      const stored = String(r.api_key);
      const hashed = stored.toLowerCase().startsWith(HASH_PREFIX);
      return {
        user: String(r.user_id),
        scopes: String(r.scopes),
        issued: formatDbTime(r.key_issu_dt),
        expires: formatDbTime(r.key_expr_dt),
        active: Number(r.seconds_left) > 0,
        storage: hashed ? 'hashed' : 'plaintext',
        keyId: hashed ? stored.slice(HASH_PREFIX.length, HASH_PREFIX.length + KEY_ID_LENGTH).toLowerCase() : null,
        createdBy: String(r.creatd_by),
        updatedBy: String(r.last_updatd_by),
        lastUsed: r.last_used_dt ? formatDbTime(r.last_used_dt) : null,
        selfService: Boolean(Number(r.self_service ?? 0)),
      };
    });
  };

  const show = async (user: string): Promise<KeyInfo> => {
    const [info] = await read(user);
    if (!info) throw new KeyAdminError('NOT_FOUND', `no key for user "${user}"`);
    return info;
  };

  const update = async (user: string, by: string, values: Record<string, unknown>) => {
    checkBy(by);
    const { previous, recorded } = await change(async (trx) => {
      const row = await trx(KEYS_TABLE).where({ user_id: user }).first('user_id', 'api_key');
      if (!row) throw new KeyAdminError('NOT_FOUND', `no key for user "${user}"`);
      await trx(KEYS_TABLE).where({ user_id: user }).update({ ...values, last_updatd_dt: now(), last_updatd_by: by });
      // The stored id, not the one typed: a case-insensitive collation matches both, caches hold the stored one.
      return { result: { previous: String(row.api_key) }, changes: [{ kind: 'user', userId: String(row.user_id) }] };
    });
    return { info: await show(user), previous, recorded };
  };

  const checkDays = (days: number): void => {
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new KeyAdminError('INVALID', 'days must be a whole number from 1 to 3650');
  };

  return {
    list: () => read(),
    show,

    async listUnused(days) {
      checkDays(days);
      return read(undefined, days);
    },

    async expireUnused(days, { dryRun, by }) {
      checkDays(days);
      checkBy(by);
      const users = (await read(undefined, days)).map((k) => k.user);
      if (dryRun || users.length === 0) return { users, recorded: await changeLogReady() };
      return change(async (trx) => {
        for (let i = 0; i < users.length; i += 500) {
          await trx(KEYS_TABLE).whereIn('user_id', users.slice(i, i + 500)).update({ key_expr_dt: dbNowPlus(trx, type, 0), last_updatd_dt: dbNowPlus(trx, type, 0), last_updatd_by: by });
        }
        return { result: { users }, changes: users.map((userId): Invalidation => ({ kind: 'user', userId })) };
      });
    },

    async create({ user, scopes, expires, by }) {
      checkBy(by);
      checkUser(user);
      const normalized = normalizeScopes(scopes, roles);
      const key = generateKey();
      const { recorded } = await change(async (trx) => {
        if (await trx(KEYS_TABLE).where({ user_id: user }).first('user_id')) {
          throw new KeyAdminError('CONFLICT', `user "${user}" already has a key: use rotate, set-scopes or revoke`);
        }
        await trx(KEYS_TABLE).insert({
          user_id: user,
          scopes: normalized,
          api_key: hashedKeyValue(key),
          key_issu_dt: now(),
          key_expr_dt: expiryValue(expires ?? DEFAULT_EXPIRY),
          creatd_dt: now(),
          last_updatd_dt: now(),
          creatd_by: by,
          last_updatd_by: by,
        });
        // Nothing can be cached for a key nobody has seen; the row keeps the log a full account of changes.
        return { result: {}, changes: [{ kind: 'user', userId: user }] };
      });
      return { info: await show(user), key, recorded };
    },

    async rotate(user, { expires, by }) {
      const current = await show(user);
      const key = generateKey();
      const keepExpiry = expires === undefined && current.active;
      const result = await update(user, by, {
        api_key: hashedKeyValue(key),
        key_issu_dt: now(),
        ...(keepExpiry ? {} : { key_expr_dt: expiryValue(expires ?? DEFAULT_EXPIRY) }),
      });
      return { ...result, key };
    },

    revoke: (user, by) => update(user, by, { key_expr_dt: now() }),
    setScopes: (user, scopes, by) => update(user, by, { scopes: normalizeScopes(scopes, roles) }),
    expire: (user, at, by) => update(user, by, { key_expr_dt: expiryValue(at) }),

    async hashExisting({ dryRun, by }) {
      checkBy(by);
      return change(async (trx) => {
        const rows: Array<{ user_id: string; api_key: string }> = await trx(KEYS_TABLE)
          .select('user_id', 'api_key')
          .whereRaw('lower(api_key) not like ?', [`${HASH_PREFIX}%`]);
        if (!dryRun) {
          for (const row of rows) {
            await trx(KEYS_TABLE).where({ user_id: row.user_id }).update({
              api_key: hashedKeyValue(row.api_key),
              last_updatd_dt: dbNowPlus(trx, type, 0),
              last_updatd_by: by,
            });
          }
        }
        const users = rows.map((r) => String(r.user_id));
        return { result: { users }, changes: dryRun ? [] : users.map((userId): Invalidation => ({ kind: 'user', userId })) };
      });
    },
  };
}
