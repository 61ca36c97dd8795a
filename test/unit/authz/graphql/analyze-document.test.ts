import { analyzeDocument, InvalidDocumentError, TokenLimitError } from '../../../../src/authz/graphql';

const fieldsOf = (query: string) =>
  analyzeDocument(query, 100000).operations.map((op) => `${op.type}:${op.rootFields.join(',')}`);

describe('analyzeDocument: root fields', () => {
  it.each([
    ['anonymous query', '{ flow_run { id } }', ['query:flow_run']],
    ['several root fields', 'mutation { create_flow_run(input: {}) { id } delete_tenant(input: {}) { success } }', ['mutation:create_flow_run,delete_tenant']],
    ['aliases use the real field name', 'mutation { create_flow_run: delete_project(input: {}) { success } }', ['mutation:delete_project']],
    ['17 aliased aggregates count once', `query FlowRuns { ${Array.from({ length: 17 }, (_, i) => `a${i}: flow_run_aggregate { aggregate { count } }`).join(' ')} }`, ['query:flow_run_aggregate']],
    ['fragment spread named like an allowed field', 'mutation { ...create_flow_run } fragment create_flow_run on Mutation { delete_project(input: {}) { success } }', ['mutation:delete_project']],
    ['inline fragment at the root', 'mutation { ... on Mutation { delete_tenant(input: {}) { success } } }', ['mutation:delete_tenant']],
    ['nested fragments at the root', 'mutation { ...A } fragment A on Mutation { ...B ... on Mutation { x } } fragment B on Mutation { delete_flow(input: {}) { success } }', ['mutation:delete_flow,x']],
    ['fields inside sub-selections are not root fields', '{ flow { delete_project { id } } }', ['query:flow']],
    ['several operations are all listed', 'query A { flow { id } } mutation B { delete_tenant(input: {}) { success } }', ['query:flow', 'mutation:delete_tenant']],
    ['subscriptions', 'subscription { flow_run { id } }', ['subscription:flow_run']],
    ['introspection', '{ __schema { types { name } } __typename }', ['query:__schema,__typename']],
    ['directives do not hide fields', 'mutation { delete_tenant(input: {}) @skip(if: true) { success } }', ['mutation:delete_tenant']],
    ['a fragment shared by two spreads', 'mutation { ...A ...A } fragment A on Mutation { delete_flow(input: {}) { success } }', ['mutation:delete_flow']],
  ])('%s', (_name, query, expected) => {
    expect(fieldsOf(query)).toEqual(expected);
  });
});

describe('analyzeDocument: refused documents', () => {
  it.each([
    ['syntax error', '{ flow { id }'],
    ['empty document', ' '],
    ['unknown fragment', 'mutation { ...Missing }'],
    ['fragment cycle', 'mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { ...A }'],
    ['self-spreading fragment', 'mutation { ...A } fragment A on Mutation { x ...A }'],
    ['duplicate fragment names', 'mutation { ...A } fragment A on Mutation { create_flow_run { id } } fragment A on Mutation { delete_tenant { success } }'],
    ['type definitions', 'type Query { x: Int } { x }'],
    ['only fragments', 'fragment A on Query { x }'],
    ['deeply nested selections', `{ ${'a { '.repeat(20000)}b${' }'.repeat(20000)} }`],
    ['too many tokens', `{ ${'a '.repeat(200000)} }`],
  ])('%s', (_name, query) => {
    expect(() => analyzeDocument(query, 100000)).toThrow(InvalidDocumentError);
  });

  it('handles exponential fragment fan-out in linear time', () => {
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Mutation { delete_tenant { success } }` : `fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const started = Date.now();
    expect(fieldsOf(`mutation { ...F0 } ${fragments}`)).toEqual(['mutation:delete_tenant']);
    // 2^40 visits would never finish; a generous bound keeps this from being a timing test.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('handles thousands of aliases', () => {
    const query = `{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: flow { id }`).join(' ')} }`;
    expect(fieldsOf(query)).toEqual(['query:flow']);
  });
});

describe('analyzeDocument: what a document costs', () => {
  it.each([
    // [name, query, tokens and comments read]
    ['a small query', '{ flow { id } }', 6],
    ['comments count', '# one\n{ flow { id } } # two', 8],
    ['aliases and arguments', 'query Q { a: flow(limit: 1) { id } }', 15],
  ])('%s', (_name, query, tokens) => {
    expect(analyzeDocument(query, 100).tokens).toBe(tokens);
  });

  it.each([
    ['tokens', `{ ${'a '.repeat(200)} }`],
    ['comments', `{ a }${'#\n'.repeat(200)}`],
    ['tokens and comments together', `{ ${'a #\n'.repeat(60)} }`],
  ])('stops past the limit on %s with a TokenLimitError', (_name, query) => {
    expect(() => analyzeDocument(query, 100)).toThrow(TokenLimitError);
  });

  it('tells what a malformed document cost before its fault was found', () => {
    let error: unknown;
    try {
      analyzeDocument(`{ ${'a '.repeat(50)}`, 100);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidDocumentError);
    expect(error).not.toBeInstanceOf(TokenLimitError);
    expect((error as InvalidDocumentError).tokens).toBe(51);
  });
});
