import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import type { Knex } from 'knex';
import knex from 'knex';
import { hashedKeyValue } from '../../src/keys';
import { migrateLatest } from '../../src/storage';

export type DbKind = 'postgres' | 'mysql' | 'sqlite';
export const DB_KINDS: readonly DbKind[] = ['postgres', 'mysql', 'sqlite'];

const PG_HOST = process.env.TEST_PG_HOST ?? '127.0.0.1';
const MYSQL_HOST = process.env.TEST_MYSQL_HOST ?? '127.0.0.1';
const ROOT = join(__dirname, '..', '..');

/** How to reach each test server as its administrator, and the URL the proxy gets for a database on it. */
const SERVERS = {
  postgres: {
    client: 'pg',
    connection: (database = 'postgres') => ({ host: PG_HOST, user: 'postgres', database }),
    force: ' WITH (FORCE)',
    url: (database: string, port?: number) => `postgres://postgres@${PG_HOST}:${port ?? 5432}/${database}`,
  },
  mysql: {
    client: 'mysql2',
    connection: (database?: string) => ({ host: MYSQL_HOST, user: 'root', password: '', ...(database ? { database } : {}) }),
    force: '',
    url: (database: string, port?: number) => `mysql://root@${MYSQL_HOST}:${port ?? 3306}/${database}`,
  },
} as const;

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
  if (kind !== 'sqlite') {
    const server = SERVERS[kind];
    const admin = () => knex({ client: server.client, connection: server.connection() });
    const dropDatabase = async () => {
      const cleanup = admin();
      await cleanup.raw(`DROP DATABASE IF EXISTS ${database}${server.force}`);
      await cleanup.destroy();
    };
    await dropDatabase();
    const creator = admin();
    await creator.raw(`CREATE DATABASE ${database}`);
    await creator.destroy();
    const db = knex({ client: server.client, connection: { ...server.connection(database), multipleStatements: true }, pool: { min: 0, max: 2 } });
    await db.raw(readFileSync(join(ROOT, `data/${kind}/db_init.sql`), 'utf8'));
    return {
      kind, knex: db,
      env: { DATABASE_URL: server.url(database, port) },
      drop: async () => {
        await db.destroy();
        await dropDatabase();
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
