import type { AuditOutcome } from './outcome';
export interface AuditQuery {
  readonly user?: string;
  readonly outcome?: AuditOutcome;
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

/** Reads the durable audit trail, newest first (implemented by storage). */
export type AuditReader = (query: AuditQuery) => Promise<AuditRecord[]>;
