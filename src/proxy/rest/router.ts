import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { Config } from '../../config';
import type { RateGuard } from '../../http/authenticate';
import { bodyErrorHandler, ProxyError, sendError } from '../../http/errors';
import { scopeOf } from '../../http/request-scope';
import type { KeyResolver } from '../../keys';
import type { Logger } from '../../log';
import type { Upstream } from '../upstream';
import { createUpstream } from '../upstream';
import type { RestLocals } from './authorize';
import { inspectSecretBody, restAuthorize } from './authorize';
import { rewriteUiSettings } from './ui-settings';

export interface RestProxyDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  readonly rate?: RateGuard;
}

export interface RestProxy {
  readonly router: Router;
  close(): void;
}

export const API_PREFIX = '/api';

/** Client headers that claim server-side provenance (automations) or carry the client's key. */
const STRIPPED = ['prefect-automation-id', 'prefect-automation-name'];

/**
 * Prefect 2/3: REST under /api, the web UI elsewhere. Key → path normalized and classified →
 * permission checked → forwarded with the server's own credential, streaming both ways.
 */
export function createRestProxy(deps: RestProxyDeps): RestProxy {
  const { config, logger } = deps;
  const common = {
    target: config.apiServiceUrl,
    timeoutMs: config.upstreamTimeoutMs,
    dialect: 'rest' as const,
    logger,
    preserveHost: true,
    stripHeaders: STRIPPED,
    ...(config.upstreamAuthString !== undefined
      ? { upstreamAuthorization: `Basic ${Buffer.from(config.upstreamAuthString, 'utf8').toString('base64')}` }
      : {}),
  };
  const streaming: Upstream = createUpstream(common);
  // The UI's files and settings need no credential: outside /api the server's string is never sent,
  // so a server whose API lives elsewhere fails closed instead of answering as the proxy.
  const { upstreamAuthorization: _serverCredential, ...anonymous } = common as typeof common & { upstreamAuthorization?: string };
  const staticFiles: Upstream = createUpstream(anonymous);
  const uiSettings: Upstream = createUpstream({ ...anonymous, onBufferedResponse: rewriteUiSettings(config.publicUrl, API_PREFIX) });
  const rawBody = express.raw({ type: () => true, limit: config.bodyLimitBytes, inflate: false });

  const router = express.Router();
  router.use(refuseInternalHost);
  const steps = restAuthorize({ resolver: deps.resolver, logger, allowPublic: config.allowPublicAccess, apiPrefix: API_PREFIX, rate: deps.rate });
  router.use(...steps.identify);
  // Only the UI's own settings file, decided on the normalized path outside the API: a name such
  // as /api/variables/name/ui-settings is an API call and needs a key like any other.
  router.use((req: Request, res: Response, next: NextFunction) => {
    const local = res.locals as RestLocals;
    const uiPath = local.segments === undefined && req.method === 'GET' && /(^|\/)ui-settings$/.test(req.path);
    return uiPath ? uiSettings.handler(req, res, next) : next();
  });
  router.use((req: Request, res: Response, next: NextFunction) => {
    const length = Number(req.get('content-length') ?? 0);
    if (length > config.bodyLimitBytes) return sendError(res, new ProxyError('PAYLOAD_TOO_LARGE', 'request body is too large'), 'rest');
    // Bodies that must be read (block documents) or have no length are buffered, within the limit.
    const local = res.locals as RestLocals;
    const mustRead = (local.segments?.[0] === 'block_documents' || local.segments?.[0] === 'block_types') && req.method !== 'GET';
    if (mustRead || (req.get('transfer-encoding') && !req.get('content-length'))) return rawBody(req, res, next);
    next();
  });
  router.use(inspectSecretBody);
  router.use(steps.decide);
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.body instanceof Buffer) scopeOf(req).forwardBody = req.body;
    const underApi = (res.locals as RestLocals).segments !== undefined;
    return (underApi ? streaming : staticFiles).handler(req, res, next);
  });
  router.use(bodyErrorHandler('rest'));
  return {
    router,
    close() {
      streaming.close();
      staticFiles.close();
      uiSettings.close();
    },
  };
}

/** Prefect treats a Host containing `ephemeral-prefect` as an in-process call; nobody outside may claim it. */
function refuseInternalHost(req: Request, res: Response, next: NextFunction): void {
  if ((req.get('host') ?? '').toLowerCase().includes('ephemeral-prefect')) {
    return sendError(res, new ProxyError('BAD_REQUEST', 'invalid Host header'), 'rest');
  }
  next();
}
