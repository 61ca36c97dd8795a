import { buildRoleTable, compileScopes, expandRoles, isAllowed, RoleError, scopesCover } from '../../../src/authz';

const roles = buildRoleTable();
const can = (scopes: string[], permission: string) =>
  isAllowed(compileScopes(expandRoles(scopes, roles).scopes), permission.split('/'));

describe('built-in roles', () => {
  it.each([
    // [role, permission, allowed]
    ['viewer', 'query/flow_run', true],
    ['viewer', 'read/deployments', true],
    ['viewer', 'mutation/create_flow_run', false],
    ['viewer', 'write/deployments/create_flow_run', false],
    ['viewer', 'secret/block_documents', false],
    ['viewer', 'read/admin', false],
    ['viewer', 'query/__schema', false],
    ['runner', 'query/flow', true],
    ['runner', 'mutation/create_flow_run', true],
    ['runner', 'mutation/cancel_flow_run', true],
    ['runner', 'write/deployments/create_flow_run', true],
    ['runner', 'write/flow_runs/set_state/cancelling', true],
    ['runner', 'write/flow_runs/set_state/cancelled', true],
    ['runner', 'write/flow_runs/set_state/scheduled', true],
    ['runner', 'write/flow_runs/set_state/completed', false],
    ['runner', 'write/flow_runs/set_state/failed', false],
    ['runner', 'write/flow_runs/set_state/unknown', false],
    ['runner', 'write/flow_runs/job_variables', false],
    ['runner', 'write/flow_runs/update', false],
    ['runner', 'mutation/delete_project', false],
    ['runner', 'write/deployments/delete', false],
    ['developer', 'mutation/delete_project', true],
    ['developer', 'write/deployments/delete', true],
    ['developer', 'secret/block_documents', true],
    ['developer', 'write/flow_runs/job_variables', true],
    ['developer', 'write/flow_runs/set_state/completed', true],
    ['developer', 'query/__schema', true],
    ['developer', 'admin/keys', false],
    ['developer', 'admin/cache', false],
    ['developer', 'read/admin', false],
    ['developer', 'write/admin/storage', false],
    ['worker', 'mutation/get_runs_in_queue', true],
    ['worker', 'mutation/set_task_run_states', true],
    ['worker', 'mutation/write_run_logs', true],
    ['worker', 'write/work_pools/get_scheduled_flow_runs', true],
    ['worker', 'write/flow_runs/set_state', true],
    ['worker', 'write/flow_runs/set_state/completed', true],
    ['worker', 'write/flow_runs/job_variables', false],
    ['worker', 'secret/block_documents', true],
    ['worker', 'mutation/delete_project', false],
    ['worker', 'mutation/create_flow_run', false],
    ['worker', 'write/deployments/create_flow_run', false],
    ['worker', 'write/deployments/delete', false],
    ['worker', 'admin/keys', false],
    ['owner', 'admin/keys', true],
    ['owner', 'query/__type', true],
  ])('%s: %s → %s', (role, permission, expected) => {
    expect(can([`role:${role}`], permission)).toBe(expected);
  });

  it('mixes roles and scopes, and ignores unknown roles', () => {
    expect(can(['role:viewer', 'mutation/create_project'], 'mutation/create_project')).toBe(true);
    const { scopes, unknownRoles } = expandRoles(['role:nope', 'query/flow'], roles);
    expect(scopes).toEqual(['query/flow']);
    expect(unknownRoles).toEqual(['role:nope']);
  });
});

describe('ROLES_FILE overrides', () => {
  it('adds roles, overrides built-ins and lets roles include roles', () => {
    const table = buildRoleTable({ viewer: ['query/flow'], auditor: 'role:viewer admin/audit' });
    expect(table.get('viewer')).toEqual(['query/flow']);
    expect(table.get('auditor')).toEqual(['query/flow', 'admin/audit']);
    expect(table.get('runner')).toContain('query/flow');
  });

  it.each([
    [{ a: 'role:b', b: 'role:a' }, /cycle/],
    [{ a: 'role:missing' }, /unknown role "missing"/],
    [{ a: ['query/(x)'] }, /malformed/],
    [{ a: 42 }, /list of scopes/],
    [{ 'Bad Name': 'query/*' }, /role name/],
  ])('refuses %j', (overrides, message) => {
    expect(() => buildRoleTable(overrides)).toThrow(RoleError);
    expect(() => buildRoleTable(overrides)).toThrow(message);
  });
});

describe('deny scopes', () => {
  it.each([
    [['*', '!admin'], 'admin/keys', false],
    [['*', '!admin'], 'mutation/x', true],
    [['query/*', '!query/secret_value'], 'query/secret_value', false],
    [['query/*', '!query/secret_*'], 'query/secret_names', false],
    [['query/*', '!query/secret_*'], 'query/flow', true],
    [['!*'], 'query/flow', false],
  ])('%j on %s → %s', (scopes, permission, expected) => {
    expect(isAllowed(compileScopes(scopes), permission.split('/'))).toBe(expected);
  });
});

describe('scopesCover: a key never grants more than it holds', () => {
  it.each([
    [['*'], ['*'], true],
    [['*'], ['query/*', 'admin/keys'], true],
    [['query/*'], ['query/flow'], true],
    [['query/*'], ['query/*'], true],
    [['query/*'], ['query'], false],
    [['query/*'], ['*'], false],
    [['query/*'], ['mutation/x'], false],
    [['query/*'], ['query/__schema'], false],
    [['query'], ['query/__schema'], false],
    [['query'], ['query/flow/x'], true],
    [['mutation/set_*'], ['mutation/set_flow_run_states'], true],
    [['mutation/set_*'], ['mutation/set_flow*'], true],
    [['mutation/set_*'], ['mutation/s*'], false],
    [['mutation/*_run'], ['mutation/create_*'], false],
    [['write/deployments'], ['write/deployments/update'], true],
    [['write/deployments/update'], ['write/deployments'], false],
    [['*', '!admin'], ['query/*'], false],
    [['*', '!admin'], ['query/*', '!admin'], true],
    [['*', '!admin'], ['*', '!admin', '!read/admin'], true],
  ])('%j may grant %j: %s', (held, requested, expected) => {
    expect(scopesCover(held, requested).ok).toBe(expected);
  });
});

describe('roles narrowed to objects', () => {
  const table = buildRoleTable({
    'team-a-runner': ['role:runner@deployment:team-a/*'],
    'team-a-worker': ['role:worker@pool:pool-a', 'secret/block_documents@block:team-a-*'],
    'team-a-nightly': 'role:team-a-runner@deployment:team-a/nightly',
  });

  it.each([
    // [scopes, includes, excludes]
    [['role:team-a-runner'], ['read/*', 'write/deployments/create_flow_run@deployment:team-a/*'], ['write/deployments/create_flow_run', 'mutation/create_flow_run']],
    [['role:runner@deployment:team-a/*'], ['write/flow_runs/set_state/cancelling@deployment:team-a/*'], ['write/flow_runs/set_state/cancelling']],
    [['role:team-a-worker'], ['write/work_pools/get_scheduled_flow_runs@pool:pool-a', 'write/logs', 'secret/block_documents@block:team-a-*'], ['secret/block_documents', 'write/variables/create']],
    // A narrowed role narrowed again: the selectors are ANDed.
    [['role:team-a-nightly'], ['write/deployments/create_flow_run@deployment:team-a/*+deployment:team-a/nightly'], ['write/deployments/create_flow_run@deployment:team-a/*']],
  ])('%j expands to narrowed scopes', (scopes, included, excluded) => {
    const expanded = expandRoles(scopes, table).scopes;
    expect(expanded).toEqual(expect.arrayContaining(included));
    for (const scope of excluded) expect(expanded).not.toContain(scope);
  });

  it.each([
    ['role:runner@team-a/*'],
    ['role:runner@'],
    ['role:runner@name:x'],
    ['role:nope@tag:a'],
  ])('%s is refused as a role and grants nothing, never the whole role', (scope) => {
    const { scopes, unknownRoles } = expandRoles([scope], table);
    expect(scopes).toEqual([]);
    expect(unknownRoles).toEqual([scope]);
  });

  it.each([
    [{ bad: ['role:runner@team-a'] }, /role "bad" has malformed scopes: role:runner@team-a \(.*key:pattern/],
    [{ bad: ['write/deployments@name:x'] }, /unknown selector key "name"/],
    [{ bad: ['read/deployments@tag:a'] }, /reads are not narrowed/],
    [{ bad: ['query/(x)'] }, /malformed scopes: query\/\(x\)$/],
    [{ bad: ['role:nope@tag:a'] }, /refers to unknown role "nope"/],
  ])('a roles file with %j is refused', (overrides, message) => {
    expect(() => buildRoleTable(overrides)).toThrow(message);
  });
});
