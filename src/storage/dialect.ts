import type { Knex } from 'knex';
import type { DbType } from '../config';

/**
 * Key dates are time-zone-less columns compared with the database's own clock (as the original
 * proxy did), so every "now" and "now + n" is computed by the database, never by Node.
 */
export const SECONDS_LEFT_SQL: Record<DbType, string> = {
  postgres: 'extract(epoch from (key_expr_dt - current_timestamp))',
  mysql: 'timestampdiff(second, now(), key_expr_dt)',
  sqlite: "(julianday(key_expr_dt) - julianday('now')) * 86400",
};

export function dbNowPlus(db: Knex, type: DbType, seconds: number): Knex.Raw {
  const s = Math.trunc(seconds);
  // Full precision: localtimestamp(0) rounds up to half a second into the future, keeping a revoked key alive.
  if (type === 'postgres') return db.raw(`localtimestamp + (? * interval '1 second')`, [s]);
  if (type === 'mysql') return db.raw('now() + interval ? second', [s]);
  return db.raw(`datetime('now', ?)`, [`${s >= 0 ? '+' : ''}${s} seconds`]);
}

/** Dates read back from tz-less columns, shown as the database's wall-clock time. */
export function formatDbTime(value: unknown): string {
  if (value instanceof Date) {
    // Drivers read tz-less columns as local time; local getters give the stored wall clock back.
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())} ${pad(value.getHours())}:${pad(value.getMinutes())}:${pad(value.getSeconds())}`;
  }
  return String(value ?? '').replace('T', ' ').replace(/\.\d+Z?$|Z$/, '');
}
