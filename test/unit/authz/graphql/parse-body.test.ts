import { InvalidDocumentError, parseGraphQLBody, toForwardedItem } from '../../../../src/authz/graphql';

const isItem = <T>(item: T | InvalidDocumentError): T => {
  if (item instanceof InvalidDocumentError) throw item;
  return item;
};

describe('parseGraphQLBody', () => {
  it.each([
    ['null', null, 'expected a JSON object'],
    ['a string', 'query { x }', 'expected a JSON object'],
    ['a number', 42, 'expected a JSON object'],
    ['an empty object', {}, '"query" must be a non-empty string'],
    ['a non-string query', { query: { kind: 'Document' } }, '"query" must be a non-empty string'],
    ['an empty query', { query: '  ' }, '"query" must be a non-empty string'],
    ['a hash-only persisted query', { extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }, 'persisted queries are not supported'],
    ['a numeric operationName', { query: '{ x }', operationName: 1 }, '"operationName" must be a string'],
    ['variables as an array', { query: '{ x }', variables: [1] }, '"variables" must be an object'],
    ['variables as a non-JSON string', { query: '{ x }', variables: '{nope' }, 'not JSON'],
    ['variables as a JSON string of a number', { query: '{ x }', variables: '3' }, '"variables" must be an object'],
  ])('refuses %s, alone or as one item of a batch', (_name, body, message) => {
    const single = parseGraphQLBody(body, 50);
    expect(single.items[0]).toBeInstanceOf(InvalidDocumentError);
    expect((single.items[0] as Error).message).toContain(message);
    // The other items of the batch are kept, in their positions.
    const batch = parseGraphQLBody([{ query: '{ a }' }, body, { query: '{ b }' }], 50);
    expect(batch.items.map((i) => (i instanceof InvalidDocumentError ? i.message : i.query))).toEqual(['{ a }', expect.stringContaining(message), '{ b }']);
  });

  it.each([
    ['an empty batch', [], 'the batch is empty'],
    ['a batch over the limit', Array.from({ length: 51 }, () => ({ query: '{ x }' })), 'at most 50 operations (GRAPHQL_MAX_BATCH)'],
  ])('refuses %s as a whole', (_name, body, message) => {
    expect(() => parseGraphQLBody(body, 50)).toThrow(message);
  });

  it.each([
    ['the Prefect 1 CLI shape', { query: 'query { flow { id } }', variables: 'null' }, { query: 'query { flow { id } }', variables: 'null' }],
    ['object variables and a name', { query: 'query A { x }', variables: { a: 1 }, operationName: 'A' }, { query: 'query A { x }', variables: { a: 1 }, operationName: 'A' }],
    ['extensions and unknown members dropped', { query: '{ x }', extensions: { persistedQuery: { sha256Hash: 'x' } }, extra: 1 }, { query: '{ x }' }],
  ])('keeps only checked members: %s', (_name, body, forwarded) => {
    const parsed = parseGraphQLBody(body, 50);
    expect(parsed.batch).toBe(false);
    expect(toForwardedItem(isItem(parsed.items[0]!))).toEqual(forwarded);
  });

  it('reads batches item by item', () => {
    const parsed = parseGraphQLBody([{ query: '{ a }', operationName: 'A' }, { query: '{ b }' }], 50);
    expect(parsed.batch).toBe(true);
    expect(parsed.items.map((i) => isItem(i).query)).toEqual(['{ a }', '{ b }']);
  });
});
