import type { Knex } from 'knex';
import type { Migration } from './migration';
import { KEYS_TABLE } from './tables';

/** People an administrator has disabled: they cannot sign in or make keys until enabled again. */
export const PEOPLE_TABLE = 'prefect_auth_proxy_people';

const OWNER_INDEX = 'prefect_api_keys_owner_idx';

/**
 * Issue 14: keys people make for themselves. Such a key is a row of the original key table (so
 * every proxy resolves it as today), marked `self_service` and naming its `owner_id`: the person,
 * as sign-in names them. Added columns are nullable or defaulted, so the original proxy's code and
 * tools keep working on the same table.
 */
export const peopleAndOwnKeys: Migration = {
  name: '006_people_and_own_keys',
  async up(db, type) {
    const columns = await db(KEYS_TABLE).columnInfo();
    if (!('owner_id' in columns)) {
      await db.schema.alterTable(KEYS_TABLE, (t) => {
        t.string('owner_id', 255).nullable();
        t.string('key_name', 64).nullable();
        t.boolean('self_service').notNullable().defaultTo(false);
        t.index(['owner_id'], OWNER_INDEX);
      });
    }
    if (await db.schema.hasTable(PEOPLE_TABLE)) return;
    await db.schema.createTable(PEOPLE_TABLE, (t: Knex.CreateTableBuilder) => {
      if (type === 'mysql') {
        t.charset('utf8mb4');
        t.collate('utf8mb4_bin');
      }
      t.string('user_id', 255).notNullable().primary();
      t.boolean('disabled').notNullable().defaultTo(false);
      t.string('reason', 500).nullable();
      t.string('updated_by', 64).notNullable();
      t.string('updated_at', 32).notNullable();
    });
  },
};
