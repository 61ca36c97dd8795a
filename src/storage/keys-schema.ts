import type { Knex } from 'knex';
import type { DbType } from '../config';
import type { Migration } from './migration';
import { SchemaError } from './migration';
import { KEYS_TABLE } from './tables';

/** The original proxy's columns; an existing table must have them all to be used. */
const KEY_COLUMNS = ['user_id', 'scopes', 'api_key', 'key_issu_dt', 'key_expr_dt', 'creatd_dt', 'last_updatd_dt', 'creatd_by', 'last_updatd_by'];
/** `sha256:` and 64 hex digits. */
const HASHED_KEY_LENGTH = 71;

export const keysTable: Migration = {
  name: '001_prefect_api_keys',
  async up(db, type) {
    if (await db.schema.hasTable(KEYS_TABLE)) {
      await checkKeysTable(db);
    } else {
      const time = type === 'postgres' ? 'timestamp' : 'datetime';
      await db.schema.createTable(KEYS_TABLE, (t) => {
        t.string('user_id', 128).notNullable().primary();
        t.string('scopes', 2000).notNullable();
        t.string('api_key', 128).notNullable();
        for (const c of ['key_issu_dt', 'key_expr_dt', 'creatd_dt', 'last_updatd_dt']) t.specificType(c, time).notNullable();
        t.string('creatd_by', 11).notNullable();
        t.string('last_updatd_by', 11).notNullable();
      });
    }
    if (!(await hasApiKeyIndex(db, type))) {
      await db.schema.alterTable(KEYS_TABLE, (t) => t.index(['api_key'], 'prefect_api_keys_api_key_idx'));
    }
  },
};

async function checkKeysTable(db: Knex): Promise<void> {
  const columns = await db(KEYS_TABLE).columnInfo();
  const missing = KEY_COLUMNS.filter((c) => !(c in columns));
  if (missing.length > 0) {
    throw new SchemaError(`table ${KEYS_TABLE} exists but lacks columns ${missing.join(', ')}: refusing to change it`);
  }
  const apiKey = columns.api_key as { maxLength?: number | string | null } | undefined;
  const length = Number(apiKey?.maxLength ?? 0);
  if (length > 0 && length < HASHED_KEY_LENGTH) {
    throw new SchemaError(`${KEYS_TABLE}.api_key holds ${length} characters; hashed keys need ${HASHED_KEY_LENGTH}: refusing to change it`);
  }
}

async function hasApiKeyIndex(db: Knex, type: DbType): Promise<boolean> {
  const sql: Record<DbType, string> = {
    postgres: `select 1 from pg_indexes where tablename = '${KEYS_TABLE}' and schemaname = current_schema() and indexdef like '%(api_key)%'`,
    mysql: `select 1 from information_schema.statistics where table_schema = database() and table_name = '${KEYS_TABLE}' and column_name = 'api_key' and seq_in_index = 1`,
    sqlite: `select 1 from pragma_index_list('${KEYS_TABLE}') il join pragma_index_info(il.name) ii where ii.name = 'api_key' and ii.seqno = 0`,
  };
  const result: unknown = await db.raw(sql[type]);
  const rows = type === 'postgres' ? (result as { rows: unknown[] }).rows : type === 'mysql' ? (result as unknown[][])[0] : (result as unknown[]);
  return (rows?.length ?? 0) > 0;
}
