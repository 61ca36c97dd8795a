import { PREFECT_ROUTES } from '../../../src/authz/rest/routes';
import { EVICTING_ROUTES, evictionsOf } from '../../../src/lookup';

const ID = '0F0E4A1C-3B5D-4E6F-8A9B-0C1D2E3F4A5B';
const id = ID.toLowerCase();

describe('evictionsOf: what an allowed change makes stale', () => {
  it.each([
    // [method, route, segments, evictions]
    ['PATCH', '/deployments/{id:uuid}', ['deployments', ID], [{ kind: 'deployment', id }]],
    ['DELETE', '/deployments/{id:uuid}', ['deployments', ID], [{ kind: 'deployment', id }]],
    // An upsert by flow and name: which deployment it changes is the server's to say.
    ['POST', '/deployments/', ['deployments'], [{ kind: 'deployment' }]],
    ['POST', '/deployments/bulk_delete', ['deployments', 'bulk_delete'], [{ kind: 'deployment' }]],
    ['DELETE', '/flows/{id:uuid}', ['flows', ID], [{ kind: 'deployment' }]],
    ['PATCH', '/flow_runs/{id:uuid}', ['flow_runs', ID], [{ kind: 'flow_run', id }]],
    ['PATCH', '/work_queues/{id:uuid}', ['work_queues', ID], [{ kind: 'work_queue', id }]],
    ['DELETE', '/work_pools/{name}', ['work_pools', 'pool-a'], [{ kind: 'work_queue' }]],
    ['PATCH', '/block_documents/{id:uuid}', ['block_documents', ID], [{ kind: 'block_document', id }]],
    ['PATCH', '/variables/{id:uuid}', ['variables', ID], [{ kind: 'variable', id }]],
    ['PATCH', '/variables/name/{name:str}', ['variables', 'name', 'team_a_x'], [{ kind: 'variable' }]],
    // What changes no name, tag or pool evicts nothing: runs, states, polls.
    ['POST', '/deployments/{id:uuid}/create_flow_run', ['deployments', ID, 'create_flow_run'], []],
    ['POST', '/flow_runs/{id:uuid}/set_state', ['flow_runs', ID, 'set_state'], []],
    ['POST', '/work_pools/{name}/get_scheduled_flow_runs', ['work_pools', 'pool-a', 'get_scheduled_flow_runs'], []],
    ['POST', '/variables/', ['variables'], []],
  ])('%s %s', (method, route, segments, expected) => {
    expect(evictionsOf(method, route, segments)).toEqual(expected);
  });

  it('names only routes of the route table', () => {
    const known = new Set(PREFECT_ROUTES.map(([method, path]) => `${method} ${path}`));
    for (const route of EVICTING_ROUTES) expect({ route, known: known.has(route) }).toEqual({ route, known: true });
  });
});
