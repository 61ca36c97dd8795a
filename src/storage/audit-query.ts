import type { Knex } from 'knex';
import type { AuditQuery, AuditRecord } from '../audit';
import type { DbType } from '../config';
import { toDbTimestamp } from './audit-sink';
import { AUDIT_TABLE } from './tables';

/** Newest first. */
export async function queryAudit(db: Knex, type: DbType, q: AuditQuery): Promise<AuditRecord[]> {
  let query = db(AUDIT_TABLE).select('*').orderBy([{ column: 'occurred_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(q.limit);
  if (q.user !== undefined) query = query.where('user_id', q.user);
  if (q.outcome !== undefined) query = query.where('outcome', q.outcome);
  if (q.since) query = query.where('occurred_at', '>=', toDbTimestamp(type, q.since));
  if (q.until) query = query.where('occurred_at', '<', toDbTimestamp(type, q.until));
  const rows: Array<Record<string, unknown>> = await query;
  return rows.map((r) => ({
    time: normalizeTime(r.occurred_at),
    requestId: String(r.request_id),
    user: (r.user_id as string | null) ?? null,
    outcome: String(r.outcome),
    dialect: String(r.dialect),
    operation: String(r.operation),
    operationName: (r.operation_name as string | null) ?? null,
    permission: (r.permission as string | null) ?? null,
    status: r.status === null ? null : Number(r.status),
    client: (r.client as string | null) ?? null,
    keyId: (r.key_id as string | null) ?? null,
    latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
  }));
}

function normalizeTime(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  // MySQL returns the stored UTC wall clock without a zone.
  return /[zZ]|[+-]\d{2}(:?\d{2})?$/.test(text) ? new Date(text).toISOString() : new Date(`${text.replace(' ', 'T')}Z`).toISOString();
}
