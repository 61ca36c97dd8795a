import type { Migration } from './migration';
import { CHANGES_TABLE } from './tables';

export const changesTable: Migration = {
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
};
