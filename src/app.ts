import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import cors from 'cors';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { Knex } from 'knex';
import { createAdminRouter } from './admin';
import type { AuditSink, AuthFailureRecorder } from './audit';
import { auditFinishedRequest } from './audit';
import { createDocumentCache } from './authz/graphql';
import type { Config } from './config';
import { ProxyError, scopeOf, sendError } from './http';
import type { RateGuard } from './http/authenticate';
import { discardUnreadBody } from './http/body';
import { logRequestOnFinish } from './http/request-log';
import { beginRequest, compileTrust, pathOfTarget } from './http/request-scope';
import type { KeyResolver, KeyStore } from './keys';
import type { Logger } from './log';
import type { ProxyMetrics } from './metrics';
import { countFinishedRequest } from './metrics';
import type { DialectProxy } from './proxy';
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
  /** Refused credentials, counted into the audit trail per source. */
  readonly authFailures?: AuthFailureRecorder;
  readonly metrics?: ProxyMetrics;
  readonly draining?: () => boolean;
}

export interface ProxyApp {
  /** Every HTTP request the proxy serves (websocket upgrades are attached separately). */
  readonly handler: RequestListener;
  /** Releases upstream connections. */
  close(): void;
}

const OWN_PATHS = /^\/(healthcheck|readyz|metrics|logs|cache|admin)(\/|$)/i;

/**
 * The request chain, in the order a request meets it: request id, client address and on-finish
 * accounting (log, audit, metrics) → CORS → the proxy's own routes (Express) or the API dialect.
 *
 * Proxied requests, the bulk of the traffic, are handled on plain `node:http` objects: through
 * Express's router, body-parser and http-proxy-middleware each one cost 0.51 ms of CPU instead of
 * 0.15 ms (docs/performance.md).
 */
export function createApp(deps: AppDeps): ProxyApp {
  const { config, logger } = deps;
  const trust = compileTrust(config.trustProxy);
  const dialect = config.apiKind === 'rest' ? 'rest' : 'graphql';
  const admin = createAdminApp(deps, trust);
  const proxy: DialectProxy = dialect === 'rest'
    ? createRestProxy(deps)
    : createGraphQLProxy({ ...deps, documents: createDocumentCache(config.graphql.maxTokens) });
  const corsHandler = cors({
    origin: config.corsOrigins === '*' ? '*' : [...config.corsOrigins],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600,
  });

  const route = (req: IncomingMessage, res: ServerResponse, own: boolean): void => {
    if (own) {
      admin(req, res);
      return;
    }
    proxy.handle(req, res).catch((err: unknown) => internalError(req, res, err));
  };

  const internalError = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    logger.error('unexpected error', { requestId: scopeOf(req).id, error: err instanceof Error ? err : String(err) });
    sendError(res, new ProxyError('INTERNAL_SERVER_ERROR', 'internal error in the auth proxy'), dialect);
  };

  const handler: RequestListener = (req, res) => {
    const path = pathOfTarget(req.url);
    const own = path !== undefined && OWN_PATHS.test(path);
    const scope = beginRequest(req, res, trust, path ?? '(invalid)');
    logRequestOnFinish(logger, req, res, own);
    const metrics = deps.metrics;
    const metricsDialect = own ? 'admin' : dialect;
    // One place for every route: an answer given before the body was read leaves the rest to drain.
    res.once('finish', () => discardUnreadBody(req));
    res.once('close', () => {
      auditFinishedRequest(deps.audit, scope, res);
      if (metrics) countFinishedRequest(metrics, metricsDialect, scope, res);
    });
    if (path === undefined) {
      // Absolute-form and asterisk targets are for forward proxies; nothing here routes them.
      sendError(res, new ProxyError('BAD_REQUEST', 'the request target must be a path starting with /'), dialect);
      return;
    }
    if (own) scope.route = `/${(OWN_PATHS.exec(path)?.[1] as string).toLowerCase()}`;
    // Only browsers send Origin; the CLI, workers and agents skip the CORS work.
    if (req.headers.origin) {
      corsHandler(req, res, (err?: unknown) => (err ? internalError(req, res, err) : route(req, res, own)));
      return;
    }
    route(req, res, own);
  };
  return { handler, close: () => proxy.close() };
}

/** The proxy's own routes (health, metrics, logs, cache, keys, audit): few requests, many routes. */
function createAdminApp(deps: AppDeps, trust: ReturnType<typeof compileTrust>): Express {
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
