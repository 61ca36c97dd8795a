import { compileScopes, invalidScopes, isAllowed, scopesCover, splitScopes } from '../../../src/authz';

const allowed = (scopes: string, permission: string): boolean =>
  isAllowed(compileScopes(splitScopes(scopes)), permission.split('/'));

describe('isAllowed', () => {
  it.each([
    // [scopes, permission, expected]
    ['query/*', 'query/flow_run', true],
    ['query/*', 'mutation/create_flow_run', false],
    ['mutation/create_flow_run', 'mutation/create_flow_run', true],
    ['mutation/create_flow_run', 'mutation/create_flow_run_x', false],
    ['mutation/create_flow_run', 'mutation/delete_project', false],
    ['mutation/*', 'mutation/delete_tenant', true],
    ['*', 'mutation/delete_tenant', true],
    ['*', 'query/__schema', true],
    ['query/*, mutation/create_flow_run', 'mutation/create_flow_run', true],
    ['query/*\nmutation/cancel_flow_run  mutation/set_flow_run_states', 'mutation/set_flow_run_states', true],
    ['mutation/set_*', 'mutation/set_flow_run_states', true],
    ['mutation/set_*', 'mutation/create_flow_run', false],
    ['*/create_flow_run', 'mutation/create_flow_run', true],
    ['*/create_flow_run', 'query/flow_run', false],
    // A shorter pattern covers longer permissions (REST style).
    ['write/deployments', 'write/deployments/update', true],
    ['write/deployments', 'write/flows/update', false],
    ['read/*', 'read/deployments', true],
    ['read/*', 'write/deployments/create', false],
    ['admin/*', 'admin/cache', true],
    ['admin/logs', 'admin/cache', false],
    // A longer pattern never covers a shorter permission.
    ['write/deployments/update', 'write/deployments', false],
    // Introspection must be named: wildcards do not match `__` names.
    ['query/*', 'query/__schema', false],
    ['query', 'query/__type', false],
    ['query/__schema', 'query/__schema', true],
    // ... not even by a wildcard that itself starts with `__` (issue 11, item 13).
    ['query/__*', 'query/__type', false],
    ['query/__*', 'query/__schema', false],
    ['*/__*', 'query/__schema', false],
    ['query/_*', 'query/__schema', false],
    ['query/__sch*', 'query/__schema', false],
    ['*/__schema', 'query/__schema', true],
    ['query/__type', 'query/__type', true],
    // A deny errs on the wide side: its wildcards reach `__` names.
    ['*, !query', 'query/__schema', false],
    ['*, !query/*', 'query/__type', false],
    ['*, !*/__*', 'query/__schema', false],
    ['*, !*', 'query/__schema', false],
    ['query/__schema, !query', 'query/__schema', false],
    ['*, !query/flow', 'query/__schema', true],
    // Regex metacharacters in scopes are literal.
    ['query/flow.run', 'query/flowXrun', false],
    // Case matters: GraphQL field names are case-sensitive.
    ['mutation/Create_flow_run', 'mutation/create_flow_run', false],
    ['', 'query/flow', false],
    ['  ,, ', 'query/flow', false],
    // Malformed scopes are ignored, never widened.
    ['query/(.*)', 'query/flow', false],
    ['mutation//create', 'mutation/create', false],
  ])('%j grants %s: %s', (scopes, permission, expected) => {
    expect(allowed(scopes, permission)).toBe(expected);
  });
});

describe('splitScopes and invalidScopes', () => {
  it.each([
    ['mutation/*, query/*', ['mutation/*', 'query/*']],
    ['a,b c\td\n', ['a', 'b', 'c', 'd']],
    ['', []],
  ])('splits %j', (text, expected) => {
    expect(splitScopes(text)).toEqual(expected);
  });

  it('reports malformed scopes', () => {
    expect(invalidScopes(['query/*', '*', 'mutation//x', 'q/(a)', '/x', 'role:viewer'])).toEqual(['mutation//x', 'q/(a)', '/x']);
  });
});

describe('rate limit entries among scopes', () => {
  it.each([
    ['rate:10', true], ['rate:10/20', true], ['rate:off', true], ['rate:0', false], ['rate:fast', false], ['rate:1/2/3', false],
  ])('%s is well-formed: %s', (scope, ok) => {
    expect(invalidScopes([scope])).toEqual(ok ? [] : [scope]);
  });

  it.each([['rate:10/20'], ['rate:off']])('%s grants nothing', (scope) => {
    const compiled = compileScopes([scope]);
    expect(isAllowed(compiled, ['rate:10', '20'])).toBe(false);
    expect(isAllowed(compiled, ['read', 'flows'])).toBe(false);
  });

  it('is not a pattern to cover when granting', () => {
    expect(scopesCover(['read/*'], ['read/flows', 'rate:1000'])).toEqual({ ok: true });
  });
});

describe('scopesCover and `__` names', () => {
  it.each([
    // [held, requested, ok]
    [['query/__*'], ['query/__schema'], false],
    [['*/__*'], ['query/__type'], false],
    [['query/*'], ['query/__schema'], false],
    [['query'], ['query/__schema'], false],
    [['query/_*'], ['query/__schema'], false],
    [['query/*'], ['query/__*'], false],
    [['query/__schema'], ['query/__schema'], true],
    [['*/__schema'], ['query/__schema'], true],
    [['*'], ['query/__schema', 'query/__type'], true],
    [['*', '!query'], ['query/__schema'], false],
    [['*', '!query'], ['query/__schema', '!query'], true],
  ])('%j may grant %j: %s', (held, requested, ok) => {
    expect(scopesCover(held, requested).ok).toBe(ok);
  });

  it.each([
    // Whatever a covered key may do, the holder may do too: checked on the introspection fields.
    [['query/__*', 'query/*'], ['query/__*']],
    [['*/__schema'], ['query/__schema']],
    [['query/*'], ['query/*', 'query/flow']],
  ])('%j granting %j never widens access to __schema or __type', (held, requested) => {
    const holder = compileScopes(held);
    const granted = compileScopes(requested);
    for (const permission of [['query', '__schema'], ['query', '__type'], ['mutation', '__schema']]) {
      if (isAllowed(granted, permission)) expect(isAllowed(holder, permission)).toBe(true);
    }
    expect(scopesCover(held, requested).ok).toBe(true);
  });
});
