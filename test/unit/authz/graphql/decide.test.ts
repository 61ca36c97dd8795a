import { compileScopes, splitScopes } from '../../../../src/authz';
import { analyzeDocument, decideDocument, isCloudAuthDocument } from '../../../../src/authz/graphql';

const decide = (scopes: string, query: string) => {
  const decision = decideDocument(analyzeDocument(query, 100000), compileScopes(splitScopes(scopes)));
  return { allowed: decision.allowed, missing: decision.operations.flatMap((o) => o.missing) };
};

describe('decideDocument', () => {
  it.each([
    ['read-only reads', 'query/*', '{ flow_run { id } project { id } }', true, []],
    ['read-only cannot mutate', 'query/*', 'mutation { create_flow_run(input: {}) { id } }', false, ['mutation/create_flow_run']],
    ['one allowed field does not carry another', 'mutation/create_flow_run', 'mutation { create_flow_run(input: {}) { id } delete_tenant(input: {}) { success } }', false, ['mutation/delete_tenant']],
    ['operationName does not narrow the check', 'query/*', 'query A { flow { id } } mutation B { delete_tenant(input: {}) { success } }', false, ['mutation/delete_tenant']],
    ['fragment named like the allowed field', 'mutation/create_flow_run', 'mutation { ...create_flow_run } fragment create_flow_run on Mutation { delete_project(input: {}) { success } }', false, ['mutation/delete_project']],
    ['alias named like the allowed field', 'mutation/create_flow_run', 'mutation { create_flow_run: delete_project(input: {}) { success } }', false, ['mutation/delete_project']],
    ['inline fragment at the root', 'mutation/create_flow_run', 'mutation { ... on Mutation { delete_tenant(input: {}) { success } } }', false, ['mutation/delete_tenant']],
    ['__typename needs no scope', 'mutation/create_flow_run', 'mutation { create_flow_run(input: {}) { id } __typename }', true, []],
    ['introspection needs its own scope', 'query/*', '{ __schema { types { name } } }', false, ['query/__schema']],
    ['introspection named', 'query/* query/__schema', '{ __schema { types { name } } }', true, []],
    ['subscriptions need subscription scopes', 'query/* mutation/*', 'subscription { flow_run { id } }', false, ['subscription/flow_run']],
    ['Hasura CRUD mutation is denied to operators', 'query/* mutation/create_flow_run mutation/cancel_flow_run mutation/set_flow_run_states', 'mutation { update_flow_run(where: {}, _set: {}) { affected_rows } }', false, ['mutation/update_flow_run']],
    ['no scopes at all', '', '{ flow { id } }', false, ['query/flow']],
  ])('%s', (_name, scopes, query, allowed, missing) => {
    expect(decide(scopes, query)).toEqual({ allowed, missing });
  });
});

describe('isCloudAuthDocument', () => {
  it.each([
    ['query { auth_info { tenant_id } }', true],
    ['query { tenant(where: { id: { _eq: "x" } }) { name slug id } }', true],
    ['{ tenant { id slug } __typename }', true],
    ['{ auth_info { tenant_id } flow { id } }', false],
    ['{ __typename }', false],
    ['mutation { tenant { id } }', false],
    ['{ auth_info { user_id } } mutation M { delete_tenant { success } }', false],
    ['{ a: tenant { id } ... on Query { auth_info { user_id } } }', true],
  ])('%s → %s', (query, expected) => {
    expect(isCloudAuthDocument(analyzeDocument(query, 100000))).toBe(expected);
  });
});
