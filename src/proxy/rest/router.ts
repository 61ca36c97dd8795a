import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../../app-context';
import type { Config } from '../../config';
import type { AuthFailureRecorder } from '../../audit';
import type { RateGuard } from '../../http';
import { createAuthenticator, hasBody, ProxyError, readBody, recordDecision, scopeOf, sendError } from '../../http';
import type { KeyResolver } from '../../keys';
import type { Logger } from '../../log';
import type { DialectProxy } from '../graphql/router';
import { createUpstream, createUpstreamPool } from '../upstream';
import { decisionReadsBody } from '../../authz/rest';
import { classifyRestRequest, decideRest, inspectBody } from './authorize';
import { rewriteUiSettings } from './ui-settings';

export interface RestProxyDeps {
  readonly config: Config;
  readonly context: AppContext;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  readonly rate?: RateGuard;
  readonly authFailures?: AuthFailureRecorder;
}

/** Client headers that claim server-side provenance (automations) or carry the client's key. */
const STRIPPED = ['prefect-automation-id', 'prefect-automation-name'];

/**
 * Prefect 2/3: REST under /api, the web UI elsewhere. Path normalized and classified → key →
 * permission checked → forwarded with the server's own credential, streaming both ways.
 */
export function createRestProxy(deps: RestProxyDeps): DialectProxy {
  const { config, logger } = deps;
  const pool = createUpstreamPool(config.apiServiceUrl, config.upstreamTimeoutMs);
  const common = {
    pool,
    target: config.apiServiceUrl,
    dialect: 'rest' as const,
    logger,
    trust: deps.context.trust,
    preserveHost: true,
    stripHeaders: STRIPPED,
    ...(deps.context.serverAuthorization !== undefined ? { serverAuthorization: deps.context.serverAuthorization } : {}),
  };
  const forward = createUpstream(common);
  const uiSettings = rewriteUiSettings(config.publicUrl, deps.context.apiPrefix, deps.context.trust);
  const authenticate = createAuthenticator({ resolver: deps.resolver, logger, dialect: 'rest', allowPublic: config.allowPublicAccess, rate: deps.rate, failures: deps.authFailures });
  const prefix = deps.context.apiPrefixSegments;

  return {
    async handle(req, res) {
      if (!hasPublicHost(req, res)) return;
      const scope = scopeOf(req);
      const local = classifyRestRequest(req.method ?? '', req.url ?? '', prefix);
      if (local instanceof ProxyError) return sendError(res, local, 'rest');
      scope.path = local.path;
      scope.route = local.route;
      if (local.requirement.kind !== 'public' && !await authenticate(req, res)) return;
      // Only the UI's own settings file, decided on the normalized path outside the API: a name such
      // as /api/variables/name/ui-settings is an API call and needs a key like any other.
      // The UI's files and settings need no credential: outside /api the server's string is never
      // sent, so a server whose API lives elsewhere fails closed instead of answering as the proxy.
      if (local.segments === undefined && req.method === 'GET' && /(^|\/)ui-settings$/.test(local.path)) {
        return forward(req, res, { path: local.forwardPath, body: null, credential: 'none', rewrite: uiSettings });
      }
      if (Number(req.headers['content-length'] ?? 0) > config.bodyLimitBytes) {
        return sendError(res, new ProxyError('PAYLOAD_TOO_LARGE', 'request body is too large'), 'rest');
      }
      // Every body is read whole, within BODY_LIMIT and BODY_TIMEOUT, before the request takes an
      // upstream connection: a client trickling its body must not hold one of them.
      let body: Buffer | null = null;
      if (hasBody(req)) {
        const read = await readBody(req, config.bodyLimitBytes, config.bodyTimeoutMs);
        if (read instanceof ProxyError) return sendError(res, read, 'rest');
        if (local.segments !== undefined && decisionReadsBody(req.method ?? '', local.segments)) inspectBody(local, read);
        body = read;
      }
      const decision = decideRest(req.method ?? '', local, scope.principal);
      if (decision.summary) scope.summary = decision.summary;
      if (decision.audit) recordDecision(req, decision.audit);
      if (decision.refusal) return sendError(res, decision.refusal, 'rest');
      forward(req, res, { path: local.forwardPath, body, credential: local.segments !== undefined ? 'server' : 'none' });
    },
    close() {
      void pool.destroy();
    },
  };
}

/** Prefect treats a Host containing `ephemeral-prefect` as an in-process call; nobody outside may claim it. */
function hasPublicHost(req: IncomingMessage, res: ServerResponse): boolean {
  if ((req.headers.host ?? '').toLowerCase().includes('ephemeral-prefect')) {
    sendError(res, new ProxyError('BAD_REQUEST', 'invalid Host header'), 'rest');
    return false;
  }
  return true;
}
