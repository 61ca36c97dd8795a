import type { Knex } from 'knex';
import type { DbType } from '../config';
import { auditTable } from './audit-schema';
import { changesTable } from './changes-schema';
import { keyLastUsed } from './key-usage-schema';
import { keysTable } from './keys-schema';
import type { Migration } from './migration';
import { peopleAndOwnKeys } from './people-schema';
import { sessionsTable } from './sessions-schema';
import { MIGRATIONS_TABLE } from './tables';

/** Every table's schema, in the order it was introduced; names are recorded, so never rename one. */
const migrations: readonly Migration[] = [keysTable, auditTable, changesTable, sessionsTable, peopleAndOwnKeys, keyLastUsed];

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
