import { LRUCache } from 'lru-cache';
import type { DocumentInfo } from './analyze-document';
import { analyzeDocument, InvalidDocumentError } from './analyze-document';

export interface DocumentCache {
  /** Analyzes `query`, reusing the result for a query text seen before. Throws InvalidDocumentError. */
  analyze(query: string): DocumentInfo;
}

/**
 * UI polls send the same few documents over and over; parsing them once matters on the hot path.
 * Bounded by total query length so large documents cannot pin unbounded memory.
 */
export function createDocumentCache(maxTokens: number, maxChars = 8_000_000): DocumentCache {
  const cache = new LRUCache<string, DocumentInfo | InvalidDocumentError>({
    maxSize: maxChars,
    sizeCalculation: (_value, key) => Math.max(1, key.length),
  });
  return {
    analyze(query) {
      let result = cache.get(query);
      if (result === undefined) {
        try {
          result = analyzeDocument(query, maxTokens);
        } catch (err) {
          if (!(err instanceof InvalidDocumentError)) throw err;
          result = err;
        }
        if (query.length <= maxChars) cache.set(query, result);
      }
      if (result instanceof InvalidDocumentError) throw result;
      return result;
    },
  };
}
