import type { DocumentCache } from '../authz/graphql';
import type { AppContext } from '../app-context';
import { hasBody, isJsonContentType, ProxyError, readJsonBody } from '../http';
import type { Logger } from '../log';
import { authorizeGraphQL, spliceBatchResponse } from '../proxy';
import type { Exchange, Verdict } from './chain';

/** What the GraphQL chain knows after `body`: the parsed JSON of the request. */
export interface GraphQLRequest {
  json?: unknown;
}

export type GraphQLExchange = Exchange<GraphQLRequest>;

/** Prefect 1: every path not owned by the proxy is GraphQL, POST with a JSON body. */
export function createGraphQLSteps(context: AppContext, documents: DocumentCache, logger: Logger) {
  const { config } = context;
  const authorize = authorizeGraphQL({ config, documents, warn: (message) => logger.warn(message) });

  return {
    classify(x: GraphQLExchange): Verdict | undefined {
      x.scope.route = 'graphql';
      x.classified = {};
      if (x.req.method !== 'POST') {
        return { kind: 'refuse', error: new ProxyError('METHOD_NOT_ALLOWED', 'GraphQL requests must be POST with a JSON body', { Allow: 'POST' }) };
      }
      if (!hasBody(x.req) || !isJsonContentType(x.req.headers['content-type'])) {
        return { kind: 'refuse', error: new ProxyError('UNSUPPORTED_MEDIA_TYPE', 'GraphQL requests must have Content-Type: application/json (UTF-8)') };
      }
      return undefined;
    },

    async body(x: GraphQLExchange): Promise<Verdict | undefined> {
      const json = await readJsonBody(x.req, config.bodyLimitBytes, config.bodyTimeoutMs);
      if (json instanceof ProxyError) return { kind: 'refuse', error: json };
      (x.classified as GraphQLRequest).json = json;
      return undefined;
    },

    /** Only the checked items leave, re-serialized; a partly refused batch is spliced back together. */
    decide(x: GraphQLExchange): Verdict {
      const decided = authorize(x.scope.principal, (x.classified as GraphQLRequest).json);
      if (decided.summary) x.scope.summary = decided.summary;
      x.decided = decided.decided;
      if (decided.kind === 'refuse') return { kind: 'refuse', error: decided.error };
      if (decided.kind === 'answer') return { kind: 'answer', status: decided.status, body: decided.body };
      // The query string plays no part in a POST to Prefect 1; dropping it leaves nothing unchecked.
      return {
        kind: 'forward',
        plan: { path: x.scope.path, body: decided.body, credential: 'none', ...(decided.splice ? { rewrite: spliceBatchResponse(decided.splice) } : {}) },
      };
    },
  };
}
