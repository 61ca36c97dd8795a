import type { DocumentNode, FragmentDefinitionNode, OperationDefinitionNode, SelectionSetNode } from 'graphql';
import { Kind, parse } from 'graphql';

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
}

/** A document the proxy refuses to reason about; always a client error (400). */
export class InvalidDocumentError extends Error {}

/**
 * Parses a GraphQL document and lists every operation with the real root fields it would execute.
 * Anything the upstream might resolve differently from this reading (duplicate or unknown fragments,
 * fragment cycles, non-executable definitions) is rejected rather than guessed at.
 */
export function analyzeDocument(query: string, maxTokens: number): DocumentInfo {
  let document: DocumentNode;
  try {
    document = parse(query, { noLocation: true, maxTokens });
  } catch (err) {
    // RangeError: nesting deep enough to exhaust the parser's stack.
    const reason = err instanceof RangeError ? 'document is nested too deeply' : (err as Error).message;
    throw new InvalidDocumentError(`invalid GraphQL document: ${reason}`);
  }

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
    return { document, operations, fragments };
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
