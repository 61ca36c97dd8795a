import type { AuditOutcome } from './outcome';
import { AUDIT_OUTCOMES } from './outcome';
import type { AuditQuery } from './query';

const isAuditOutcome = (text: string): text is AuditOutcome => (Object.values(AUDIT_OUTCOMES) as string[]).includes(text);
import { MAX_AUDIT_LIMIT, parseTime } from './query';

/** A filter that cannot be read; its message is for the caller (HTTP 400, CLI exit 2). */
export class AuditFilterError extends Error {}

/** Reads query-string filters; shared by the HTTP route and the CLI (which passes its options as strings). */
export function parseAuditFilters(input: Record<string, unknown>): AuditQuery {
  const str = (name: string): string | undefined => {
    const value = input[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new AuditFilterError(`"${name}" must be given once`);
    return value;
  };
  const outcome = str('outcome')?.toUpperCase();
  if (outcome !== undefined && !isAuditOutcome(outcome)) throw new AuditFilterError('outcome must be ALLOWED, BLOCKED or ERROR');
  const time = (name: string): Date | undefined => {
    const value = str(name);
    if (value === undefined) return undefined;
    const parsed = parseTime(value);
    if (!parsed) throw new AuditFilterError(`${name} must be like 24h, 7d or 2026-11-01T00:00:00Z`);
    return parsed;
  };
  const limitText = str('limit') ?? '100';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_AUDIT_LIMIT) throw new AuditFilterError(`limit must be 1 to ${MAX_AUDIT_LIMIT}`);
  const user = str('user');
  const since = time('since');
  const until = time('until');
  return { limit, ...(user ? { user } : {}), ...(outcome ? { outcome } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) };
}
