import { InvalidDocumentError } from './analyze-document';

export interface GraphQLRequestItem {
  readonly query: string;
  /** As sent: an object, null, or a JSON string (the Prefect 1 client sends a string). */
  readonly variables: unknown;
  readonly operationName: string | null;
}

export interface GraphQLBody {
  readonly batch: boolean;
  /** One per item, in order: the checked item, or why it is refused (batches answer item by item). */
  readonly items: readonly (GraphQLRequestItem | InvalidDocumentError)[];
}

/**
 * Checks the shape of a GraphQL-over-HTTP body and keeps only the fields the proxy understands.
 * What is forwarded is rebuilt from these items, so unknown members (`extensions`, persisted-query
 * hashes, duplicate keys) never reach the upstream. Throws InvalidDocumentError only for a fault of
 * the whole body; a malformed item is returned as its error, so one bad item does not sink a batch.
 */
export function parseGraphQLBody(body: unknown, maxBatch: number): GraphQLBody {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new InvalidDocumentError('the batch is empty');
    if (body.length > maxBatch) throw new InvalidDocumentError(`a batch may hold at most ${maxBatch} operations (GRAPHQL_MAX_BATCH)`);
    return { batch: true, items: body.map(parseItemOrError) };
  }
  return { batch: false, items: [parseItemOrError(body)] };
}

function parseItemOrError(item: unknown): GraphQLRequestItem | InvalidDocumentError {
  try {
    return parseItem(item);
  } catch (err) {
    if (err instanceof InvalidDocumentError) return err;
    throw err;
  }
}

function parseItem(item: unknown): GraphQLRequestItem {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new InvalidDocumentError('expected a JSON object with a "query" string');
  }
  const { query, variables, operationName, extensions } = item as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') {
    const persisted = isObject(extensions) && 'persistedQuery' in extensions;
    throw new InvalidDocumentError(
      persisted ? 'persisted queries are not supported: send the query text' : '"query" must be a non-empty string',
    );
  }
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') {
    throw new InvalidDocumentError('"operationName" must be a string');
  }
  checkVariables(variables);
  return { query, variables, operationName: operationName ?? null };
}

function checkVariables(variables: unknown): void {
  if (variables === undefined || variables === null || isObject(variables)) return;
  if (typeof variables === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(variables);
    } catch {
      throw new InvalidDocumentError('"variables" is a string that is not JSON');
    }
    if (parsed === null || isObject(parsed)) return;
  }
  throw new InvalidDocumentError('"variables" must be an object');
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
