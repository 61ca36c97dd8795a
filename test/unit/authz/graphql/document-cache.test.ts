import { createDocumentCache, InvalidDocumentError, TokenLimitError } from '../../../../src/authz/graphql';

const tokens = (n: number, tail = ' }') => `{ ${'a '.repeat(n - 2)}${tail}`;
const outcome = (run: () => unknown): string => {
  try {
    run();
    return 'ok';
  } catch (err) {
    if (err instanceof TokenLimitError) return 'limit';
    if (err instanceof InvalidDocumentError) return 'invalid';
    throw err;
  }
};

describe('createDocumentCache: a cached result is never a way around the token budget', () => {
  it.each([
    // [name, steps: [query, budget or undefined for the default, expected]]
    ['a cached document costs its tokens again', [[tokens(60), 100, 'ok'], [tokens(60), 59, 'limit'], [tokens(60), 60, 'ok']]],
    ['a document refused for a spent budget is not remembered as too large', [[tokens(60), 10, 'limit'], [tokens(60), undefined, 'ok']]],
    ['a document over the whole limit stays over it', [[tokens(150), undefined, 'limit'], [tokens(150), undefined, 'limit']]],
    ['a malformed document cached costs what was read before its fault', [[tokens(60, ''), 100, 'invalid'], [tokens(60, ''), 30, 'limit'], [tokens(60, ''), 100, 'invalid']]],
    ['a budget above the limit is the limit', [[tokens(150), 1000, 'limit']]],
    ['a budget that is not a number refuses', [[tokens(10), Number.NaN, 'limit'], [tokens(10), undefined, 'ok']]],
  ])('%s', (_name, steps) => {
    const cache = createDocumentCache(100);
    for (const [query, budget, expected] of steps as Array<[string, number | undefined, string]>) {
      expect(outcome(() => cache.analyze(query, budget))).toBe(expected);
    }
  });

  it('returns the cost of each document with it', () => {
    const cache = createDocumentCache(100);
    expect(cache.analyze('{ flow { id } }').tokens).toBe(6);
    expect(cache.analyze('{ flow { id } }', 6).tokens).toBe(6);
  });
});
