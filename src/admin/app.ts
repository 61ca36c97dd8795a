import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { TrustFunction } from '../http';
import { ProxyError, scopeOf, sendError } from '../http';
import type { AdminDeps } from './router';
import { createAdminRouter } from './router';

/** The proxy's own routes (health, metrics, logs, cache, keys, audit): few requests, many routes. */
export function createAdminApp(deps: AdminDeps, trust: TrustFunction): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', trust);
  app.use(createAdminRouter(deps));
  app.use((_req: Request, res: Response) => sendError(res, new ProxyError('NOT_FOUND', 'no such route on the auth proxy'), 'rest'));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    deps.logger.error('unexpected error', { requestId: scopeOf(req).id, error: err instanceof Error ? err : String(err) });
    sendError(res, new ProxyError('INTERNAL_SERVER_ERROR', 'internal error in the auth proxy'), 'rest');
  });
  return app;
}
