import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log';
import { scopeOf } from './request-scope';

/** One line per request at info level. Paths of proxy routes are not logged: `/cache/:key` carries a key. */
export function requestLog(logger: Logger, ownPaths: RegExp): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // The level can change at run time (POST /logs/:level), so it is checked per request.
    if (logger.level !== 'info' && logger.level !== 'debug') return next();
    res.on('finish', () => {
      const scope = scopeOf(req);
      logger.info('request', {
        requestId: scope.id,
        method: req.method,
        path: ownPaths.test(req.path) ? '(proxy route)' : req.path,
        status: res.statusCode,
        ms: Math.round((performance.now() - scope.startedAt) * 10) / 10,
        user: scope.principal?.userId,
        client: scope.client,
        ...(scope.summary ? { operation: scope.summary } : {}),
      });
    });
    next();
  };
}
