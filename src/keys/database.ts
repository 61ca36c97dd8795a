import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Knex } from 'knex';
import knex from 'knex';
import type { DbConfig } from '../config';
import type { Logger } from '../log';

export const KEYS_TABLE = 'prefect_api_keys';

/** One Knex instance for the key store; the pool starts empty so the proxy starts while the database is down. */
export function createDatabase(db: DbConfig, logger?: Logger): Knex {
  // Knex prints pool and connection trouble with console.log; route it through the redacting logger.
  const log = {
    warn: (m: unknown) => logger?.warn(`key store: ${describe(m)}`),
    error: (m: unknown) => logger?.error(`key store: ${describe(m)}`),
    deprecate: (m: unknown) => logger?.debug(`key store: ${describe(m)}`),
    debug: () => undefined,
  };
  if (db.type === 'sqlite') {
    if (db.filename !== ':memory:') mkdirSync(dirname(db.filename), { recursive: true });
    return knex({
      client: 'better-sqlite3',
      connection: { filename: db.filename },
      useNullAsDefault: true,
      pool: { min: 1, max: 1 },
      log,
    });
  }
  const connection = typeof db.connection === 'string' ? db.connection : { ...db.connection };
  const common = {
    pool: { min: 0, max: db.poolMax, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: db.timeoutMs,
    log,
  };
  if (db.type === 'postgres') {
    const options = typeof connection === 'string'
      ? { connectionString: connection, connectionTimeoutMillis: db.timeoutMs }
      : { ...connection, connectionTimeoutMillis: db.timeoutMs };
    return knex({ client: 'pg', connection: options, ...common });
  }
  const options = typeof connection === 'string'
    ? { uri: connection, connectTimeout: db.timeoutMs }
    : { ...connection, connectTimeout: db.timeoutMs };
  return knex({ client: 'mysql2', connection: options, ...common });
}

/** Creates the original proxy's table in an embedded SQLite file, so a fresh `npm start` works. */
export async function ensureSqliteKeysTable(db: Knex): Promise<void> {
  if (await db.schema.hasTable(KEYS_TABLE)) return;
  await db.schema.createTable(KEYS_TABLE, (t) => {
    t.string('user_id', 128).notNullable().primary();
    t.string('scopes', 2000).notNullable();
    t.string('api_key', 128).notNullable().index('prefect_api_keys_api_key_idx');
    t.datetime('key_issu_dt').notNullable();
    t.datetime('key_expr_dt').notNullable();
    t.datetime('creatd_dt').notNullable();
    t.datetime('last_updatd_dt').notNullable();
    t.string('creatd_by', 11).notNullable();
    t.string('last_updatd_by', 11).notNullable();
  });
}

function describe(message: unknown): string {
  return message instanceof Error ? message.message : String(message);
}
