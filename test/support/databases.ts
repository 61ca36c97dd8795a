import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import type { Knex } from 'knex';
import knex from 'knex';
import { hashedKeyValue, migrateLatest } from '../../src/keys';

export type DbKind = 'postgres' | 'mysql' | 'sqlite';
export const DB_KINDS: readonly DbKind[] = ['postgres', 'mysql', 'sqlite'];

const PG_HOST = process.env.TEST_PG_HOST ?? '127.0.0.1';
const MYSQL_HOST = process.env.TEST_MYSQL_HOST ?? '127.0.0.1';
const ROOT = join(__dirname, '..', '..');

export interface TestDatabase {
  readonly kind: DbKind;
  /** Environment for the proxy's configuration that points at this database. */
  readonly env: Record<string, string>;
  readonly knex: Knex;
  drop(): Promise<void>;
}

/**
 * A fresh database with the table created by the shipped `data/<kind>/db_init.sql`
 * (by Knex for SQLite, as the proxy does). `port` overrides where the proxy connects (a relay).
 */
export async function createTestDatabase(kind: DbKind, name: string, port?: number): Promise<TestDatabase> {
  // Unique per process, so two test runs on one machine never drop each other's databases.
  const database = `pap_t_${name}_${process.pid}`.toLowerCase();
  if (kind === 'postgres') {
    const admin = knex({ client: 'pg', connection: { host: PG_HOST, user: 'postgres', database: 'postgres' } });
    await admin.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.raw(`CREATE DATABASE ${database}`);
    await admin.destroy();
    const db = knex({ client: 'pg', connection: { host: PG_HOST, user: 'postgres', database }, pool: { min: 0, max: 2 } });
    await db.raw(readFileSync(join(ROOT, 'data/postgres/db_init.sql'), 'utf8'));
    return {
      kind, knex: db,
      env: { DATABASE_URL: `postgres://postgres@${PG_HOST}:${port ?? 5432}/${database}` },
      drop: async () => {
        await db.destroy();
        const cleanup = knex({ client: 'pg', connection: { host: PG_HOST, user: 'postgres', database: 'postgres' } });
        await cleanup.raw(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await cleanup.destroy();
      },
    };
  }
  if (kind === 'mysql') {
    const admin = knex({ client: 'mysql2', connection: { host: MYSQL_HOST, user: 'root', password: '' } });
    await admin.raw(`DROP DATABASE IF EXISTS ${database}`);
    await admin.raw(`CREATE DATABASE ${database}`);
    await admin.destroy();
    const db = knex({ client: 'mysql2', connection: { host: MYSQL_HOST, user: 'root', password: '', database, multipleStatements: true }, pool: { min: 0, max: 2 } });
    await db.raw(readFileSync(join(ROOT, 'data/mysql/db_init.sql'), 'utf8'));
    return {
      kind, knex: db,
      env: { DATABASE_URL: `mysql://root@${MYSQL_HOST}:${port ?? 3306}/${database}` },
      drop: async () => {
        await db.destroy();
        const cleanup = knex({ client: 'mysql2', connection: { host: MYSQL_HOST, user: 'root', password: '' } });
        await cleanup.raw(`DROP DATABASE IF EXISTS ${database}`);
        await cleanup.destroy();
      },
    };
  }
  const filename = join(mkdtempSync(join(tmpdir(), 'pap-')), `${database}.sqlite3`);
  const db = knex({ client: 'better-sqlite3', connection: { filename }, useNullAsDefault: true });
  await migrateLatest(db, 'sqlite');
  return {
    kind, knex: db,
    env: { DB_TYPE: 'sqlite', DB_FILENAME: filename },
    drop: async () => {
      await db.destroy();
    },
  };
}

export interface TestKey {
  readonly userId: string;
  readonly scopes: string;
  readonly key: string;
  /** Store `sha256:<hex>` instead of the key itself. */
  readonly hashed?: boolean;
  /** Negative for an expired key. */
  readonly expiresInSeconds?: number;
}

/** Inserts a key row the way an operator would, with dates computed by the database itself. */
export async function insertKey(db: TestDatabase, key: TestKey): Promise<void> {
  const seconds = Math.trunc(key.expiresInSeconds ?? 86400);
  const at = (offset: number): Knex.Raw => {
    if (db.kind === 'postgres') return db.knex.raw(`localtimestamp + (? * interval '1 second')`, [offset]);
    if (db.kind === 'mysql') return db.knex.raw('NOW() + INTERVAL ? SECOND', [offset]);
    return db.knex.raw(`datetime('now', ?)`, [`${offset >= 0 ? '+' : ''}${offset} seconds`]);
  };
  await db.knex('prefect_api_keys').insert({
    user_id: key.userId,
    scopes: key.scopes,
    api_key: key.hashed ? hashedKeyValue(key.key) : key.key,
    key_issu_dt: at(0),
    key_expr_dt: at(seconds),
    creatd_dt: at(0),
    last_updatd_dt: at(0),
    creatd_by: 'test',
    last_updatd_by: 'test',
  });
}
