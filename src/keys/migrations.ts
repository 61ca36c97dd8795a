import type { Knex } from 'knex';
import type { DbType } from '../config';
import { KEYS_TABLE } from './database';

export const AUDIT_TABLE = 'prefect_audit_log';
export const MIGRATIONS_TABLE = 'prefect_auth_proxy_migrations';
/** One row per key change or cache reset, polled by every proxy (src/invalidation/change-log.ts). */
export const CHANGES_TABLE = 'prefect_auth_proxy_changes';

/** The original proxy's columns; an existing table must have them all to be used. */
const KEY_COLUMNS = ['user_id', 'scopes', 'api_key', 'key_issu_dt', 'key_expr_dt', 'creatd_dt', 'last_updatd_dt', 'creatd_by', 'last_updatd_by'];
/** `sha256:` and 64 hex digits. */
const HASHED_KEY_LENGTH = 71;

export class SchemaError extends Error {}

interface Migration {
  readonly name: string;
  up(db: Knex, type: DbType): Promise<void>;
}

const migrations: readonly Migration[] = [
  {
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
  },
  {
    name: '002_prefect_audit_log',
    async up(db, type) {
      if (await db.schema.hasTable(AUDIT_TABLE)) return;
      await db.schema.createTable(AUDIT_TABLE, (t) => {
        t.bigIncrements('id').primary();
        if (type === 'postgres') t.specificType('occurred_at', 'timestamptz(3)').notNullable();
        else if (type === 'mysql') t.specificType('occurred_at', 'datetime(3)').notNullable();
        else t.string('occurred_at', 32).notNullable();
        t.string('request_id', 128).notNullable();
        t.string('user_id', 128).nullable();
        t.string('outcome', 16).notNullable();
        t.string('dialect', 16).notNullable();
        t.string('operation', 1000).notNullable();
        t.string('operation_name', 255).nullable();
        t.string('permission', 2000).nullable();
        t.integer('status').nullable();
        t.string('client', 128).nullable();
        t.string('key_id', 64).nullable();
        t.double('latency_ms').nullable();
        t.index(['occurred_at'], 'prefect_audit_log_time_idx');
        t.index(['user_id', 'occurred_at'], 'prefect_audit_log_user_idx');
      });
    },
  },
  {
    name: '003_prefect_auth_proxy_changes',
    async up(db, type) {
      if (await db.schema.hasTable(CHANGES_TABLE)) return;
      await db.schema.createTable(CHANGES_TABLE, (t) => {
        // AUTOINCREMENT on SQLite: ids are never reused after pruning, so a poller's position stays meaningful.
        t.bigIncrements('id').primary();
        t.string('kind', 8).notNullable();
        t.string('subject', 255).nullable();
        t.specificType('changed_at', type === 'postgres' ? 'timestamp' : 'datetime').notNullable();
        t.index(['changed_at'], 'prefect_auth_proxy_changes_time_idx');
      });
    },
  },
];

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

/** Knex migrations from code, so they run the same from `dist/`, the Docker image and the tests. */
function migrationConfig(type: DbType): Knex.MigratorConfig {
  return {
    tableName: MIGRATIONS_TABLE,
    migrationSource: {
      getMigrations: async () => [...migrations],
      getMigrationName: (m: Migration) => m.name,
      getMigration: async (m: Migration) => ({ up: (db: Knex) => m.up(db, type), down: async () => undefined }),
    },
  };
}

/** Creates or upgrades the schema; never drops or rewrites data. Returns the migrations it applied. */
export async function migrateLatest(db: Knex, type: DbType): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig(type))) as [number, string[]];
  return applied;
}

export async function migrationStatus(db: Knex, type: DbType): Promise<{ applied: string[]; pending: string[] }> {
  const [done, pending] = (await db.migrate.list(migrationConfig(type))) as [Array<{ name: string } | string>, Array<{ name: string } | Migration>];
  return {
    applied: done.map((m) => (typeof m === 'string' ? m : m.name)),
    pending: pending.map((m) => m.name),
  };
}
