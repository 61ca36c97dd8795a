import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LookupPlan, ObjectRequest } from '../../../../src/authz/objects';
import { kindOfPermission, OBJECT_ROUTES, objectsReadBody, requiredLookups } from '../../../../src/authz/objects';
import { classifyRest, UNREADABLE } from '../../../../src/authz/rest';
import { PREFECT_ROUTES } from '../../../../src/authz/rest/routes';
import { UUID_1, UUID_2 } from './fixtures';

const segmentsOf = (path: string) => path.split('/').filter(Boolean).map(decodeURIComponent);

/** The request as the pipeline would hand it over: the route's own permission, plus any given. */
const request = (method: string, path: string, body?: unknown, extra: string[] = []): ObjectRequest => {
  const segments = segmentsOf(path);
  const r = method === 'WEBSOCKET' ? undefined : classifyRest(method, segments, false);
  const permissions = [
    ...(r && r.kind === 'permissions' ? r.permissions : method === 'WEBSOCKET' ? [['write', 'work_pools', 'connect']] : []),
    ...extra.map((p) => p.split('/')),
  ];
  return { method, segments, permissions, body };
};

/** A plan, written short: `objects PATCH … update: deployment-by-id(…) | named: work_pool pool-a`. */
const show = (plan: LookupPlan): string => {
  if (plan.type === 'unaffected') return 'unaffected';
  if (plan.type === 'untied') return `untied: ${plan.reason}`;
  const lookups = plan.lookups.map((l) => `${l.type}(${Object.entries(l).filter(([k]) => k !== 'type').map(([, v]) => v).join(', ')})`);
  const named = plan.named.map((o) => `${o.kind} ${o.name}`);
  return `${plan.kind} ${plan.change}: ${[...lookups, ...named].join(' ') || '-'}`;
};

describe('requiredLookups: every route that takes a selector', () => {
  it.each([
    // Deployments.
    ['POST', '/deployments/', { flow_id: UUID_1, name: 'nightly' }, [], `deployment upsert: deployment-by-flow-and-name(${UUID_1}, nightly)`],
    ['PATCH', `/deployments/${UUID_1}`, { work_pool_name: 'pool-b' }, [], `deployment update: deployment-by-id(${UUID_1})`],
    ['DELETE', `/deployments/${UUID_1}`, undefined, [], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', `/deployments/${UUID_1}/schedule`, {}, [], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', `/deployments/${UUID_1}/pause_deployment`, undefined, [], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', `/deployments/${UUID_1}/resume_deployment`, undefined, [], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', `/deployments/${UUID_1}/create_flow_run`, {}, [], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', `/deployments/${UUID_1}/create_flow_run`, { job_variables: { image: 'x' } }, ['write/flow_runs/job_variables'], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', `/deployments/${UUID_1}/create_flow_run/bulk`, [{}], [], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', `/deployments/${UUID_1}/schedules`, [], [], `deployment none: deployment-by-id(${UUID_1})`],
    ['PATCH', `/deployments/${UUID_1}/schedules/${UUID_2}`, {}, [], `deployment none: deployment-by-id(${UUID_1})`],
    ['DELETE', `/deployments/${UUID_1}/schedules/${UUID_2}`, undefined, [], `deployment none: deployment-by-id(${UUID_1})`],
    ['POST', '/deployments/get_scheduled_flow_runs', { deployment_ids: [UUID_1, UUID_2, UUID_1] }, [], `deployment none: deployment-by-id(${UUID_1}) deployment-by-id(${UUID_2})`],
    ['POST', '/deployments/bulk_delete', { deployments: {} }, [], 'untied: acts on several objects chosen by a filter'],
    // Flow runs: each resolved to its deployment.
    ['POST', '/flow_runs/', { flow_id: UUID_2, deployment_id: UUID_1, work_pool_name: 'pool-b' }, [], `flow_run create: deployment-by-id(${UUID_1})`],
    ['POST', '/flow_runs/', { flow_id: UUID_2 }, [], 'flow_run create: -'],
    ['PATCH', `/flow_runs/${UUID_1}`, {}, [], `flow_run none: flow-run-by-id(${UUID_1})`],
    ['DELETE', `/flow_runs/${UUID_1}`, undefined, [], `flow_run none: flow-run-by-id(${UUID_1})`],
    ['POST', `/flow_runs/${UUID_1}/set_state`, { state: { type: 'CANCELLING' } }, ['write/flow_runs/set_state/cancelling'], `flow_run none: flow-run-by-id(${UUID_1})`],
    ['POST', `/flow_runs/${UUID_1}/resume`, {}, [], `flow_run none: flow-run-by-id(${UUID_1})`],
    ['POST', `/flow_runs/${UUID_1}/input`, {}, [], `flow_run none: flow-run-by-id(${UUID_1})`],
    ['DELETE', `/flow_runs/${UUID_1}/input/answer`, undefined, [], `flow_run none: flow-run-by-id(${UUID_1})`],
    ['PATCH', `/flow_runs/${UUID_1}/labels`, {}, [], `flow_run none: flow-run-by-id(${UUID_1})`],
    ['POST', '/flow_runs/bulk_delete', {}, [], 'untied: acts on several objects chosen by a filter'],
    ['POST', '/flow_runs/bulk_set_state', {}, [], 'untied: acts on several objects chosen by a filter'],
    // Work pools and what workers do in them: the name is in the path, no lookup.
    ['POST', '/work_pools/', { name: 'pool-a' }, [], 'work_pool create: -'],
    ['PATCH', '/work_pools/pool-a', {}, [], 'work_pool none: work_pool pool-a'],
    ['DELETE', '/work_pools/pool-a', undefined, [], 'work_pool none: work_pool pool-a'],
    ['POST', '/work_pools/pool-a/get_scheduled_flow_runs', {}, [], 'work_pool none: work_pool pool-a'],
    ['POST', '/work_pools/pool-a/workers/heartbeat', { name: 'w1' }, [], 'work_pool none: work_pool pool-a'],
    ['DELETE', '/work_pools/pool-a/workers/w1', undefined, [], 'work_pool none: work_pool pool-a'],
    ['POST', '/work_pools/pool-a/queues', { name: 'q' }, [], 'work_pool none: work_pool pool-a'],
    ['PATCH', '/work_pools/pool-a/queues/q', {}, [], 'work_pool none: work_pool pool-a'],
    ['DELETE', '/work_pools/pool-a/queues/q', undefined, [], 'work_pool none: work_pool pool-a'],
    ['WEBSOCKET', '/work_pools/pool-a/workers/connect', undefined, [], 'work_pool none: work_pool pool-a'],
    ['POST', '/work_pools/pool%20a/get_scheduled_flow_runs', {}, [], 'work_pool none: work_pool pool a'],
    // Legacy work queues by id: their pool.
    ['POST', '/work_queues/', { name: 'q' }, [], 'work_pool none: work_pool default-agent-pool'],
    ['PATCH', `/work_queues/${UUID_1}`, {}, [], `work_pool none: work-queue-by-id(${UUID_1})`],
    ['DELETE', `/work_queues/${UUID_1}`, undefined, [], `work_pool none: work-queue-by-id(${UUID_1})`],
    ['POST', `/work_queues/${UUID_1}/get_runs`, {}, [], `work_pool none: work-queue-by-id(${UUID_1})`],
    // Block documents: secrets by id or by name; writes by id.
    ['GET', `/block_documents/${UUID_1}`, undefined, ['secret/block_documents'], `block_document none: block-document-by-id(${UUID_1})`],
    ['HEAD', `/block_documents/${UUID_1}`, undefined, ['secret/block_documents'], `block_document none: block-document-by-id(${UUID_1})`],
    ['GET', '/block_types/slug/secret/block_documents/name/team-a-db', undefined, ['secret/block_documents'], 'block_document none: block_document team-a-db'],
    ['GET', '/block_types/slug/secret/block_documents', undefined, ['secret/block_documents'], 'untied: acts on several objects chosen by a filter'],
    ['POST', '/block_documents/filter', { include_secrets: true }, ['secret/block_documents'], 'untied: acts on several objects chosen by a filter'],
    ['POST', '/block_documents/', { name: 'team-a-db' }, [], 'block_document create: -'],
    ['PATCH', `/block_documents/${UUID_1}`, {}, [], `block_document none: block-document-by-id(${UUID_1})`],
    ['DELETE', `/block_documents/${UUID_1}`, undefined, [], `block_document none: block-document-by-id(${UUID_1})`],
    // Variables by id and by name.
    ['POST', '/variables/', { name: 'team_a_x', value: 1 }, [], 'variable create: -'],
    ['PATCH', `/variables/${UUID_1}`, { name: 'team_b_x' }, [], `variable update: variable-by-id(${UUID_1})`],
    ['PATCH', '/variables/name/team_a_x', { value: 2 }, [], 'variable update: variable-by-name(team_a_x)'],
    ['DELETE', `/variables/${UUID_1}`, undefined, [], `variable none: variable-by-id(${UUID_1})`],
    ['DELETE', '/variables/name/team_a_x', undefined, [], 'variable none: variable-by-name(team_a_x)'],
  ])('%s %s %j (+%j) → %s', (method, path, body, extra, expected) => {
    expect(show(requiredLookups(request(method, path, body, extra)))).toBe(expected);
  });
});

describe('requiredLookups: requests it leaves alone, and requests it cannot tie to objects', () => {
  it.each([
    // Reads are not narrowed: no lookup.
    ['GET', `/deployments/${UUID_1}`, undefined, [], 'unaffected'],
    ['POST', '/deployments/filter', {}, [], 'unaffected'],
    ['GET', `/block_documents/${UUID_1}`, undefined, [], 'unaffected'],
    ['GET', '/variables/name/team_a_x', undefined, [], 'unaffected'],
    // Writes on things without a name: no lookup.
    ['POST', '/logs/', [], [], 'unaffected'],
    ['POST', '/flows/', { name: 'etl' }, [], 'unaffected'],
    ['POST', `/task_runs/${UUID_1}/set_state`, {}, [], 'unaffected'],
    // Bodies that do not say what is needed.
    ['POST', '/deployments/', { name: 'nightly' }, [], 'untied: the body names no flow_id and name'],
    ['POST', '/deployments/', { flow_id: 'not-an-id', name: 'nightly' }, [], 'untied: the body names no flow_id and name'],
    ['POST', '/deployments/', UNREADABLE, [], 'untied: the body cannot be read'],
    ['PATCH', `/deployments/${UUID_1}`, UNREADABLE, [], 'untied: the body cannot be read'],
    ['POST', '/flow_runs/', { deployment_id: 42 }, [], 'untied: deployment_id is not an id'],
    ['POST', '/deployments/get_scheduled_flow_runs', { deployment_ids: [] }, [], 'untied: the body names no deployment_ids'],
    ['POST', '/deployments/get_scheduled_flow_runs', { deployment_ids: ['x'] }, [], 'untied: the body names no deployment_ids'],
    ['POST', '/deployments/get_scheduled_flow_runs', { deployment_ids: Array.from({ length: 101 }, (_, i) => `${UUID_1.slice(0, -3)}${String(i).padStart(3, '0')}`) }, [], 'untied: more than 100 deployments at once'],
    // A route the proxy does not know, needing a permission on named objects.
    ['POST', `/deployments/${UUID_1}/brand_new_action`, {}, [], 'untied: the proxy does not tie this route to named objects'],
    // A path id that is not an id matches no template.
    ['PATCH', '/deployments/not-a-uuid', {}, [], 'untied: the proxy does not tie this route to named objects'],
  ])('%s %s %j (+%j) → %s', (method, path, body, extra, expected) => {
    expect(show(requiredLookups(request(method, path, body, extra)))).toBe(expected);
  });

  it('reads the body first only where the objects depend on it', () => {
    expect(objectsReadBody('PATCH', segmentsOf(`/deployments/${UUID_1}`))).toBe(true);
    expect(objectsReadBody('POST', segmentsOf('/deployments/'))).toBe(true);
    expect(objectsReadBody('POST', segmentsOf('/deployments/get_scheduled_flow_runs'))).toBe(true);
    expect(objectsReadBody('POST', segmentsOf('/flow_runs/'))).toBe(true);
    expect(objectsReadBody('PATCH', segmentsOf('/variables/name/x'))).toBe(true);
    expect(objectsReadBody('POST', segmentsOf(`/deployments/${UUID_1}/create_flow_run`))).toBe(false);
    expect(objectsReadBody('DELETE', segmentsOf(`/variables/${UUID_1}`))).toBe(false);
    expect(objectsReadBody('POST', segmentsOf('/logs/'))).toBe(false);
  });
});

describe('the route table', () => {
  const known = new Set(PREFECT_ROUTES.map(([method, path]) => `${method} ${path}`));
  const expected = readFileSync(join(__dirname, '../rest/expected-permissions.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t') as [string, string, string]);

  it.each(Object.keys(OBJECT_ROUTES))('%s is a Prefect 3 route', (route) => {
    expect(known.has(route)).toBe(true);
  });

  it('lists every Prefect 3 route whose permission acts on named objects', () => {
    const narrowable = expected.filter(([, , permission]) => kindOfPermission(permission.split('/')) !== undefined).map(([m, p]) => `${m} ${p}`);
    expect(narrowable.filter((route) => !(route in OBJECT_ROUTES))).toEqual([]);
  });

  it('is what the docs page lists', () => {
    const docs = readFileSync(join(__dirname, '../../../../docs/permissions-on-named-things.md'), 'utf8');
    for (const [route, rule] of Object.entries(OBJECT_ROUTES)) {
      const [method, path] = route.split(' ');
      expect(docs).toContain(`| ${method} | \`${path}\` | ${rule.kind} | ${rule.address} | ${rule.lookup} | ${rule.change} |`);
    }
  });
});
