import { splitScopes } from '../../../../src/authz';
import type { ObjectFacts } from '../../../../src/authz/objects';
import { compileObjectScopes, decideOnObjects, isAllowedOn, needsObjects } from '../../../../src/authz/objects';
import { A_NIGHTLY, A_SERVED, A_UNTAGGED, B_NIGHTLY, block, deployment, pool, run, variable } from './fixtures';

const scopes = (text: string) => compileObjectScopes(splitScopes(text));
const perm = (text: string) => text.split('/');

const RUNNER_A = 'read/*, write/deployments/create_flow_run@deployment:team-a/*, write/flow_runs/set_state/cancelling@deployment:team-a/*';
const EDITOR_A = 'write/deployments@tag:team-a+pool:pool-a';

describe('isAllowedOn', () => {
  it.each<[string, string, readonly ObjectFacts[] | undefined, boolean]>([
    // A team-a runner runs team-a deployments, not team-b's.
    [RUNNER_A, 'write/deployments/create_flow_run', [A_NIGHTLY], true],
    [RUNNER_A, 'write/deployments/create_flow_run', [B_NIGHTLY], false],
    [RUNNER_A, 'write/deployments/update', [A_NIGHTLY], false],
    // Flow-run actions follow the run's deployment.
    [RUNNER_A, 'write/flow_runs/set_state/cancelling', [run('r', A_NIGHTLY)], true],
    [RUNNER_A, 'write/flow_runs/set_state/cancelling', [run('r', B_NIGHTLY)], false],
    [RUNNER_A, 'write/flow_runs/set_state/cancelling', [run('r', null)], false],
    [RUNNER_A, 'write/flow_runs/set_state/completed', [run('r', A_NIGHTLY)], false],
    // Reads stay as they are: the narrowed key reads everything.
    [RUNNER_A, 'read/deployments', undefined, true],
    [RUNNER_A, 'read/deployments', [B_NIGHTLY], true],
    // Not tied to objects (bulk, filter): narrowed grants do not count.
    [RUNNER_A, 'write/deployments/create_flow_run', undefined, false],
    [RUNNER_A, 'write/deployments/create_flow_run', [], false],
    // Several objects: each must be covered (before and after of an update).
    [EDITOR_A, 'write/deployments/update', [A_NIGHTLY, A_NIGHTLY], true],
    [EDITOR_A, 'write/deployments/update', [A_NIGHTLY, deployment('team-a/nightly', ['team-a'], 'pool-b', { after: true })], false],
    [EDITOR_A, 'write/deployments/update', [A_NIGHTLY, deployment('team-a/nightly', ['team-b'], 'pool-a', { after: true })], false],
    [EDITOR_A, 'write/deployments/update', [A_UNTAGGED], false],
    [EDITOR_A, 'write/deployments/update', [A_SERVED], false],
    [EDITOR_A, 'write/deployments/update', [{ kind: 'deployment', name: 'team-a/x', tags: ['team-a'], after: true }], false],
    // Objects may be covered by different grants.
    ['write/deployments/update@pool:pool-a, write/deployments/update@pool:pool-b', 'write/deployments/update', [A_NIGHTLY, B_NIGHTLY], true],
    // A grant without a selector still covers every object, and requests not tied to objects.
    ['write/deployments', 'write/deployments/update', [B_NIGHTLY], true],
    ['write/deployments', 'write/deployments/delete', undefined, true],
    ['*', 'write/deployments/delete', [B_NIGHTLY], true],
    // A deny without a selector wins over every grant.
    ['write/deployments@tag:team-a, !write/deployments/delete', 'write/deployments/delete', [A_NIGHTLY], false],
    // A narrowed deny refuses matching objects, and unknown ones, and requests not tied to objects.
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update', [A_NIGHTLY], true],
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update', [deployment('x/y', ['prod'], 'p')], false],
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update', [A_NIGHTLY, deployment('x/y', ['prod'], 'p', { after: true })], false],
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update', [{ kind: 'deployment', name: 'x/y', workPool: 'p' }], false],
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/delete', undefined, false],
    ['*, !write@pool:prod', 'write/flow_runs/set_state/completed', [run('r', A_NIGHTLY, 'prod')], false],
    // ... but only ever concerns permissions on named objects.
    ['*, !write@tag:prod', 'write/logs', undefined, true],
    ['*, !write@tag:prod', 'read/deployments', undefined, true],
    // Narrowed grants grant nothing that is not on a named object.
    ['write@tag:team-a', 'write/logs', undefined, false],
    ['write@tag:team-a', 'write/automations/create', [A_NIGHTLY], false],
    ['*@tag:team-a', 'read/deployments', undefined, false],
    ['*@tag:team-a', 'write/deployments/update', [A_NIGHTLY], true],
    ['*@tag:team-a', 'write/deployments/update', [B_NIGHTLY], false],
    // Workers: one pool only.
    ['write/work_pools@pool:pool-a', 'write/work_pools/get_scheduled_flow_runs', [pool('pool-a')], true],
    ['write/work_pools@pool:pool-a', 'write/work_pools/get_scheduled_flow_runs', [pool('pool-b')], false],
    ['write/work_pools@pool:pool-a', 'write/work_pools/heartbeat', [pool('pool-a')], true],
    ['write/work_pools@pool:pool-a', 'write/work_pools/connect', [pool('pool-b')], false],
    // Secrets and variables by name.
    ['secret/block_documents@block:team-a-*', 'secret/block_documents', [block('team-a-aws')], true],
    ['secret/block_documents@block:team-a-*', 'secret/block_documents', [block('team-b-aws')], false],
    ['write/variables@variable:team_a_*', 'write/variables/update', [variable('team_a_x'), variable('team_a_y')], true],
    ['write/variables@variable:team_a_*', 'write/variables/update', [variable('team_a_x'), variable('team_b_x')], false],
    // Malformed narrowed scopes grant nothing, and are never read as their unnarrowed selves.
    ['write/deployments@', 'write/deployments/update', [A_NIGHTLY], false],
    ['write/deployments@name:team-a/*', 'write/deployments/update', [A_NIGHTLY], false],
    ['read/deployments@tag:team-a', 'read/deployments', undefined, false],
  ])('%s: %s on %j → %s', (text, permission, objects, expected) => {
    expect(isAllowedOn(scopes(text), perm(permission), objects)).toBe(expected);
  });
});

describe('needsObjects: false only when the objects cannot change the answer', () => {
  const keys = [
    RUNNER_A, EDITOR_A, 'write/deployments', '*', 'read/*', 'write/deployments, !write/deployments@tag:prod',
    'write/deployments@tag:team-a, !write/deployments/delete', '*, !write@tag:prod', 'write@tag:team-a', '',
  ];
  const permissions = ['write/deployments/update', 'write/deployments/delete', 'write/deployments/create_flow_run', 'write/logs', 'read/deployments', 'write/flow_runs/set_state/cancelling'];
  const objectSets: (readonly ObjectFacts[] | undefined)[] = [undefined, [A_NIGHTLY], [B_NIGHTLY], [deployment('x/y', ['prod'], 'p')], [run('r', A_NIGHTLY)], [run('r', B_NIGHTLY)]];

  it.each(keys.flatMap((key) => permissions.map((p) => [key, p] as const)))('%j, %s', (key, permission) => {
    const compiled = scopes(key);
    if (needsObjects(compiled, [perm(permission)])) return;
    const answers = new Set(objectSets.map((objects) => isAllowedOn(compiled, perm(permission), objects)));
    expect(answers.size).toBe(1);
  });

  it.each([
    [RUNNER_A, 'write/deployments/create_flow_run', true],
    ['write/deployments', 'write/deployments/update', false],
    ['*', 'write/deployments/update', false],
    ['write/deployments, !write/deployments@tag:prod', 'write/deployments/update', true],
    ['write/deployments@tag:a, !write/deployments', 'write/deployments/update', false],
    [RUNNER_A, 'read/deployments', false],
    [RUNNER_A, 'write/work_pools/heartbeat', false],
  ])('%j needs objects for %s: %s', (key, permission, expected) => {
    expect(needsObjects(scopes(key), [perm(permission)])).toBe(expected);
  });
});

describe('decideOnObjects: the refusal names the missing grant and the object', () => {
  it.each<[string, string[], readonly ObjectFacts[] | undefined, string[]]>([
    [RUNNER_A, ['write/deployments/create_flow_run'], [B_NIGHTLY], ['write/deployments/create_flow_run on deployment team-b/nightly']],
    [RUNNER_A, ['write/flow_runs/set_state/cancelling'], [run('crimson-fox', B_NIGHTLY)], ['write/flow_runs/set_state/cancelling on flow run crimson-fox of deployment team-b/nightly']],
    [RUNNER_A, ['write/flow_runs/set_state/cancelling'], [run('adhoc-run', null)], ['write/flow_runs/set_state/cancelling on flow run adhoc-run (no deployment)']],
    [EDITOR_A, ['write/deployments/update'], [A_NIGHTLY, deployment('team-a/nightly', ['team-a'], 'pool-b', { after: true })],
      ['write/deployments/update on deployment team-a/nightly after this change (work pool pool-b; tags team-a)']],
    [EDITOR_A, ['write/deployments/update'], [A_NIGHTLY, { kind: 'deployment', name: 'team-a/nightly', tags: ['team-a'], after: true }],
      ['write/deployments/update on deployment team-a/nightly after this change (work pool unknown; tags team-a)']],
    [EDITOR_A, ['write/deployments/update'], [{ kind: 'deployment', id: 'abc', missing: true }], ['write/deployments/update on deployment abc (not found)']],
    ['write/work_pools@pool:pool-a', ['write/work_pools/get_scheduled_flow_runs'], [pool('pool-b')], ['write/work_pools/get_scheduled_flow_runs on work pool pool-b']],
    ['read/*', ['read/block_documents', 'secret/block_documents'], [block('team-b-aws')], ['secret/block_documents on block document team-b-aws']],
    ['write/variables@variable:team_a_*', ['write/variables/create'], [variable('team_b_x')], ['write/variables/create on variable team_b_x']],
    // Not tied to one object: the narrowed key learns why its grant did not count.
    [RUNNER_A, ['write/deployments/create_flow_run'], undefined,
      ['write/deployments/create_flow_run (this request is not tied to one named object, so only a grant without @ covers it)']],
    // Permissions that are not on named objects read as before.
    [RUNNER_A, ['write/logs'], undefined, ['write/logs']],
    ['read/*', ['write/deployments/delete'], [B_NIGHTLY], ['write/deployments/delete on deployment team-b/nightly']],
  ])('%j %j on %j', (key, permissions, objects, texts) => {
    const verdict = decideOnObjects(scopes(key), permissions.map(perm), objects);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.missing.map((m) => m.text)).toEqual(texts);
  });

  it('allows when every permission holds on every object', () => {
    expect(decideOnObjects(scopes(RUNNER_A), [perm('read/deployments'), perm('write/deployments/create_flow_run')], [A_NIGHTLY])).toEqual({ allowed: true });
  });

  it('keeps names from the server harmless in the message', () => {
    const verdict = decideOnObjects(scopes(RUNNER_A), [perm('write/deployments/create_flow_run')], [deployment(`team-b/x\n\u001b[31m${'y'.repeat(300)}`, [], null)]);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) {
      const text = verdict.missing[0]!.text;
      expect(text.includes('\n') || text.includes('\u001b')).toBe(false);
      expect(text.length).toBeLessThan(200);
    }
  });
});
