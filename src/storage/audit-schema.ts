import type { Migration } from './migration';
import { AUDIT_TABLE } from './tables';

export const auditTable: Migration = {
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
};
