import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import type { DocumentCache } from '../../authz/graphql';
import type { Config } from '../../config';
import { authenticate } from '../../http/authenticate';
import type { RateGuard } from '../../http/authenticate';
import { bodyErrorHandler, ProxyError, sendError } from '../../http/errors';
import { routeLabel, scopeOf } from '../../http/request-scope';
import type { KeyResolver } from '../../keys';
import type { Logger } from '../../log';
import type { Upstream } from '../upstream';
import { createUpstream } from '../upstream';
import { authorizeGraphQL } from './authorize';
import { spliceBatchResponse } from './splice-batch';

export interface GraphQLRouterDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  readonly documents: DocumentCache;
  readonly rate?: RateGuard;
}

export interface GraphQLProxy {
  readonly router: Router;
  close(): void;
}

/**
 * Prefect 1 answers GraphQL on every path, so every path not owned by the proxy is GraphQL:
 * key → POST + JSON only → parse → authorize each operation → forward the re-serialized body.
 */
export function createGraphQLProxy(deps: GraphQLRouterDeps): GraphQLProxy {
  const { config, logger } = deps;
  const streaming: Upstream = createUpstream({ target: config.apiServiceUrl, timeoutMs: config.upstreamTimeoutMs, dialect: 'graphql', logger });
  const splicing: Upstream = createUpstream({
    target: config.apiServiceUrl,
    timeoutMs: config.upstreamTimeoutMs,
    dialect: 'graphql',
    logger,
    onBufferedResponse: spliceBatchResponse,
  });

  const router = express.Router();
  router.use(routeLabel('graphql'));
  router.use(authenticate({ resolver: deps.resolver, logger, dialect: 'graphql', allowPublic: config.allowPublicAccess, rate: deps.rate }));
  router.use(requireJsonPost);
  router.use(express.json({ limit: config.bodyLimitBytes, inflate: false, strict: false, type: 'application/json' }));
  router.use(authorizeGraphQL({ config, documents: deps.documents }));
  router.use((req: Request, res: Response, next: NextFunction) => {
    // The query string plays no part in a POST to Prefect 1; dropping it leaves nothing unchecked.
    const query = req.url.indexOf('?');
    if (query >= 0) req.url = req.url.slice(0, query);
    const upstream = scopeOf(req).batchSplice ? splicing : streaming;
    return upstream.handler(req, res, next);
  });
  router.use(bodyErrorHandler('graphql'));
  return {
    router,
    close() {
      streaming.close();
      splicing.close();
    },
  };
}

function requireJsonPost(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'POST') {
    return sendError(res, new ProxyError('METHOD_NOT_ALLOWED', 'GraphQL requests must be POST with a JSON body', { Allow: 'POST' }), 'graphql');
  }
  if (req.is('application/json') !== 'application/json') {
    return sendError(res, new ProxyError('UNSUPPORTED_MEDIA_TYPE', 'GraphQL requests must have Content-Type: application/json'), 'graphql');
  }
  next();
}
