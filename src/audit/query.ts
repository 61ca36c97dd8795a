import type { Knex } from 'knex';
import type { DbType } from '../config';
import { AUDIT_TABLE } from '../keys';
import { toDbTimestamp } from './db-sink';

export interface AuditQuery {
  readonly user?: string;
  readonly outcome?: 'ALLOWED' | 'BLOCKED';
  readonly since?: Date;
  readonly until?: Date;
  readonly limit: number;
}

export interface AuditRecord {
  readonly time: string;
  readonly requestId: string;
  readonly user: string | null;
  readonly outcome: string;
  readonly dialect: string;
  readonly operation: string;
  readonly operationName: string | null;
  readonly permission: string | null;
  readonly status: number | null;
  readonly client: string | null;
  readonly keyId: string | null;
  readonly latencyMs: number | null;
}

export const AUDIT_COLUMNS = ['time', 'requestId', 'user', 'outcome', 'dialect', 'operation', 'operationName', 'permission', 'status', 'client', 'keyId', 'latencyMs'];
export const MAX_AUDIT_LIMIT = 10_000;

/** `24h`, `7d`, `30m` before now, or an ISO date/time (UTC unless it says otherwise). */
export function parseTime(text: string, now = Date.now()): Date | undefined {
  const relative = /^(\d+)\s*([mhdw])$/i.exec(text.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(relative[2] as string).toLowerCase() as 'm'];
    return new Date(now - Number(relative[1]) * unit);
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined;
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text.trim().replace(' ', 'T')}Z`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

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
