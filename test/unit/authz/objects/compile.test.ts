import { compileScopes, isAllowed, splitScopes } from '../../../../src/authz';
import { familiesOfPattern, isAllowedOn } from '../../../../src/authz/objects';
import { A_NIGHTLY } from './fixtures';

const perm = (text: string) => text.split('/');

describe('compiled scopes read without objects (isAllowed) mean what they mean untied', () => {
  it.each([
    // [scopes, permission]
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update'],
    ['write/deployments, !write/deployments@tag:prod', 'write/logs'],
    ['*, !write@tag:prod', 'write/logs'],
    ['*, !write@tag:prod', 'write/flow_runs/set_state/completed'],
    ['*, !write@tag:prod', 'read/deployments'],
    ['*, !*@tag:prod', 'secret/block_documents'],
    ['*, !*@tag:prod', 'mutation/create_flow_run'],
    ['*, !*@tag:prod', 'admin/keys'],
    ['write/deployments/create_flow_run@deployment:team-a/*', 'write/deployments/create_flow_run'],
    ['*@tag:team-a', 'write/deployments/update'],
    ['*@tag:team-a', 'read/deployments'],
    ['write/*, !write/*/delete@tag:prod', 'write/deployments/delete'],
    ['write/*, !write/*/delete@tag:prod', 'write/deployments/update'],
    ['write/*, !write/*/delete@tag:prod', 'write/logs/delete'],
    ['read/*, write/deployments', 'write/deployments/update'],
  ])('%s, %s: isAllowed is isAllowedOn without objects', (scopes, permission) => {
    const compiled = compileScopes(splitScopes(scopes));
    expect(isAllowed(compiled, perm(permission))).toBe(isAllowedOn(compiled, perm(permission)));
  });

  it('a narrowed deny does not deny the objects it does not match, once they are known', () => {
    const compiled = compileScopes(['write/deployments', '!write/deployments@tag:prod']);
    expect(isAllowed(compiled, perm('write/deployments/update'))).toBe(false);
    expect(isAllowedOn(compiled, perm('write/deployments/update'), [A_NIGHTLY])).toBe(true);
  });

  it.each([
    ['*', ['write/deployments', 'write/flow_runs', 'write/work_pools', 'write/work_queues', 'write/block_documents', 'write/variables', 'secret/block_documents', 'secret/variables']],
    ['write', ['write/deployments', 'write/flow_runs', 'write/work_pools', 'write/work_queues', 'write/block_documents', 'write/variables']],
    ['secret/*', ['secret/block_documents', 'secret/variables']],
    ['write/*/delete', ['write/deployments/delete', 'write/flow_runs/delete', 'write/work_pools/delete', 'write/work_queues/delete', 'write/block_documents/delete', 'write/variables/delete']],
    ['write/deployments/create_flow_run', ['write/deployments/create_flow_run']],
    ['*/variables', ['write/variables', 'secret/variables']],
    ['write/logs', []],
    ['read', []],
  ])('familiesOfPattern(%s)', (pattern, expected) => {
    expect(familiesOfPattern(pattern)).toEqual(expected);
  });
});
