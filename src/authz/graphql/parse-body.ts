import { InvalidDocumentError } from './analyze-document';

export interface GraphQLRequestItem {
  readonly query: string;
  /** As sent: an object, null, or a JSON string (the Prefect 1 client sends a string). */
  readonly variables: unknown;
  readonly operationName: string | null;
}

export interface GraphQLBody {
  readonly batch: boolean;
  readonly items: readonly GraphQLRequestItem[];
}

/**
 * Checks the shape of a GraphQL-over-HTTP body and keeps only the fields the proxy understands.
 * What is forwarded is rebuilt from these items, so unknown members (`extensions`, persisted-query
 * hashes, duplicate keys) never reach the upstream.
 */
export function parseGraphQLBody(body: unknown, maxBatch: number): GraphQLBody {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new InvalidDocumentError('the batch is empty');
    if (body.length > maxBatch) throw new InvalidDocumentError(`a batch may hold at most ${maxBatch} operations`);
    return { batch: true, items: body.map((item, index) => parseItem(item, `batch item ${index}: `)) };
  }
  return { batch: false, items: [parseItem(body, '')] };
}

function parseItem(item: unknown, where: string): GraphQLRequestItem {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new InvalidDocumentError(`${where}the body must be a JSON object with a "query" string`);
  }
  const { query, variables, operationName, extensions } = item as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') {
    const persisted = isObject(extensions) && 'persistedQuery' in extensions;
    throw new InvalidDocumentError(
      persisted
        ? `${where}persisted queries are not supported: send the query text`
        : `${where}"query" must be a non-empty string`,
    );
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
    throw new InvalidDocumentError(`${where}"operationName" must be a string`);
  }
  checkVariables(variables, where);
  return { query, variables, operationName: operationName ?? null };
}

function checkVariables(variables: unknown, where: string): void {
  if (variables === undefined || variables === null || isObject(variables)) return;
  if (typeof variables === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(variables);
    } catch {
      throw new InvalidDocumentError(`${where}"variables" is a string that is not JSON`);
    }
    if (parsed === null || isObject(parsed)) return;
  }
  throw new InvalidDocumentError(`${where}"variables" must be an object`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The body forwarded upstream for one item: only what was checked. */
export function toForwardedItem(item: GraphQLRequestItem): Record<string, unknown> {
  const out: Record<string, unknown> = { query: item.query };
  if (item.variables !== undefined) out.variables = item.variables;
  if (item.operationName !== null) out.operationName = item.operationName;
  return out;
}
