import { LRUCache } from 'lru-cache';
import type { DocumentInfo } from './analyze-document';
import { analyzeDocument, InvalidDocumentError, TokenLimitError } from './analyze-document';

export interface DocumentCache {
  /**
   * Analyzes `query`, reading at most `budget` tokens (default: the cache's `maxTokens`), reusing
   * the result for a query text seen before. Throws TokenLimitError past the budget, and
   * InvalidDocumentError (with the tokens it read) for a document the proxy refuses.
   */
  analyze(query: string, budget?: number): DocumentInfo;
}

/**
 * UI polls send the same few documents over and over; parsing them once matters on the hot path.
 * Bounded by total query length so large documents cannot pin unbounded memory.
 * A text seen before costs its tokens again, as if parsed: whether a request fits its token budget
 * never depends on what the cache holds, and a cached result is never a way around the budget.
 */
export function createDocumentCache(maxTokens: number, maxChars = 8_000_000): DocumentCache {
  const cache = new LRUCache<string, DocumentInfo | InvalidDocumentError>({
    maxSize: maxChars,
    sizeCalculation: (_value, key) => Math.max(1, key.length),
  });
  return {
    analyze(query, budget = maxTokens) {
      // A budget that is not a number must refuse, not lift the limit.
      const limit = Math.max(0, Math.min(budget, maxTokens) || 0);
      let result = cache.get(query);
      if (result === undefined) {
        try {
          result = analyzeDocument(query, limit);
        } catch (err) {
          if (!(err instanceof InvalidDocumentError)) throw err;
          // Running out of a budget already partly spent says nothing about the document itself.
          if (err instanceof TokenLimitError && limit < maxTokens) throw err;
          result = err;
        }
        if (query.length <= maxChars) cache.set(query, result);
      }
      if (result.tokens > limit) throw new TokenLimitError(`the document has more than ${limit} tokens and comments`, result.tokens);
      if (result instanceof InvalidDocumentError) throw result;
      return result;
    },
  };
}
