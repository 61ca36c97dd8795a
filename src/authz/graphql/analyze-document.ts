import type { DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import { Kind, Lexer, Source } from 'graphql';
// The class behind `parse`: unlike `parse`, it still tells how many tokens it read when it throws.
import { Parser } from 'graphql/language/parser';

export type OperationType = 'query' | 'mutation' | 'subscription';

export interface OperationInfo {
  readonly type: OperationType;
  readonly name: string | null;
  /** Real field names at the root, through fragments, without aliases; each once. */
  readonly rootFields: readonly string[];
  readonly node: OperationDefinitionNode;
}

export interface DocumentInfo {
  readonly document: DocumentNode;
  readonly operations: readonly OperationInfo[];
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Lexical tokens and comments of the document: what parsing it cost, charged to the request's budget. */
  readonly tokens: number;
}

/** A document the proxy refuses to reason about; a client error (400). */
export class InvalidDocumentError extends Error {
  /** `tokens`: how many were read before the fault was found; they count against the budget too. */
  constructor(message: string, readonly tokens = 0) {
    super(message);
  }
}

/** Parsing stopped at the token budget: a limit of the whole request (413), not a fault of this document. */
export class TokenLimitError extends InvalidDocumentError {}

/**
 * Parses a GraphQL document, reading at most `maxTokens` tokens and comments together, and lists
 * every operation with the real root fields it would execute. Anything the upstream might resolve
 * differently from this reading (duplicate or unknown fragments, fragment cycles, non-executable
 * definitions) is rejected rather than guessed at.
 */
export function analyzeDocument(query: string, maxTokens: number): DocumentInfo {
  // Comments are no tokens to graphql-js, yet a document of nothing but comments costs parsing time.
  const lexer = new Lexer(new Source(query));
  const parser = new Parser(query, { noLocation: true, maxTokens, maxComments: maxTokens, lexer });
  // `_commentCount` is graphql-js's own counter, internal: were a release to drop it, counting no
  // comments (graphql-js still stops at `maxComments`) beats a NaN that no comparison catches.
  const comments = (): number => lexer._commentCount || 0;
  const cost = (): number => parser.tokenCount + comments();
  const overLimit = (): TokenLimitError => new TokenLimitError(`the document has more than ${maxTokens} tokens and comments`, cost());
  let document: DocumentNode;
  try {
    document = parser.parseDocument();
  } catch (err) {
    // graphql-js stops one token past its limit, or at the limit for comments.
    if (parser.tokenCount > maxTokens || comments() >= maxTokens || cost() > maxTokens) throw overLimit();
    // RangeError: nesting deep enough to exhaust the parser's stack.
    const reason = err instanceof RangeError ? 'document is nested too deeply' : (err as Error).message;
    throw new InvalidDocumentError(`invalid GraphQL document: ${reason}`, cost());
  }
  if (cost() > maxTokens) throw overLimit();
  try {
    return describeDocument(document, cost());
  } catch (err) {
    if (err instanceof InvalidDocumentError) throw new InvalidDocumentError(err.message, cost());
    throw err;
  }
}

function describeDocument(document: DocumentNode, tokens: number): DocumentInfo {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operationNodes: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      operationNodes.push(definition);
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      const name = definition.name.value;
      if (fragments.has(name)) throw new InvalidDocumentError(`fragment "${name}" is defined more than once`);
      fragments.set(name, definition);
    } else {
      throw new InvalidDocumentError('only operations and fragments are allowed in a request document');
    }
  }
  if (operationNodes.length === 0) throw new InvalidDocumentError('the document has no operation');

  const fieldsOf = createRootFieldCollector(fragments);
  try {
    const operations = operationNodes.map((node): OperationInfo => ({
      type: node.operation as OperationType,
      name: node.name?.value ?? null,
      rootFields: [...fieldsOf(node.selectionSet)],
      node,
    }));
    return { document, operations, fragments, tokens };
  } catch (err) {
    if (err instanceof RangeError) throw new InvalidDocumentError('invalid GraphQL document: fragments are nested too deeply');
    throw err;
  }
}

/**
 * Each fragment's fields are computed once and reused: without that, fragments spreading
 * each other twice per level make the walk exponential in the document size.
 */
function createRootFieldCollector(
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): (set: SelectionSetNode) => ReadonlySet<string> {
  const done = new Map<string, ReadonlySet<string>>();
  const inProgress = new Set<string>();

  const fragmentFields = (name: string): ReadonlySet<string> => {
    const cached = done.get(name);
    if (cached) return cached;
    const fragment = fragments.get(name);
    if (!fragment) throw new InvalidDocumentError(`unknown fragment "${name}"`);
    if (inProgress.has(name)) throw new InvalidDocumentError(`fragment "${name}" spreads itself`);
    inProgress.add(name);
    const fields = selectionFields(fragment.selectionSet);
    inProgress.delete(name);
    done.set(name, fields);
    return fields;
  };

  const selectionFields = (set: SelectionSetNode): ReadonlySet<string> => {
    const found = new Set<string>();
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) found.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) for (const f of selectionFields(selection.selectionSet)) found.add(f);
      else for (const f of fragmentFields(selection.name.value)) found.add(f);
    }
    return found;
  };

  return selectionFields;
}
