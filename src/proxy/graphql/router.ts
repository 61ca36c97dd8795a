import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DocumentCache } from '../../authz/graphql';
import type { AppContext } from '../../app-context';
import type { Config } from '../../config';
import type { AuthFailureRecorder } from '../../audit';
import type { RateGuard } from '../../http';
import { createAuthenticator, hasBody, isJsonContentType, ProxyError, readJsonBody, recordDecision, scopeOf, sendError, sendJson } from '../../http';
import type { KeyResolver } from '../../keys';
import type { Logger } from '../../log';
import { createUpstream, createUpstreamPool } from '../upstream';
import { authorizeGraphQL } from './authorize';
import { spliceBatchResponse } from './splice-batch';

export interface GraphQLRouterDeps {
  readonly config: Config;
  readonly context: AppContext;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  readonly documents: DocumentCache;
  readonly rate?: RateGuard;
  readonly authFailures?: AuthFailureRecorder;
}

/** Every proxied request of one API dialect: answered by the proxy or forwarded, never left hanging. */
export interface DialectProxy {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): void;
}

/**
 * Prefect 1 answers GraphQL on every path, so every path not owned by the proxy is GraphQL:
 * key → POST + JSON only → parse → authorize each operation → forward the re-serialized body.
 */
export function createGraphQLProxy(deps: GraphQLRouterDeps): DialectProxy {
  const { config, logger } = deps;
  const pool = createUpstreamPool(config.apiServiceUrl, config.upstreamTimeoutMs);
  const common = { pool, target: config.apiServiceUrl, dialect: 'graphql' as const, logger, trust: deps.context.trust };
  const forward = createUpstream(common);
  const authenticate = createAuthenticator({ resolver: deps.resolver, logger, dialect: 'graphql', allowPublic: config.allowPublicAccess, rate: deps.rate, failures: deps.authFailures });
  const authorize = authorizeGraphQL({ config, documents: deps.documents, warn: (message) => logger.warn(message) });

  return {
    async handle(req, res) {
      const scope = scopeOf(req);
      scope.route = 'graphql';
      if (!await authenticate(req, res)) return;
      if (!isJsonPost(req, res)) return;
      const body = await readJsonBody(req, config.bodyLimitBytes, config.bodyTimeoutMs);
      if (body instanceof ProxyError) return sendError(res, body, 'graphql');
      const decided = authorize(scope.principal, body);
      if (decided.summary) scope.summary = decided.summary;
      for (const record of decided.audit) recordDecision(req, record);
      if (decided.kind === 'refuse') return sendError(res, decided.error, 'graphql');
      if (decided.kind === 'answer') return sendJson(res, decided.status, decided.body);
      // The query string plays no part in a POST to Prefect 1; dropping it leaves nothing unchecked.
      forward(req, res, {
        path: scope.path, body: decided.body, credential: 'none',
        ...(decided.splice ? { rewrite: spliceBatchResponse(decided.splice) } : {}),
      });
    },
    close() {
      void pool.destroy();
    },
  };
}

function isJsonPost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'POST') {
    sendError(res, new ProxyError('METHOD_NOT_ALLOWED', 'GraphQL requests must be POST with a JSON body', { Allow: 'POST' }), 'graphql');
    return false;
  }
  if (!hasBody(req) || !isJsonContentType(req.headers['content-type'])) {
    sendError(res, new ProxyError('UNSUPPORTED_MEDIA_TYPE', 'GraphQL requests must have Content-Type: application/json (UTF-8)'), 'graphql');
    return false;
  }
  return true;
}
