import type { Migration } from './migration';
import { KEYS_TABLE } from './tables';

/** When each key was last used, to the flush interval (issue 14); nullable, so the original's tools keep working. */
export const keyLastUsed: Migration = {
  name: '007_key_last_used',
  async up(db, type) {
    if ('last_used_dt' in (await db(KEYS_TABLE).columnInfo())) return;
    await db.schema.alterTable(KEYS_TABLE, (t) => {
      t.specificType('last_used_dt', type === 'postgres' ? 'timestamp' : 'datetime').nullable();
    });
  },
};
