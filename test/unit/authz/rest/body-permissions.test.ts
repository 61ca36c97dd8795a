import { formatPermission } from '../../../../src/authz';
import { classifyRest, decisionReadsBody, overridesJobVariables, refinePermissions, UNREADABLE } from '../../../../src/authz/rest';

const RUN = 'b3f5b7a4-4a43-4b0e-9d55-7a4d8a1b2c3d';

/** What a request needs, as the REST dialect decides it once the body is known. */
function needs(method: string, path: string, body: unknown): string[] {
  const segments = path.split('/').filter(Boolean);
  const route = classifyRest(method, segments, false);
  if (route.kind !== 'permissions') return [route.kind];
  return refinePermissions(method, segments, route.permissions, body).map(formatPermission);
}

describe('permissions a body adds', () => {
  it.each([
    // Runs created from a deployment: job variables override what the worker runs.
    ['POST', `/deployments/${RUN}/create_flow_run`, {}, ['write/deployments/create_flow_run']],
    ['POST', `/deployments/${RUN}/create_flow_run`, { job_variables: null }, ['write/deployments/create_flow_run']],
    ['POST', `/deployments/${RUN}/create_flow_run`, { job_variables: {} }, ['write/deployments/create_flow_run']],
    ['POST', `/deployments/${RUN}/create_flow_run`, { job_variables: { command: 'sh -c id' } }, ['write/deployments/create_flow_run', 'write/flow_runs/job_variables']],
    ['POST', `/deployments/${RUN}/create_flow_run`, { job_variables: { env: { A: '1' } }, parameters: {} }, ['write/deployments/create_flow_run', 'write/flow_runs/job_variables']],
    ['POST', `/deployments/${RUN}/create_flow_run`, { infra_overrides: { image: 'evil' } }, ['write/deployments/create_flow_run', 'write/flow_runs/job_variables']],
    ['POST', `/deployments/${RUN}/create_flow_run`, { job_variables: 'x' }, ['write/deployments/create_flow_run', 'write/flow_runs/job_variables']],
    ['POST', `/deployments/${RUN}/create_flow_run`, UNREADABLE, ['write/deployments/create_flow_run', 'write/flow_runs/job_variables']],
    ['POST', `/deployments/${RUN}/create_flow_run`, undefined, ['write/deployments/create_flow_run']],
    ['POST', `/deployments/${RUN}/create_flow_run/bulk`, [{}, { job_variables: { command: 'x' } }], ['write/deployments/create_flow_run', 'write/flow_runs/job_variables']],
    ['POST', `/deployments/${RUN}/create_flow_run/bulk`, [{}, { job_variables: null }], ['write/deployments/create_flow_run']],
    // Runs created or updated directly.
    ['POST', '/flow_runs', { flow_id: RUN, job_variables: { command: 'x' } }, ['write/flow_runs/create', 'write/flow_runs/job_variables']],
    ['PATCH', `/flow_runs/${RUN}`, { job_variables: { command: 'x' } }, ['write/flow_runs/update', 'write/flow_runs/job_variables']],
    ['PATCH', `/flow_runs/${RUN}`, { infrastructure_pid: '123' }, ['write/flow_runs/update']],
    ['PATCH', `/flow_runs/${RUN}`, UNREADABLE, ['write/flow_runs/update', 'write/flow_runs/job_variables']],
    // Target states: a grant of `set_state` covers every one; a runner's names a few.
    ['POST', `/flow_runs/${RUN}/set_state`, { state: { type: 'CANCELLING' }, force: true }, ['write/flow_runs/set_state/cancelling']],
    ['POST', `/flow_runs/${RUN}/set_state`, { state: { type: 'COMPLETED' } }, ['write/flow_runs/set_state/completed']],
    ['POST', `/flow_runs/${RUN}/set_state`, { state: {} }, ['write/flow_runs/set_state/unknown']],
    ['POST', `/flow_runs/${RUN}/set_state`, { state: { type: '../admin' } }, ['write/flow_runs/set_state/unknown']],
    ['POST', `/flow_runs/${RUN}/set_state`, UNREADABLE, ['write/flow_runs/set_state/unknown']],
    ['POST', `/flow_runs/${RUN}/set_state`, undefined, ['write/flow_runs/set_state/unknown']],
    // Secrets, as before.
    ['POST', '/block_documents/filter', { include_secrets: true }, ['read/block_documents', 'secret/block_documents']],
    ['POST', '/block_documents/filter', UNREADABLE, ['read/block_documents', 'secret/block_documents']],
    ['POST', '/block_documents/filter', {}, ['read/block_documents']],
    // Reads and routes that carry no run settings are not touched.
    ['GET', `/flow_runs/${RUN}`, UNREADABLE, ['read/flow_runs']],
    ['POST', '/flow_runs/filter', { job_variables: { command: 'x' } }, ['read/flow_runs']],
    ['POST', '/task_runs', { job_variables: { command: 'x' } }, ['write/task_runs/create']],
  ])('%s %s %p → %p', (method, path, body, expected) => {
    expect(needs(method, path, body)).toEqual(expected);
  });
});

describe('which decisions read the body', () => {
  it.each([
    ['POST', `/deployments/${RUN}/create_flow_run`, true],
    ['POST', `/deployments/${RUN}/create_flow_run/bulk`, true],
    ['POST', '/flow_runs', true],
    ['PATCH', `/flow_runs/${RUN}`, true],
    ['POST', `/flow_runs/${RUN}/set_state`, true],
    ['POST', '/block_documents', true],
    ['PATCH', `/block_documents/${RUN}`, true],
    ['GET', `/flow_runs/${RUN}`, false],
    ['POST', '/flow_runs/filter', false],
    ['POST', '/logs', false],
    ['DELETE', `/flow_runs/${RUN}`, false],
  ])('%s %s → %s', (method, path, expected) => {
    expect(decisionReadsBody(method, path.split('/').filter(Boolean))).toBe(expected);
  });
});

describe('overridesJobVariables', () => {
  it.each([
    [undefined, false], [null, false], [{}, false], [{ job_variables: {} }, false], [{ job_variables: null }, false],
    [{ job_variables: { a: 1 } }, true], [{ job_variables: [] }, true], [{ job_variables: 0 }, true], [{ infra_overrides: { a: 1 } }, true],
    [[{ job_variables: { a: 1 } }], true], [[{}, null], false], ['job_variables', false],
  ])('%p → %s', (body, expected) => {
    expect(overridesJobVariables(body)).toBe(expected);
  });
});
