import { buildRoleTable, expandRoles } from '../../../../src/authz';
import { compileObjectScopes, invalidObjectScopes, isAllowedOn, narrowScopes, parseSelector } from '../../../../src/authz/objects';
import { A_NIGHTLY, B_NIGHTLY, block, pool, run } from './fixtures';

const selector = (text: string) => {
  const r = parseSelector(text);
  if (!r.ok) throw new Error(r.reason);
  return r.selector;
};
const roles = buildRoleTable();
const role = (name: string) => expandRoles([`role:${name}`], roles).scopes;

describe('narrowScopes: a role narrowed as a whole', () => {
  it.each([
    // [scopes, selector, narrowed]
    [['read/*', 'query/*'], 'tag:a', ['read/*', 'query/*']],
    [['!read/admin', 'rate:10/20'], 'tag:a', ['!read/admin', 'rate:10/20']],
    [['write/deployments/create_flow_run'], 'deployment:team-a/*', ['write/deployments/create_flow_run@deployment:team-a/*']],
    // ANDed with a selector the scope already carries.
    [['write/deployments@tag:team-a'], 'pool:pool-a', ['write/deployments@tag:team-a+pool:pool-a']],
    // Writes on things without a name stay; there is nothing to narrow them to.
    [['write/logs', 'write/task_runs', 'write/events'], 'pool:pool-a', ['write/logs', 'write/task_runs', 'write/events']],
    // A selector that cannot apply drops the scope: it could grant nothing.
    [['write/variables/create', 'secret/block_documents'], 'pool:pool-a', []],
    // Prefect 1 mutations and admin scopes are dropped, never kept wide.
    [['mutation/create_flow_run', 'admin/keys'], 'deployment:team-a/*', []],
    // `*` keeps only writes and secrets on matching objects.
    [['*', '!admin'], 'tag:team-a', ['*@tag:team-a', '!admin']],
    // Malformed scopes are dropped.
    [['write/deployments@', 'query/(.*)'], 'tag:a', []],
  ])('%j narrowed by %s → %j', (scopes, sel, expected) => {
    expect(narrowScopes(scopes, selector(sel))).toEqual(expected);
  });

  it('every scope it produces is well-formed', () => {
    for (const name of ['viewer', 'runner', 'developer', 'worker', 'owner']) {
      for (const sel of ['deployment:team-a/*', 'tag:team-a', 'pool:pool-a', 'block:team-a-*', 'variable:team_a_*', 'tag:team-a+pool:pool-a']) {
        expect(invalidObjectScopes(narrowScopes(role(name), selector(sel)))).toEqual([]);
      }
    }
  });

  const runnerA = compileObjectScopes(narrowScopes(role('runner'), selector('deployment:team-a/*')));
  const workerA = compileObjectScopes(narrowScopes(role('worker'), selector('pool:pool-a')));
  it.each([
    // role:runner@deployment:team-a/*
    [runnerA, 'read/deployments', undefined, true],
    [runnerA, 'write/deployments/create_flow_run', [A_NIGHTLY], true],
    [runnerA, 'write/deployments/create_flow_run', [B_NIGHTLY], false],
    [runnerA, 'write/flow_runs/set_state/cancelling', [run('r', A_NIGHTLY)], true],
    [runnerA, 'write/flow_runs/set_state/scheduled', [run('r', B_NIGHTLY)], false],
    [runnerA, 'mutation/create_flow_run', undefined, false],
    [runnerA, 'query/flow', undefined, true],
    // role:worker@pool:pool-a
    [workerA, 'write/work_pools/get_scheduled_flow_runs', [pool('pool-a')], true],
    [workerA, 'write/work_pools/get_scheduled_flow_runs', [pool('pool-b')], false],
    [workerA, 'write/work_pools/heartbeat', [pool('pool-a')], true],
    [workerA, 'write/flow_runs/set_state/running', [run('r', A_NIGHTLY)], true],
    [workerA, 'write/flow_runs/set_state/running', [run('r', B_NIGHTLY)], false],
    [workerA, 'write/logs', undefined, true],
    [workerA, 'write/task_runs/create', undefined, true],
    [workerA, 'read/admin', undefined, false],
    // Secrets need their own grant once the worker is narrowed to a pool.
    [workerA, 'secret/block_documents', [block('team-a-aws')], false],
  ] as const)('narrowed role %#: %s on %j → %s', (compiled, permission, objects, expected) => {
    expect(isAllowedOn(compiled, permission.split('/'), objects)).toBe(expected);
  });
});
