import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DocumentCache, DocumentDecision, DocumentInfo } from '../../authz/graphql';
import { decideDocument, InvalidDocumentError, isCloudAuthDocument, parseGraphQLBody, toForwardedItem, TokenLimitError, valuePermissions } from '../../authz/graphql';
import type { Config } from '../../config';
import { graphqlError, ProxyError, recordDecision, scopeOf, sendError, sendJson } from '../../http';
import type { RequestScope } from '../../http';
import type { CheckedItem, ItemResult } from './check-items';
import { checkItems } from './check-items';
import { answerCloudAuth } from './cloud-auth';
import type { BatchSplice } from './splice-batch';

/** What a decided GraphQL request forwards: only the checked items, re-serialized. */
export interface GraphQLForward {
  readonly body: Buffer;
  /** Set when the proxy answered some positions of a batch itself. */
  readonly splice?: BatchSplice;
}

export interface AuthorizeGraphQLOptions {
  readonly config: Config;
  readonly documents: DocumentCache;
  readonly warn?: (message: string) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const PUBLIC_USER = 'public';
const MAX_LISTED_PERMISSIONS = 10;

/**
 * Decides a parsed GraphQL body: answers it (Cloud emulation, denial) and returns false, or returns
 * exactly what is to be forwarded, item by item for batches, and how to splice a partial answer.
 */
export function authorizeGraphQL(options: AuthorizeGraphQLOptions): (req: IncomingMessage, res: ServerResponse, body: unknown) => GraphQLForward | false {
  const { config, documents } = options;
  const maxTokens = config.graphql.maxTokens;
  // Said when it matters, once, rather than at every start of a proxy that may never see a login.
  let tenantWarned = UUID.test(config.tenant.id);

  return (req, res, rawBody) => {
    const scope = scopeOf(req);
    let batch: boolean;
    let results: ItemResult[];
    try {
      const body = parseGraphQLBody(rawBody, config.graphql.maxBatch);
      batch = body.batch;
      results = checkItems(body.items, documents, maxTokens, (info, item) => decide(scope, info, item.variables));
    } catch (err) {
      if (err instanceof TokenLimitError) {
        sendError(res, tooManyTokens(maxTokens), 'graphql');
        return false;
      }
      if (!(err instanceof InvalidDocumentError)) throw err;
      sendError(res, new ProxyError('BAD_REQUEST', err.message), 'graphql');
      return false;
    }

    const first = results[0] as ItemResult;
    if (!batch && first instanceof InvalidDocumentError) {
      sendError(res, new ProxyError('BAD_REQUEST', first.message), 'graphql');
      return false;
    }
    // The emulated fields need their scopes like any other (`query/auth_info`, `query/tenant`): a
    // denied document falls through to the 403 below.
    if (!batch && !(first instanceof InvalidDocumentError) && first.decision.allowed && isCloudAuthDocument(first.info)) {
      if (!tenantWarned) {
        tenantWarned = true;
        options.warn?.(`answering \`prefect auth login\` with TENANT_ID "${config.tenant.id}", which is not a UUID: Prefect >= 1.0 clients reject it; set TENANT_ID to the id of the server's tenant`);
      }
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

    const checked = results.filter((r): r is CheckedItem => !(r instanceof InvalidDocumentError));
    for (const c of checked) recordAudit(req, c, config.audit.logVariables);
    scope.summary = checked.flatMap((c) => c.info.operations.map((op) => op.name ?? op.rootFields.join(','))).join(' ');

    if (!batch) {
      const only = first as CheckedItem;
      if (!only.decision.allowed) {
        sendError(res, forbidden(scope, only.decision), 'graphql');
        return false;
      }
      return { body: Buffer.from(JSON.stringify(toForwardedItem(only.item))) };
    }
    return planBatch(scope, res, results);
  };
}

/**
 * Allowed items are forwarded together; every other position is answered by the proxy, with a
 * message naming the item, so the client's batch link gets a reply of the right length and order.
 */
function planBatch(scope: RequestScope, res: ServerResponse, results: readonly ItemResult[]): GraphQLForward | false {
  const forwarded: number[] = [];
  const answered = new Map<number, unknown>();
  let invalid = false;
  results.forEach((r, i) => {
    if (r instanceof InvalidDocumentError) {
      invalid = true;
      answered.set(i, { errors: [graphqlError(`batch item ${i}: ${r.message}`, 'BAD_REQUEST')] });
    } else if (!r.decision.allowed) {
      answered.set(i, { errors: [graphqlError(forbidden(scope, r.decision).message, 'FORBIDDEN')] });
    } else {
      forwarded.push(i);
    }
  });
  if (forwarded.length === 0) {
    // As for a single request, a malformed request is reported before a forbidden one.
    sendJson(res, invalid ? 400 : 403, results.map((_r, i) => answered.get(i)));
    return false;
  }
  const body = Buffer.from(JSON.stringify(forwarded.map((i) => toForwardedItem((results[i] as CheckedItem).item))));
  return answered.size > 0 ? { body, splice: { size: results.length, forwardedPositions: forwarded, answered } } : { body };
}

function tooManyTokens(maxTokens: number): ProxyError {
  return new ProxyError(
    'PAYLOAD_TOO_LARGE',
    `the request has more than ${maxTokens} GraphQL tokens (GRAPHQL_MAX_TOKENS counts the tokens and comments of every document of a batch together)`,
  );
}

function decide(scope: RequestScope, info: DocumentInfo, variables: unknown): DocumentDecision {
  if (scope.principal) return decideDocument(info, scope.principal.scopes, (operation) => valuePermissions(info, operation, variables));
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
