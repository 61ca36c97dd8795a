import type { Knex } from 'knex';
import type { DbType } from '../config';
import type { Migration } from './migration';

/** Sign-in sessions (issue 13): one row per session, keyed by the SHA-256 of its id; the id itself is never stored. */
export const SESSIONS_TABLE = 'prefect_auth_proxy_sessions';

/**
 * Times are instants with milliseconds, written by the proxy in UTC (as the audit log's): idle and
 * absolute expiry are decided in Node against one clock per store, so a test can move it.
 */
function timeColumn(t: Knex.CreateTableBuilder, type: DbType, name: string): Knex.ColumnBuilder {
  if (type === 'postgres') return t.specificType(name, 'timestamptz(3)');
  if (type === 'mysql') return t.specificType(name, 'datetime(3)');
  return t.string(name, 32);
}

export const sessionsTable: Migration = {
  name: '004_prefect_auth_proxy_sessions',
  async up(db, type) {
    if (await db.schema.hasTable(SESSIONS_TABLE)) return;
    await db.schema.createTable(SESSIONS_TABLE, (t) => {
      if (type === 'mysql') {
        // Names and groups in any script; binary collation, so user ids and hashes compare exactly.
        t.charset('utf8mb4');
        t.collate('utf8mb4_bin');
      }
      t.string('id_hash', 64).notNullable().primary();
      t.string('kind', 8).notNullable();
      t.string('user_id', 255).notNullable();
      t.string('display_name', 255).nullable();
      t.string('email', 255).nullable();
      t.string('subject', 255).nullable();
      t.string('issuer', 1000).nullable();
      // JSON arrays of strings. Not `groups`: a reserved word in MySQL 8.
      t.text('groups_json', 'mediumtext').notNullable();
      t.text('roles_json', 'mediumtext').notNullable();
      t.string('key_hash', 64).nullable();
      // Sealed with AES-256-GCM (src/sessions/token-seal.ts), never in clear.
      t.text('refresh_token', 'mediumtext').nullable();
      t.text('id_token_hint', 'mediumtext').nullable();
      timeColumn(t, type, 'created_at').notNullable();
      timeColumn(t, type, 'last_seen_at').notNullable();
      timeColumn(t, type, 'expires_at').notNullable();
      timeColumn(t, type, 'groups_checked_at').notNullable();
      timeColumn(t, type, 'ended_at').nullable();
      t.string('end_reason', 16).nullable();
      t.index(['user_id'], 'prefect_auth_proxy_sessions_user_idx');
      t.index(['key_hash'], 'prefect_auth_proxy_sessions_key_idx');
      t.index(['expires_at'], 'prefect_auth_proxy_sessions_expiry_idx');
    });
  },
};
