import { InvalidDocumentError, parseGraphQLBody, toForwardedItem } from '../../../../src/authz/graphql';

describe('parseGraphQLBody', () => {
  it.each([
    ['null', null],
    ['a string', 'query { x }'],
    ['a number', 42],
    ['an empty object', {}],
    ['a non-string query', { query: { kind: 'Document' } }],
    ['an empty query', { query: '  ' }],
    ['a hash-only persisted query', { extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }],
    ['a numeric operationName', { query: '{ x }', operationName: 1 }],
    ['variables as an array', { query: '{ x }', variables: [1] }],
    ['variables as a non-JSON string', { query: '{ x }', variables: '{nope' }],
    ['variables as a JSON string of a number', { query: '{ x }', variables: '3' }],
    ['an empty batch', []],
    ['a batch with a bad item', [{ query: '{ x }' }, null]],
    ['a batch over the limit', Array.from({ length: 51 }, () => ({ query: '{ x }' }))],
  ])('refuses %s', (_name, body) => {
    expect(() => parseGraphQLBody(body, 50)).toThrow(InvalidDocumentError);
  });

  it.each([
    ['the Prefect 1 CLI shape', { query: 'query { flow { id } }', variables: 'null' }, { query: 'query { flow { id } }', variables: 'null' }],
    ['object variables and a name', { query: 'query A { x }', variables: { a: 1 }, operationName: 'A' }, { query: 'query A { x }', variables: { a: 1 }, operationName: 'A' }],
    ['extensions and unknown members dropped', { query: '{ x }', extensions: { persistedQuery: { sha256Hash: 'x' } }, extra: 1 }, { query: '{ x }' }],
  ])('keeps only checked members: %s', (_name, body, forwarded) => {
    const parsed = parseGraphQLBody(body, 50);
    expect(parsed.batch).toBe(false);
    expect(toForwardedItem(parsed.items[0]!)).toEqual(forwarded);
  });

  it('reads batches item by item', () => {
    const parsed = parseGraphQLBody([{ query: '{ a }', operationName: 'A' }, { query: '{ b }' }], 50);
    expect(parsed.batch).toBe(true);
    expect(parsed.items.map((i) => i.query)).toEqual(['{ a }', '{ b }']);
  });
});
