import type { IncomingMessage, ServerResponse } from 'node:http';
import { recordDecision } from '../../audit';
import type { DocumentCache, DocumentDecision, DocumentInfo, GraphQLRequestItem } from '../../authz/graphql';
import { decideDocument, InvalidDocumentError, isCloudAuthDocument, parseGraphQLBody, toForwardedItem } from '../../authz/graphql';
import type { Config } from '../../config';
import { graphqlError, ProxyError, sendError, sendJson } from '../../http/errors';
import type { RequestScope } from '../../http/request-scope';
import { scopeOf } from '../../http/request-scope';
import { answerCloudAuth } from './cloud-auth';

export interface AuthorizeGraphQLOptions {
  readonly config: Config;
  readonly documents: DocumentCache;
}

interface CheckedItem {
  readonly item: GraphQLRequestItem;
  readonly info: DocumentInfo;
  readonly decision: DocumentDecision;
}

const PUBLIC_USER = 'public';
const MAX_LISTED_PERMISSIONS = 10;

/**
 * Decides a parsed GraphQL body: answers it (Cloud emulation, denial) and returns false, or prepares
 * exactly what is forwarded in `scope.forwardBody`, item by item for batches, and returns true.
 */
export function authorizeGraphQL(options: AuthorizeGraphQLOptions): (req: IncomingMessage, res: ServerResponse, body: unknown) => boolean {
  const { config, documents } = options;

  return (req, res, rawBody) => {
    const scope = scopeOf(req);
    let checked: CheckedItem[];
    let batch: boolean;
    try {
      const body = parseGraphQLBody(rawBody, config.graphql.maxBatch);
      batch = body.batch;
      checked = body.items.map((item) => {
        const info = documents.analyze(item.query);
        return { item, info, decision: decide(scope, info) };
      });
    } catch (err) {
      if (!(err instanceof InvalidDocumentError)) throw err;
      sendError(res, new ProxyError('BAD_REQUEST', err.message), 'graphql');
      return false;
    }

    const first = checked[0] as CheckedItem;
    if (!batch && isCloudAuthDocument(first.info)) {
      try {
        sendJson(res, 200, answerCloudAuth(first.info, first.item.operationName, {
          tenant: config.tenant,
          userId: scope.principal?.userId ?? null,
        }));
      } catch (err) {
        if (!(err instanceof InvalidDocumentError)) throw err;
        sendError(res, new ProxyError('BAD_REQUEST', err.message), 'graphql');
      }
      return false;
    }

    for (const c of checked) recordAudit(req, c, config.audit.logVariables);
    scope.summary = checked.flatMap((c) => c.info.operations.map((op) => op.name ?? op.rootFields.join(','))).join(' ');

    if (!batch) {
      if (!first.decision.allowed) {
        sendError(res, forbidden(scope, first.decision), 'graphql');
        return false;
      }
      scope.forwardBody = Buffer.from(JSON.stringify(toForwardedItem(first.item)));
      return true;
    }

    const allowed = checked.flatMap((c, i) => (c.decision.allowed ? [i] : []));
    const denied = new Map<number, unknown>();
    checked.forEach((c, i) => {
      if (!c.decision.allowed) denied.set(i, { errors: [graphqlError(forbidden(scope, c.decision).message, 'FORBIDDEN')] });
    });
    if (allowed.length === 0) {
      sendJson(res, 403, checked.map((_c, i) => denied.get(i)));
      return false;
    }
    scope.forwardBody = Buffer.from(JSON.stringify(allowed.map((i) => toForwardedItem((checked[i] as CheckedItem).item))));
    if (denied.size > 0) scope.batchSplice = { size: checked.length, forwardedPositions: allowed, denied };
    return true;
  };
}

function decide(scope: RequestScope, info: DocumentInfo): DocumentDecision {
  if (scope.principal) return decideDocument(info, scope.principal.scopes);
  // Keyless requests only get here when ALLOW_PUBLIC_ACCESS is on.
  return { allowed: true, operations: info.operations.map((operation) => ({ operation, missing: [] })) };
}

function forbidden(scope: RequestScope, decision: DocumentDecision): ProxyError {
  const missing = [...new Set(decision.operations.flatMap((o) => o.missing))];
  const listed = missing.slice(0, MAX_LISTED_PERMISSIONS).join(', ') + (missing.length > MAX_LISTED_PERMISSIONS ? ', ...' : '');
  return new ProxyError('FORBIDDEN', `API key of user ${scope.principal?.userId ?? PUBLIC_USER} lacks permission: ${listed}`);
}

/** Every operation of a blocked document is blocked; of an allowed one, only what changes state is recorded. */
function recordAudit(req: IncomingMessage, checked: CheckedItem, logVariables: boolean): void {
  const { decision, item } = checked;
  for (const { operation, missing } of decision.operations) {
    if (decision.allowed && operation.type === 'query') continue;
    recordDecision(req, {
      outcome: decision.allowed ? 'ALLOWED' : 'BLOCKED',
      dialect: 'graphql',
      operationType: operation.type,
      operationName: operation.name,
      fields: operation.rootFields,
      permissions: decision.allowed
        ? operation.rootFields.filter((f) => f !== '__typename').map((f) => `${operation.type}/${f}`)
        : missing,
      ...(logVariables && item.variables !== undefined ? { variables: item.variables } : {}),
    });
  }
}
