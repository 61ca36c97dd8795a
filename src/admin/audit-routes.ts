import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { AUDIT_COLUMNS, AuditFilterError, formatCsv, parseAuditFilters } from '../audit';
import type { AuditQuery, AuditReader } from '../audit';
import type { Permission } from '../authz';
import { ProxyError, sendError } from '../http';

interface AuditRouteDeps {
  readonly queryAudit: AuditReader;
  readonly requireScope: (permission: Permission) => RequestHandler[];
}

/** `GET /admin/audit`: the durable audit trail, newest first, as JSON or CSV. Needs `admin/audit`. */
export function createAuditRoutes(deps: AuditRouteDeps): Router {
  const router = express.Router();
  router.get('/', ...deps.requireScope(['admin', 'audit']), (req: Request, res: Response, next: NextFunction) => {
    let filters: AuditQuery;
    try {
      filters = parseAuditFilters(req.query as Record<string, unknown>);
    } catch (err) {
      if (err instanceof AuditFilterError) return sendError(res, new ProxyError('BAD_REQUEST', err.message), 'rest');
      throw err;
    }
    const format = req.query.format === 'csv' || req.accepts(['json', 'csv']) === 'csv' ? 'csv' : 'json';
    deps.queryAudit(filters).then((rows) => {
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
