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
    ['query/__*', 'query/__type', true],
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
