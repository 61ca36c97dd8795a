import cors from 'cors';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import { createAdminRouter } from './admin';
import type { Knex } from 'knex';
import type { AuditSink } from './audit';
import { auditOnFinish } from './audit';
import { createDocumentCache } from './authz/graphql';
import type { Config } from './config';
import { ProxyError, requestContext, requestLog, scopeOf, sendError } from './http';
import type { RateGuard } from './http/authenticate';
import type { KeyResolver, KeyStore } from './keys';
import type { MetricsDialect, ProxyMetrics } from './metrics';
import { requestMetrics } from './metrics';
import type { Logger } from './log';
import { createGraphQLProxy, createRestProxy } from './proxy';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  readonly audit: AuditSink;
  /** The key store database: key management and audit queries on the admin routes. */
  readonly db: Knex;
  readonly store: KeyStore;
  readonly rate?: RateGuard;
  readonly metrics?: ProxyMetrics;
  readonly draining?: () => boolean;
}

export interface ProxyApp {
  readonly app: Express;
  /** Releases upstream connections. */
  close(): void;
}

const OWN_PATHS = /^\/(healthcheck|readyz|metrics|logs|cache|admin)(\/|$)/i;

/**
 * The request chain, in the order a request meets it:
 * request id → audit on finish → CORS → proxy's own routes → key → method and body checks → authorization → forward.
 */
export function createApp(deps: AppDeps): ProxyApp {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);

  app.use(requestContext());
  app.use(requestLog(logger, OWN_PATHS));
  app.use(auditOnFinish(deps.audit));
  const dialect = config.apiKind === 'rest' ? 'rest' : 'graphql';
  if (deps.metrics) {
    app.use(requestMetrics(deps.metrics, (req): MetricsDialect => (OWN_PATHS.test(req.path) ? 'admin' : dialect)));
  }
  const corsHandler = cors({
    origin: config.corsOrigins === '*' ? '*' : [...config.corsOrigins],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600,
  });
  // Only browsers send Origin; the CLI, workers and agents skip the CORS work.
  app.use((req: Request, res: Response, next: NextFunction) => (req.headers.origin ? corsHandler(req, res, next) : next()));
  // The proxy's own routes, tried only for their paths: every proxied request would otherwise walk them.
  const admin = createAdminRouter(deps);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const own = OWN_PATHS.exec(req.path);
    if (!own) return next();
    scopeOf(req).route = `/${(own[1] as string).toLowerCase()}`;
    return admin(req, res, next);
  });

  const proxy = dialect === 'rest'
    ? createRestProxy(deps)
    : createGraphQLProxy({ ...deps, documents: createDocumentCache(config.graphql.maxTokens) });
  app.use(proxy.router);

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error('unexpected error', { requestId: scopeOf(req).id, error: err instanceof Error ? err : String(err) });
    sendError(res, new ProxyError('INTERNAL_SERVER_ERROR', 'internal error in the auth proxy'), dialect);
  });
  return { app, close: () => proxy.close() };
}
