import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthFailureRecorder } from '../audit';
import type { Permission } from '../authz';
import { formatPermission, isAllowed } from '../authz';
import type { RateGuard } from '../http';
import { authenticate, ProxyError, recordDecision, scopeOf, sendError } from '../http';
import type { KeyResolver } from '../keys';
import type { Logger } from '../log';

/** A key is always required on admin routes, whatever ALLOW_PUBLIC_ACCESS says; every attempt is audited. */
export function createRequireScope(
  resolver: KeyResolver, logger: Logger, rate?: RateGuard, failures?: AuthFailureRecorder,
): (permission: Permission) => RequestHandler[] {
  const keyRequired = authenticate({ resolver, logger, dialect: 'rest', allowPublic: false, auditRouteOnly: true, ...(rate ? { rate } : {}), ...(failures ? { failures } : {}) });
  return (permission) => [keyRequired, requirePermission(permission)];
}

function requirePermission(permission: Permission): RequestHandler {
  const name = formatPermission(permission);
  return (req: Request, res: Response, next: NextFunction) => {
    const scope = scopeOf(req);
    const allowed = scope.principal !== null && isAllowed(scope.principal.scopes, permission);
    const route = `${req.method} ${req.baseUrl}${req.route?.path ?? ''}`;
    scope.summary = route;
    recordDecision(req, {
      outcome: allowed ? 'ALLOWED' : 'BLOCKED',
      dialect: 'admin',
      operationType: 'admin',
      operationName: route,
      fields: [route],
      permissions: [name],
    });
    if (allowed) return next();
    sendError(res, new ProxyError('FORBIDDEN', `API key lacks permission: ${name}`), 'rest');
  };
}
