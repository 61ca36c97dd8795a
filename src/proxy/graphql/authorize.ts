import type { DecidedOperation } from '../../audit';
import type { DocumentCache, DocumentDecision, DocumentInfo } from '../../authz/graphql';
import { decideDocument, InvalidDocumentError, isCloudAuthDocument, parseGraphQLBody, toForwardedItem, TokenLimitError, valuePermissions } from '../../authz/graphql';
import type { Config } from '../../config';
import { graphqlError, ProxyError } from '../../http';
import type { Principal } from '../../keys';
import { describePrincipal } from '../../keys';
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

/** What deciding a GraphQL request comes to; the router renders it, nothing here answers. */
export type GraphQLDecision = (
  | { readonly kind: 'refuse'; readonly error: ProxyError }
  /** The proxy answers itself: Cloud login emulation, or a batch of which nothing is forwarded. */
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  | ({ readonly kind: 'forward' } & GraphQLForward)
) & {
  readonly decided: DecidedOperation[];
  /** Operation names for the request log. */
  readonly summary?: string;
};

/**
 * Decides a parsed GraphQL body for a principal: answer it (Cloud emulation, denials), refuse it,
 * or forward exactly the checked items, with how to splice a partial batch answer.
 */
export function authorizeGraphQL(options: AuthorizeGraphQLOptions): (principal: Principal | null, body: unknown) => GraphQLDecision {
  const { config, documents } = options;
  const maxTokens = config.graphql.maxTokens;
  // Said when it matters, once, rather than at every start of a proxy that may never see a login.
  let tenantWarned = UUID.test(config.tenant.id);

  return (principal, rawBody) => {
    let batch: boolean;
    let results: ItemResult[];
    try {
      const body = parseGraphQLBody(rawBody, config.graphql.maxBatch);
      batch = body.batch;
      results = checkItems(body.items, documents, maxTokens, (info, item) => decide(principal, info, item.variables));
    } catch (err) {
      if (err instanceof TokenLimitError) return { kind: 'refuse', error: tooManyTokens(maxTokens), decided: [] };
      if (!(err instanceof InvalidDocumentError)) throw err;
      return { kind: 'refuse', error: new ProxyError('BAD_REQUEST', err.message), decided: [] };
    }

    const first = results[0] as ItemResult;
    if (!batch && first instanceof InvalidDocumentError) return { kind: 'refuse', error: new ProxyError('BAD_REQUEST', first.message), decided: [] };
    // The emulated fields need their scopes like any other (`query/auth_info`, `query/tenant`): a
    // denied document falls through to the 403 below.
    if (!batch && !(first instanceof InvalidDocumentError) && first.decision.allowed && isCloudAuthDocument(first.info)) {
      if (!tenantWarned) {
        tenantWarned = true;
        options.warn?.(`answering \`prefect auth login\` with TENANT_ID "${config.tenant.id}", which is not a UUID: Prefect >= 1.0 clients reject it; set TENANT_ID to the id of the server's tenant`);
      }
      try {
        const answer = answerCloudAuth(first.info, first.item.operationName, { tenant: config.tenant, userId: principal?.userId ?? null });
        return { kind: 'answer', status: 200, body: answer, decided: [] };
      } catch (err) {
        if (!(err instanceof InvalidDocumentError)) throw err;
        return { kind: 'refuse', error: new ProxyError('BAD_REQUEST', err.message), decided: [] };
      }
    }

    const checked = results.filter((r): r is CheckedItem => !(r instanceof InvalidDocumentError));
    const decided = checked.flatMap((c) => decidedOperations(c, config.audit.logVariables));
    const summary = checked.flatMap((c) => c.info.operations.map((op) => op.name ?? op.rootFields.join(','))).join(' ');

    if (!batch) {
      const only = first as CheckedItem;
      if (!only.decision.allowed) return { kind: 'refuse', error: forbidden(principal, only.decision), decided, summary };
      return { kind: 'forward', body: Buffer.from(JSON.stringify(toForwardedItem(only.item))), decided, summary };
    }
    return { ...planBatch(principal, results), decided, summary };
  };
}

/**
 * Allowed items are forwarded together; every other position is answered by the proxy, with a
 * message naming the item, so the client's batch link gets a reply of the right length and order.
 */
function planBatch(principal: Principal | null, results: readonly ItemResult[]):
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  | ({ readonly kind: 'forward' } & GraphQLForward) {
  const forwarded: number[] = [];
  const answered = new Map<number, unknown>();
  let invalid = false;
  results.forEach((r, i) => {
    if (r instanceof InvalidDocumentError) {
      invalid = true;
      answered.set(i, { errors: [graphqlError(`batch item ${i}: ${r.message}`, 'BAD_REQUEST')] });
    } else if (!r.decision.allowed) {
      answered.set(i, { errors: [graphqlError(forbidden(principal, r.decision).message, 'FORBIDDEN')] });
    } else {
      forwarded.push(i);
    }
  });
  // As for a single request, a malformed request is reported before a forbidden one.
  if (forwarded.length === 0) return { kind: 'answer', status: invalid ? 400 : 403, body: results.map((_r, i) => answered.get(i)) };
  const body = Buffer.from(JSON.stringify(forwarded.map((i) => toForwardedItem((results[i] as CheckedItem).item))));
  return answered.size > 0
    ? { kind: 'forward', body, splice: { size: results.length, forwardedPositions: forwarded, answered } }
    : { kind: 'forward', body };
}

function tooManyTokens(maxTokens: number): ProxyError {
  return new ProxyError(
    'PAYLOAD_TOO_LARGE',
    `the request has more than ${maxTokens} GraphQL tokens (GRAPHQL_MAX_TOKENS counts the tokens and comments of every document of a batch together)`,
  );
}

function decide(principal: Principal | null, info: DocumentInfo, variables: unknown): DocumentDecision {
  if (principal) return decideDocument(info, principal.scopes, (operation) => valuePermissions(info, operation, variables));
  // Keyless requests only get here when ALLOW_PUBLIC_ACCESS is on.
  return { allowed: true, operations: info.operations.map((operation) => ({ operation, missing: [] })) };
}

function forbidden(principal: Principal | null, decision: DocumentDecision): ProxyError {
  const missing = [...new Set(decision.operations.flatMap((o) => o.missing))];
  const listed = missing.slice(0, MAX_LISTED_PERMISSIONS).join(', ') + (missing.length > MAX_LISTED_PERMISSIONS ? ', ...' : '');
  return new ProxyError('FORBIDDEN', `${principal ? describePrincipal(principal) : `API key of user ${PUBLIC_USER}`} lacks permission: ${listed}`);
}

/** Every operation of a blocked document is blocked; queries read, everything else changes state. */
function decidedOperations(checked: CheckedItem, logVariables: boolean): DecidedOperation[] {
  const { decision, item } = checked;
  return decision.operations.map(({ operation, missing }) => ({
    dialect: 'graphql' as const,
    operationType: operation.type,
    operationName: operation.name,
    fields: operation.rootFields,
    allowed: decision.allowed,
    permissions: decision.allowed
      ? operation.rootFields.filter((f) => f !== '__typename').map((f) => `${operation.type}/${f}`)
      : missing,
    changesState: operation.type !== 'query',
    ...(logVariables && item.variables !== undefined ? { variables: item.variables } : {}),
  }));
}
