import { buildRoleTable, expandRoles, splitScopes } from '../../../../src/authz';
import type { Lookup, ObjectFacts } from '../../../../src/authz/objects';
import { compileObjectScopes, decideOnObjects, missingFacts, narrowScopes, objectsToCheck, parseObjectScope, requiredLookups } from '../../../../src/authz/objects';
import { classifyRest, refinePermissions } from '../../../../src/authz/rest';
import { deployment, run, UUID_1 } from './fixtures';

/** What the Prefect server holds, by id and name, as the resolver would learn it. */
const ID = (n: number) => `${UUID_1.slice(0, -2)}${String(n).padStart(2, '0')}`;
const FLOW_A = ID(1);
const DEP_A = deployment('team-a/nightly', ['team-a'], 'pool-a', { id: ID(10) });
const DEP_B = deployment('team-b/nightly', ['team-b'], 'pool-b', { id: ID(11) });
const RUN_A = run('run-a', DEP_A);
const RUN_B = run('run-b', DEP_B);
const server: ObjectFacts[] = [DEP_A, DEP_B, { ...RUN_A, id: ID(20) }, { ...RUN_B, id: ID(21) }, { kind: 'variable', id: ID(30), name: 'team_a_bucket', tags: [] }];

/** The lookups answered from `server`: the shape a real resolver returns. */
function resolve(lookup: Lookup): ObjectFacts {
  const found = (() => {
    switch (lookup.type) {
      case 'deployment-by-flow-and-name': return lookup.flowId === FLOW_A ? server.find((o) => o.kind === 'deployment' && o.name === `team-a/${lookup.name}`) : undefined;
      case 'variable-by-name': return server.find((o) => o.kind === 'variable' && o.name === lookup.name);
      case 'work-queue-by-id': return undefined;
      default: return server.find((o) => o.id === lookup.id);
    }
  })();
  return found ?? missingFacts(lookup, lookup.type === 'deployment-by-flow-and-name' && lookup.flowId === FLOW_A ? 'team-a' : undefined);
}

const roles = buildRoleTable();
/** A key's scopes as stored, expanded as the key resolver would (with narrowed roles). */
function keyScopes(stored: string) {
  const expanded = splitScopes(stored).flatMap((s) => {
    const parsed = parseObjectScope(s);
    if (parsed.ok && parsed.scope.type === 'narrowed-role') return narrowScopes(expandRoles([`role:${parsed.scope.role}`], roles).scopes, parsed.scope.selector);
    return expandRoles([s], roles).scopes;
  });
  return compileObjectScopes(expanded);
}

/** The decision the pipeline would take: classify, refine with the body, look up, check before and after. */
function decide(stored: string, method: string, path: string, body?: unknown, extra: string[] = []): string {
  const segments = path.split('/').filter(Boolean);
  const r = method === 'WEBSOCKET' ? undefined : classifyRest(method, segments, false);
  const base = r?.kind === 'permissions' ? r.permissions : [['write', 'work_pools', 'connect']];
  const permissions = [...(r ? refinePermissions(method, segments, base, body) : base), ...extra.map((p) => p.split('/'))];
  const plan = requiredLookups({ method, segments, permissions, body });
  const objects = plan.type === 'objects' ? objectsToCheck(plan, plan.lookups.map(resolve), body) : undefined;
  const verdict = decideOnObjects(keyScopes(stored), permissions, objects);
  return verdict.allowed ? 'allowed' : `lacks permission: ${verdict.missing.map((m) => m.text).join(', ')}`;
}

const RUNNER_A = 'role:runner@deployment:team-a/*';
const EDITOR_A = 'role:viewer, write/deployments@deployment:team-a/*+pool:pool-a, write/flows/create';
const WORKER_A = 'role:worker@pool:pool-a, secret/block_documents@block:team-a-*, write/variables@variable:team_a_*';

describe('the issue\'s scenarios, decided end to end on plain data', () => {
  it.each([
    // A team-a runner runs team-a deployments and is refused on team-b's.
    [RUNNER_A, 'POST', `/deployments/${DEP_A.id}/create_flow_run`, {}, [], 'allowed'],
    [RUNNER_A, 'POST', `/deployments/${DEP_B.id}/create_flow_run`, {}, [], 'lacks permission: write/deployments/create_flow_run on deployment team-b/nightly'],
    // ... without overriding what the worker runs.
    [RUNNER_A, 'POST', `/deployments/${DEP_A.id}/create_flow_run`, { job_variables: { image: 'evil' } }, [], 'lacks permission: write/flow_runs/job_variables on deployment team-a/nightly'],
    // Flow-run actions follow the deployment: cancel and retry team-a runs only.
    [RUNNER_A, 'POST', `/flow_runs/${ID(20)}/set_state`, { state: { type: 'CANCELLING' } }, [], 'allowed'],
    [RUNNER_A, 'POST', `/flow_runs/${ID(20)}/set_state`, { state: { type: 'SCHEDULED' } }, [], 'allowed'],
    [RUNNER_A, 'POST', `/flow_runs/${ID(21)}/set_state`, { state: { type: 'CANCELLING' } }, [],
      'lacks permission: write/flow_runs/set_state/cancelling on flow run run-b of deployment team-b/nightly'],
    [RUNNER_A, 'POST', '/flow_runs/bulk_set_state', { state: { type: 'CANCELLING' } }, [],
      'lacks permission: write/flow_runs/bulk_set_state'],
    // An editor may not move a team-a deployment into pool-b, tag it out of reach, nor take over team-b's.
    [EDITOR_A, 'PATCH', `/deployments/${DEP_A.id}`, { description: 'x' }, [], 'allowed'],
    [EDITOR_A, 'PATCH', `/deployments/${DEP_A.id}`, { work_pool_name: 'pool-b' }, [],
      'lacks permission: write/deployments/update on deployment team-a/nightly after this change (work pool pool-b; tags team-a)'],
    [EDITOR_A, 'PATCH', `/deployments/${DEP_A.id}`, { work_queue_name: 'somewhere' }, [],
      'lacks permission: write/deployments/update on deployment team-a/nightly after this change (work pool unknown; tags team-a)'],
    [EDITOR_A, 'PATCH', `/deployments/${DEP_B.id}`, { work_pool_name: 'pool-a' }, [], 'lacks permission: write/deployments/update on deployment team-b/nightly'],
    [EDITOR_A, 'POST', '/deployments/', { flow_id: FLOW_A, name: 'nightly', work_pool_name: 'pool-a' }, [], 'allowed'],
    [EDITOR_A, 'POST', '/deployments/', { flow_id: FLOW_A, name: 'new-one', work_pool_name: 'pool-a' }, [], 'allowed'],
    [EDITOR_A, 'POST', '/deployments/', { flow_id: FLOW_A, name: 'nightly', work_pool_name: 'pool-b' }, [],
      'lacks permission: write/deployments/create on deployment team-a/nightly after this change (work pool pool-b; tags team-a)'],
    [EDITOR_A, 'POST', '/deployments/', { flow_id: ID(2), name: 'nightly', work_pool_name: 'pool-a' }, [],
      'lacks permission: write/deployments/create on deployment (name unknown) after this change (work pool pool-a; no tags)'],
    [EDITOR_A, 'DELETE', `/deployments/${ID(99)}`, undefined, [], `lacks permission: write/deployments/delete on deployment ${ID(99)} (not found)`],
    // A pool-a worker polls, heartbeats and connects in pool-a only.
    [WORKER_A, 'POST', '/work_pools/pool-a/get_scheduled_flow_runs', {}, [], 'allowed'],
    [WORKER_A, 'POST', '/work_pools/pool-b/get_scheduled_flow_runs', {}, [], 'lacks permission: write/work_pools/get_scheduled_flow_runs on work pool pool-b'],
    [WORKER_A, 'POST', '/work_pools/pool-a/workers/heartbeat', { name: 'w' }, [], 'allowed'],
    [WORKER_A, 'POST', '/work_pools/pool-b/workers/heartbeat', { name: 'w' }, [], 'lacks permission: write/work_pools/heartbeat on work pool pool-b'],
    [WORKER_A, 'WEBSOCKET', '/work_pools/pool-b/workers/connect', undefined, [], 'lacks permission: write/work_pools/connect on work pool pool-b'],
    [WORKER_A, 'POST', `/flow_runs/${ID(20)}/set_state`, { state: { type: 'RUNNING' } }, [], 'allowed'],
    [WORKER_A, 'POST', `/flow_runs/${ID(21)}/set_state`, { state: { type: 'RUNNING' } }, [], 'lacks permission: write/flow_runs/set_state/running on flow run run-b of deployment team-b/nightly'],
    [WORKER_A, 'POST', '/logs/', [], [], 'allowed'],
    // Secrets of team-a blocks only, by name.
    [WORKER_A, 'GET', '/block_types/slug/secret/block_documents/name/team-a-db', undefined, ['secret/block_documents'], 'allowed'],
    [WORKER_A, 'GET', '/block_types/slug/secret/block_documents/name/team-b-db', undefined, ['secret/block_documents'], 'lacks permission: secret/block_documents on block document team-b-db'],
    [WORKER_A, 'GET', '/block_types/slug/secret/block_documents/name/team-b-db', undefined, [], 'allowed'],
    // Variables by name, renames included.
    [WORKER_A, 'PATCH', '/variables/name/team_a_bucket', { value: 'x' }, [], 'allowed'],
    [WORKER_A, 'PATCH', '/variables/name/team_a_bucket', { name: 'team_b_bucket' }, [], 'lacks permission: write/variables/update on variable team_b_bucket after this change (no tags)'],
    [WORKER_A, 'POST', '/variables/', { name: 'team_b_x', value: 1 }, [], 'lacks permission: write/variables/create on variable team_b_x after this change (no tags)'],
    // Reads stay as they are.
    [RUNNER_A, 'GET', `/deployments/${DEP_B.id}`, undefined, [], 'allowed'],
    [RUNNER_A, 'POST', '/deployments/filter', {}, [], 'allowed'],
  ] as const)('%s: %s %s %j (+%j) → %s', (key, method, path, body, extra, expected) => {
    expect(decide(key, method, path, body, [...extra])).toBe(expected);
  });
});
