import { join } from 'node:path';
import { buildRoleTable } from '../../src/authz';
import { createKeyAdmin } from '../../src/storage';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase } from '../support/databases';
import type { PrefectServer } from '../support/prefect3-server';
import { startPrefectServer } from '../support/prefect3-server';
import type { TestProxy } from '../support/proxy';
import { startTestProxy } from '../support/proxy';
import { ensureVenv } from '../support/python-venv';
import type { Run } from '../support/prefect-client';
import { eventually, runPrefect } from '../support/prefect-client';

jest.setTimeout(600_000);

const FLOWS_DIR = join(__dirname, 'flows');
// Only what the tests use runs on the server: two cores are shared with the rest of the suite.
const QUIET_SERVER = {
  PREFECT_UI_ENABLED: 'false',
  PREFECT_API_SERVICES_SCHEDULER_ENABLED: 'false',
  PREFECT_API_SERVICES_LATE_RUNS_ENABLED: 'false',
  PREFECT_API_SERVICES_FLOW_RUN_NOTIFICATIONS_ENABLED: 'false',
  PREFECT_API_SERVICES_PAUSE_EXPIRATIONS_ENABLED: 'false',
  PREFECT_API_SERVICES_CANCELLATION_CLEANUP_ENABLED: 'false',
  PREFECT_API_SERVICES_FOREMAN_ENABLED: 'false',
};

/**
 * The real Prefect 2.20 client, CLI and process worker through the proxy, in front of a real
 * Prefect 2.20 server. 2.x has no server auth string: the server relies on being reachable only
 * through the proxy, and clients send their key as PREFECT_API_KEY (Bearer).
 */
describe('Prefect 2 through the proxy', () => {
  let bin: string;
  let server: PrefectServer;
  let db: TestDatabase;
  let proxy: TestProxy;
  const keys: Record<'developer' | 'runner' | 'worker', string> = { developer: '', runner: '', worker: '' };

  beforeAll(async () => {
    bin = ensureVenv('prefect2');
    server = await startPrefectServer(bin, undefined, QUIET_SERVER);
    db = await createTestDatabase('sqlite', 'prefect2_e2e');
    const admin = createKeyAdmin(db.knex, 'sqlite', buildRoleTable());
    for (const role of Object.keys(keys) as Array<keyof typeof keys>) {
      keys[role] = (await admin.create({ user: role, scopes: `role:${role}`, by: 'test' })).key;
    }
    proxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: server.url, LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    await db?.drop();
  });

  const run = (command: string, args: string[], env: Record<string, string>): Promise<Run> =>
    runPrefect(bin, `${proxy.url}/api`, command, args, env, FLOWS_DIR);
  const asKey = (key: string) => ({ PREFECT_API_KEY: key });
  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${proxy.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${keys.developer}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return res.json() as Promise<T>;
  };
  const logMessages = async (flowRunId: string) =>
    (await api<Array<{ message: string }>>('/logs/filter', { logs: { flow_run_id: { any_: [flowRunId] } } })).map((l) => l.message);

  it('runs a flow with PREFECT_API_KEY=<key>: completed, task runs and logs readable through the proxy, writes audited', async () => {
    const result = await run('python', ['flows.py'], asKey(keys.developer));
    if (result.code !== 0) console.log(result.stdout.slice(-3000), result.stderr.slice(-3000));
    expect(result.stdout).toContain('STATE COMPLETED');
    const id = /FLOW_RUN_ID (\S+)/.exec(result.stdout)?.[1] ?? '';

    const taskRuns = await api<Array<{ state: { type: string } }>>('/task_runs/filter', { flow_runs: { id: { any_: [id] } } });
    expect(taskRuns.map((t) => t.state.type)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    // Logs are sent in batches after the run: wait for the last one.
    const messages = await eventually(() => logMessages(id), (m) => m.includes('total is 3'));
    expect(messages).toEqual(expect.arrayContaining(['adding 0 and 0', 'total is 3']));

    const audit = proxy.auditLines().filter((l) => l.user === 'developer');
    expect(audit).toEqual(expect.arrayContaining([
      expect.objectContaining({ outcome: 'ALLOWED', operationType: 'POST', operationName: '/flow_runs/', status: 201 }),
      expect.objectContaining({ outcome: 'ALLOWED', operationName: '/flow_runs/{id:uuid}/set_state' }),
      expect.objectContaining({ outcome: 'ALLOWED', operationName: '/logs/' }),
    ]));
    expect(proxy.auditLines().filter((l) => l.outcome === 'BLOCKED')).toEqual([]);
    expect(proxy.rawLogs()).not.toContain(keys.developer);
  });

  it('a process worker with a worker key runs a deployment run started by a runner key; with events on, only the events socket is refused', async () => {
    // Set up over HTTP rather than with more Python processes: each costs seconds of imports.
    const call = async <T>(key: string, path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${proxy.url}/api${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBeLessThan(300);
      return res.json() as Promise<T>;
    };
    await call(keys.developer, '/work_pools/', { name: 'pool-a', type: 'process' });
    const flow = await call<{ id: string }>(keys.developer, '/flows/', { name: 'proxy-e2e' });
    const deployment = await call<{ id: string }>(keys.developer, '/deployments/', {
      name: 'nightly', flow_id: flow.id, work_pool_name: 'pool-a', entrypoint: 'flows.py:main', path: FLOWS_DIR,
      parameter_openapi_schema: { type: 'object', properties: { n: { type: 'integer', default: 3 } } },
    });
    const { id } = await call<{ id: string }>(keys.runner, `/deployments/${deployment.id}/create_flow_run`, {});

    // The flow run the worker starts inherits its environment, events setting included. Prefect
    // 2.20's worker dies when its events service has already stopped (the refused socket) by the
    // time it emits "worker started": a race in the client, so a worker that died of it is started again.
    const startWorker = () => run('prefect', ['worker', 'start', '--pool', 'pool-a', '--type', 'process', '--run-once'],
      { ...asKey(keys.worker), PREFECT_EXPERIMENTAL_EVENTS: 'true' });
    let worker = await startWorker();
    for (let retry = 0; retry < 2 && (worker.stdout + worker.stderr).includes('Cannot put items in a stopped service instance'); retry++) {
      worker = await startWorker();
    }
    const state = await eventually(async () => (await api<{ state: { type: string } }>(`/flow_runs/${id}`)).state.type, (s) => s === 'COMPLETED', 90_000);
    if (state !== 'COMPLETED') console.log(worker.stdout.slice(-3000), worker.stderr.slice(-3000));
    expect(state).toBe('COMPLETED');
    expect(await eventually(() => logMessages(id), (m) => m.includes('total is 3'))).toContain('total is 3');

    const blocked = proxy.auditLines().filter((l) => l.outcome === 'BLOCKED');
    expect(blocked.length).toBeGreaterThan(0);
    // 2.x opens /api/events/in with no credential at all: refused as a failed authentication (one
    // row per source and minute, the rest counted), and nothing else is refused.
    expect(blocked).toEqual(blocked.map(() => expect.objectContaining({
      operationType: 'AUTH', fields: ['/events/in', 'an API key is required'], user: null, status: 401,
    })));
  });
});
