import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log';
import { scopeOf } from './request-scope';

/**
 * One line per request at info level, once the response is sent. Paths of the proxy's own routes
 * are not logged: `/cache/:key` carries a key.
 */
export function logRequestOnFinish(logger: Logger, req: IncomingMessage, res: ServerResponse, ownRoute: boolean): void {
  // The level can change at run time (POST /logs/:level), so it is checked per request.
  if (logger.level !== 'info' && logger.level !== 'debug') return;
  res.on('finish', () => {
    const scope = scopeOf(req);
    logger.info('request', {
      requestId: scope.id,
      method: req.method,
      path: ownRoute ? '(proxy route)' : scope.path,
      status: res.statusCode,
      ms: Math.round((performance.now() - scope.startedAt) * 10) / 10,
      user: scope.principal?.userId,
      client: scope.client,
      ...(scope.summary ? { operation: scope.summary } : {}),
    });
  });
}
