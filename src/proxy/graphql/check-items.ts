import type { DocumentCache, DocumentDecision, DocumentInfo, GraphQLRequestItem } from '../../authz/graphql';
import { InvalidDocumentError, TokenLimitError } from '../../authz/graphql';

export interface CheckedItem {
  readonly item: GraphQLRequestItem;
  readonly info: DocumentInfo;
  readonly decision: DocumentDecision;
}

/** Each item of the body, in order: checked and decided, or refused as malformed. */
export type ItemResult = CheckedItem | InvalidDocumentError;

/**
 * Analyzes and decides every item within ONE token budget for the whole request: a batch of
 * documents each under the limit must not add up to seconds of parsing. A malformed document spends
 * what was read before its fault, a cached one what it cost when parsed. Throws TokenLimitError
 * when the request is over budget: then nothing of it is forwarded.
 */
export function checkItems(
  items: readonly (GraphQLRequestItem | InvalidDocumentError)[],
  documents: DocumentCache,
  maxTokens: number,
  decide: (info: DocumentInfo, item: GraphQLRequestItem) => DocumentDecision,
): ItemResult[] {
  let remaining = maxTokens;
  return items.map((item): ItemResult => {
    if (item instanceof InvalidDocumentError) return item;
    try {
      const info = documents.analyze(item.query, remaining);
      remaining -= info.tokens;
      return { item, info, decision: decide(info, item) };
    } catch (err) {
      if (err instanceof TokenLimitError || !(err instanceof InvalidDocumentError)) throw err;
      remaining -= err.tokens;
      return err;
    }
  });
}
