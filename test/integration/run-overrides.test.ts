import request from 'supertest';
import { waitFor } from '../support/proxy';
import { useProxyStack } from '../support/stack';

const RUNNER = 'runner-key-0001';
const DEVELOPER = 'developer-key-01';
const WORKER = 'worker-key-00001';
const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * A runner may start a deployment as it is deployed, and cancel or retry runs. Anything that changes
 * what a worker executes (job variables) or forces another outcome onto a run is not running.
 */
describe('run overrides (REST dialect)', () => {
  const stack = useProxyStack({
    name: 'run_overrides',
    migrate: true,
    keys: [
      { userId: 'runner', scopes: 'role:runner', key: RUNNER, hashed: true },
      { userId: 'developer', scopes: 'role:developer', key: DEVELOPER, hashed: true },
      { userId: 'worker', scopes: 'role:worker', key: WORKER, hashed: true },
    ],
    env: { API_KIND: 'rest', UPSTREAM_AUTH_STRING: 'server-secret' },
  });
  beforeEach(() => {
    stack.upstream.received.length = 0;
    stack.upstream.respondWith((_req, res) => res.setHeader('content-type', 'application/json').end('{}'));
  });

  const post = (path: string, key: string, body: string, method: 'post' | 'patch' = 'post') =>
    request(stack.proxy.url)[method](`/api${path}`).set(as(key)).set('content-type', 'application/json').send(body);

  it.each([
    ['job variables on a deployment run', `/deployments/${ID}/create_flow_run`, { job_variables: { command: 'sh -c "env"' } }],
    ['job variables under their Prefect 2 name', `/deployments/${ID}/create_flow_run`, { infra_overrides: { command: 'id' } }],
    ['job variables in a bulk create', `/deployments/${ID}/create_flow_run/bulk`, [{}, { job_variables: { env: { LD_PRELOAD: '/tmp/x' } } }]],
    ['a body the proxy cannot parse', `/deployments/${ID}/create_flow_run`, '{"job_variables": {"command": "id"}, NaN}'],
    ['a run marked COMPLETED', `/flow_runs/${ID}/set_state`, { state: { type: 'COMPLETED' }, force: true }],
    ['a run marked FAILED', `/flow_runs/${ID}/set_state`, { state: { type: 'FAILED' } }],
    ['a state change without a state', `/flow_runs/${ID}/set_state`, {}],
  ])('refuses a runner %s, and the server receives nothing', async (_what, path, body) => {
    const res = await post(path, RUNNER, typeof body === 'string' ? body : JSON.stringify(body));
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/^API key of user runner lacks permission: write\/flow_runs\/(job_variables|set_state\/\w+)$/);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it.each([
    ['a deployment run as deployed', `/deployments/${ID}/create_flow_run`, { parameters: { n: 1 }, job_variables: null }],
    ['a deployment run with empty job variables', `/deployments/${ID}/create_flow_run`, { job_variables: {} }],
    ['a cancellation', `/flow_runs/${ID}/set_state`, { state: { type: 'CANCELLING' }, force: true }],
    ['a retry as the web UI sends it', `/flow_runs/${ID}/set_state`, { state: { type: 'scheduled', name: 'AwaitingRetry' }, force: false }],
  ])('lets a runner start %s, forwarding the body as sent', async (_what, path, body) => {
    const text = JSON.stringify(body);
    await post(path, RUNNER, text).expect(200);
    expect(stack.upstream.received).toHaveLength(1);
    expect(stack.upstream.received[0]?.body).toBe(text);
  });

  it('lets a developer override job variables and set any state', async () => {
    await post(`/deployments/${ID}/create_flow_run`, DEVELOPER, JSON.stringify({ job_variables: { command: 'python x.py' } })).expect(200);
    await post(`/flow_runs/${ID}/set_state`, DEVELOPER, JSON.stringify({ state: { type: 'COMPLETED' } })).expect(200);
    expect(stack.upstream.received).toHaveLength(2);
  });

  it('lets a worker report its runs but not rewrite what other workers run', async () => {
    await post(`/flow_runs/${ID}`, WORKER, JSON.stringify({ infrastructure_pid: '4242' }), 'patch').expect(200);
    await post(`/flow_runs/${ID}/set_state`, WORKER, JSON.stringify({ state: { type: 'COMPLETED' } })).expect(200);
    expect(stack.upstream.received).toHaveLength(2);
    stack.upstream.received.length = 0;
    await post(`/flow_runs/${ID}`, WORKER, JSON.stringify({ job_variables: { command: 'id' } }), 'patch').expect(403);
    await post('/flow_runs/', WORKER, JSON.stringify({ flow_id: ID, job_variables: { command: 'id' } })).expect(403);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('audits the refusal with the permission that was missing', async () => {
    await post(`/deployments/${ID}/create_flow_run`, RUNNER, JSON.stringify({ job_variables: { command: 'id' } })).expect(403);
    await waitFor(() => stack.proxy.auditLines().some((l) => l.permissions !== undefined && String(l.permissions).includes('write/flow_runs/job_variables')));
    const line = stack.proxy.auditLines().find((l) => String(l.permissions).includes('write/flow_runs/job_variables'));
    expect(line).toMatchObject({ outcome: 'BLOCKED', user: 'runner', operationType: 'POST' });
  });
});

describe('run overrides (GraphQL dialect, Prefect 1)', () => {
  const stack = useProxyStack({
    name: 'run_overrides_gql',
    keys: [
      { userId: 'runner', scopes: 'role:runner', key: RUNNER, hashed: true },
      { userId: 'developer', scopes: 'role:developer', key: DEVELOPER, hashed: true },
    ],
  });
  beforeEach(() => {
    stack.upstream.received.length = 0;
  });
  const MUTATION = 'mutation($input: create_flow_run_input!) { create_flow_run(input: $input) { id } }';
  // As the Prefect 1 client sends it: variables as a JSON string.
  const body = (input: Record<string, unknown>) => JSON.stringify({ query: MUTATION, variables: JSON.stringify({ input }) });
  const send = (key: string, text: string) => request(stack.proxy.url).post('/').set(as(key)).set('content-type', 'application/json').send(text);

  it('refuses a runner a flow run with a run_config of its own, and the server receives nothing', async () => {
    const res = await send(RUNNER, body({ flow_id: 'f', run_config: { type: 'KubernetesRun', job_template: { spec: {} } } }));
    expect(res.status).toBe(403);
    expect(res.body.errors[0].message).toBe('API key of user runner lacks permission: mutation/create_flow_run.run_config');
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('lets a runner start a flow run as registered, and a developer give it a run_config', async () => {
    await send(RUNNER, body({ flow_id: 'f', parameters: { n: 1 } })).expect(200);
    await send(DEVELOPER, body({ flow_id: 'f', run_config: { type: 'LocalRun' } })).expect(200);
    expect(stack.upstream.received).toHaveLength(2);
  });
});
