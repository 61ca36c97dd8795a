import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Knex } from 'knex';
import { AUDIT_COLUMNS, formatCsv, MAX_AUDIT_LIMIT, parseTime, queryAudit } from '../audit';
import type { AuditQuery } from '../audit';
import type { Permission } from '../authz';
import type { Config } from '../config';
import { ProxyError, sendError } from '../http/errors';

interface AuditRouteDeps {
  readonly config: Config;
  readonly db: Knex;
  readonly requireScope: (permission: Permission) => RequestHandler[];
}

/** Reads query-string filters; shared by the HTTP route and the CLI (which passes its options as strings). */
export function parseAuditFilters(input: Record<string, unknown>): AuditQuery {
  const str = (name: string): string | undefined => {
    const value = input[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new ProxyError('BAD_REQUEST', `"${name}" must be given once`);
    return value;
  };
  const outcome = str('outcome')?.toUpperCase();
  if (outcome !== undefined && outcome !== 'ALLOWED' && outcome !== 'BLOCKED') throw new ProxyError('BAD_REQUEST', 'outcome must be ALLOWED or BLOCKED');
  const time = (name: string): Date | undefined => {
    const value = str(name);
    if (value === undefined) return undefined;
    const parsed = parseTime(value);
    if (!parsed) throw new ProxyError('BAD_REQUEST', `${name} must be like 24h, 7d or 2026-11-01T00:00:00Z`);
    return parsed;
  };
  const limitText = str('limit') ?? '100';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_AUDIT_LIMIT) throw new ProxyError('BAD_REQUEST', `limit must be 1 to ${MAX_AUDIT_LIMIT}`);
  const user = str('user');
  const since = time('since');
  const until = time('until');
  return { limit, ...(user ? { user } : {}), ...(outcome ? { outcome } : {}), ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

/** `GET /admin/audit`: the durable audit trail, newest first, as JSON or CSV. Needs `admin/audit`. */
export function createAuditRoutes(deps: AuditRouteDeps): Router {
  const router = express.Router();
  router.get('/', ...deps.requireScope(['admin', 'audit']), (req: Request, res: Response, next: NextFunction) => {
    let filters: AuditQuery;
    try {
      filters = parseAuditFilters(req.query as Record<string, unknown>);
    } catch (err) {
      if (err instanceof ProxyError) return sendError(res, err, 'rest');
      throw err;
    }
    const format = req.query.format === 'csv' || req.accepts(['json', 'csv']) === 'csv' ? 'csv' : 'json';
    queryAudit(deps.db, deps.config.db.type, filters).then((rows) => {
      if (format === 'csv') res.type('text/csv').send(formatCsv(rows as unknown as Array<Record<string, unknown>>, AUDIT_COLUMNS));
      else res.json(rows);
    }, (err: unknown) => {
      const code = (err as { code?: string }).code;
      if (code === 'ER_NO_SUCH_TABLE' || code === '42P01' || /no such table/.test(String(err))) {
        return sendError(res, new ProxyError('SERVICE_UNAVAILABLE', 'the audit table does not exist: run `prefect-auth-proxy db migrate`'), 'rest');
      }
      next(err);
    });
  });
  return router;
}
