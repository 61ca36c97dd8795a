import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import cors from 'cors';
import { createAdminApp } from './admin';
import type { AuditReader, AuditSink, AuthFailureRecorder } from './audit';
import { createDocumentCache } from './authz/graphql';
import type { Config } from './config';
import type { RateGuard } from './http';
import { auditFinishedRequest, beginRequest, discardUnreadBody, logRequestOnFinish, pathOfTarget, ProxyError, scopeOf, sendError } from './http';
import type { ChangeRecorder } from './invalidation';
import type { KeyAdmin, KeyResolver } from './keys';
import type { Logger } from './log';
import type { ProxyMetrics } from './metrics';
import { countFinishedRequest } from './metrics';
import type { AppContext } from './app-context';
import type { DialectProxy } from './proxy';
import { createGraphQLProxy, createRestProxy } from './proxy';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** What every entry point derives from the configuration, computed once. */
  readonly context: AppContext;
  readonly resolver: KeyResolver;
  readonly audit: AuditSink;
  /** The admin routes' view of the key store database (they never see Knex). */
  readonly keyAdmin: KeyAdmin;
  readonly queryAudit: AuditReader;
  readonly recordChange: ChangeRecorder;
  readonly pingKeyStore: () => Promise<void>;
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
  const { trust } = deps.context;
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
