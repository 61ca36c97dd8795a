import type { Knex } from 'knex';
import type { DbType } from '../config';
import type { ChangeSource, Invalidation } from '../invalidation';
import { CHANGE_RETENTION_SECONDS } from '../invalidation';
import type { Logger } from '../log';
import { dbNowPlus } from './dialect';
import { CHANGES_TABLE } from './tables';

const SUBJECT_MAX = 255;
/** Past this many rows at once (a bulk change), one "forget everything" row says the same, shorter. */
const ROWS_MAX = 100;

/** Whether `db migrate` has created the change table on this key store. */
export async function hasChangeLog(db: Knex): Promise<boolean> {
  return db.schema.hasTable(CHANGES_TABLE);
}

/**
 * Writes what running proxies must forget. Pass the key change's transaction, so the rows become
 * visible exactly when the change does; write them last in it, so their ids are taken just before
 * commit and a poller rarely sees one commit out of order.
 */
export async function recordChanges(db: Knex | Knex.Transaction, type: DbType, changes: readonly Invalidation[]): Promise<void> {
  if (changes.length === 0) return;
  const rows = toRows(changes);
  const at = dbNowPlus(db, type, 0);
  await db(CHANGES_TABLE).insert(rows.map((r) => ({ ...r, changed_at: at })));
}

/** Deletes old rows; best effort, outside any key change's transaction so it never holds one up. */
export async function pruneChanges(db: Knex, type: DbType): Promise<void> {
  await db(CHANGES_TABLE).where('changed_at', '<', dbNowPlus(db, type, -CHANGE_RETENTION_SECONDS)).delete();
}

/**
 * Records one change outside any key change (a cache reset, a forgotten user). Never throws:
 * false, logged with a code only, when the table is missing or the key store does not answer.
 */
export async function recordChange(db: Knex, type: DbType, change: Invalidation, logger?: Logger): Promise<boolean> {
  try {
    if (!(await hasChangeLog(db))) return false;
    await recordChanges(db, type, [change]);
  } catch (err) {
    logger?.error('cannot record a cache change in the key store: other instances do not hear of it', { kind: change.kind, reason: (err as { code?: unknown }).code ?? 'error' });
    return false;
  }
  await pruneChanges(db, type).catch(() => undefined);
  return true;
}

function toRows(changes: readonly Invalidation[]): Array<{ kind: string; subject: string | null }> {
  const all = [{ kind: 'all', subject: null }];
  if (changes.length > ROWS_MAX) return all;
  const rows: Array<{ kind: string; subject: string | null }> = [];
  for (const change of changes) {
    if (change.kind === 'all') return all;
    const subject = change.kind === 'user' ? change.userId : change.kind === 'key' ? change.keyHash : change.sessionHash;
    // A subject the column cannot hold whole must not be cut into another user's name.
    if (subject.length > SUBJECT_MAX) return all;
    rows.push({ kind: change.kind, subject });
  }
  return rows;
}

export function createChangeSource(db: Knex, type: DbType, timeoutMs: number): ChangeSource {
  const cancel = { cancel: type !== 'sqlite' };
  return {
    table: CHANGES_TABLE,
    exists: () => hasChangeLog(db),
    async latestId() {
      const row = (await db(CHANGES_TABLE).max({ id: 'id' }).timeout(timeoutMs, cancel)) as Array<{ id: number | string | null }>;
      return Number(row[0]?.id ?? 0);
    },
    async read(after, also, limit) {
      let query = db(CHANGES_TABLE).select('id', 'kind', 'subject').where('id', '>', after);
      if (also.length > 0) query = query.orWhereIn('id', [...also]);
      const rows = (await query.orderBy('id').limit(limit).timeout(timeoutMs, cancel)) as Array<{ id: number | string; kind: string; subject: string | null }>;
      return rows.map((r) => ({ id: Number(r.id), kind: String(r.kind), subject: r.subject === null ? null : String(r.subject) }));
    },
  };
}
