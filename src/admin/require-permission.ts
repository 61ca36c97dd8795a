import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Permission } from '../authz';
import { formatPermission } from '../authz';
import { ProxyError, scopeOf, sendError } from '../http';

/**
 * The pipeline authenticates and decides admin requests before Express routes them (`classifyAdmin`).
 * Each guarded route checks that the permission it serves under is the one the pipeline granted:
 * were the two tables ever to disagree, the request is refused instead of served unchecked.
 */
export function requireDecided(permission: Permission): RequestHandler {
  const name = formatPermission(permission);
  return (req: Request, res: Response, next: NextFunction) => {
    const scope = scopeOf(req);
    if (scope.principal !== null && scope.granted === name) return next();
    sendError(res, new ProxyError('FORBIDDEN', `this route needs an API key with ${name}`), 'rest');
  };
}
