import { mkdirSync } from 'node:fs';
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
import { withBrowser } from '../support/browser';
import type { Run } from '../support/prefect-client';
import { eventually, runPrefect } from '../support/prefect-client';

jest.setTimeout(600_000);

const SERVER_AUTH = 'server-only-secret-7f3a';
const FLOWS_DIR = join(__dirname, 'flows');

/** The real Prefect 3.8.8 client, CLI and worker against the proxy, in front of a real protected server. */
describe('Prefect 3 through the proxy', () => {
  let bin: string;
  let server: PrefectServer;
  let db: TestDatabase;
  let proxy: TestProxy;
  const keys: Record<'developer' | 'viewer' | 'runner' | 'worker', string> = { developer: '', viewer: '', runner: '', worker: '' };

  beforeAll(async () => {
    bin = ensureVenv('prefect3');
    server = await startPrefectServer(bin, SERVER_AUTH);
    db = await createTestDatabase('sqlite', 'prefect3_e2e');
    const admin = createKeyAdmin(db.knex, 'sqlite', buildRoleTable());
    for (const role of Object.keys(keys) as Array<keyof typeof keys>) {
      keys[role] = (await admin.create({ user: role, scopes: `role:${role}`, by: 'test' })).key;
    }
    proxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: server.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    await db?.drop();
  });

  const run = (command: string, args: string[], env: Record<string, string>, cwd = FLOWS_DIR): Promise<Run> =>
    runPrefect(bin, `${proxy.url}/api`, command, args, env, cwd);
  const asKey = (key: string) => ({ PREFECT_API_AUTH_STRING: key });
  const api = async (path: string, body?: unknown) => {
    const res = await fetch(`${proxy.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${keys.developer}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return res.json() as Promise<unknown>;
  };
  const taskRunStates = async (flowRunId: string): Promise<string[]> => {
    const runs = await api('/task_runs/filter', { flow_runs: { id: { any_: [flowRunId] } } }) as Array<{ state: { type: string } }>;
    return runs.map((r) => r.state.type);
  };
  const flowRunId = (r: Run) => /FLOW_RUN_ID (\S+)/.exec(r.stdout)?.[1] ?? '';
  let firstFlowRunId = '';

  it('1. runs a flow with PREFECT_API_AUTH_STRING=<key>: completed, task runs and events arrived, writes audited', async () => {
    const result = await run('python', ['flows.py'], asKey(keys.developer));
    expect(result.stdout).toContain('STATE COMPLETED');
    expect(result.code).toBe(0);
    firstFlowRunId = flowRunId(result);
    const states = await eventually(() => taskRunStates(flowRunId(result)), (s) => s.length === 3 && s.every((t) => t === 'COMPLETED'));
    expect(states).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    const audit = proxy.auditLines().filter((l) => l.user === 'developer');
    expect(audit).toEqual(expect.arrayContaining([
      expect.objectContaining({ outcome: 'ALLOWED', operationType: 'WEBSOCKET', operationName: '/events/in' }),
      expect.objectContaining({ outcome: 'ALLOWED', operationType: 'POST', operationName: '/flow_runs/', status: 201 }),
      expect.objectContaining({ outcome: 'ALLOWED', operationName: '/flow_runs/{id:uuid}/set_state', permissions: ['write/flow_runs/set_state/completed'] }),
    ]));
    expect(proxy.rawLogs()).not.toContain(keys.developer);
  });

  it('2. runs a flow with PREFECT_API_KEY=<key> (websockets get the key from PREFECT_CLIENT_CUSTOM_HEADERS)', async () => {
    const result = await run('python', ['flows.py'], {
      PREFECT_API_KEY: keys.developer,
      PREFECT_CLIENT_CUSTOM_HEADERS: JSON.stringify({ Authorization: `Bearer ${keys.developer}` }),
    });
    expect(result.stdout).toContain('STATE COMPLETED');
    const states = await eventually(() => taskRunStates(flowRunId(result)), (s) => s.length === 3 && s.every((t) => t === 'COMPLETED'));
    expect(states).toHaveLength(3);
  });

  it('3. a read-only key lists flows and deployments, and cannot run a deployment or create a variable', async () => {
    const setup = await run('python', ['setup_deployment.py', FLOWS_DIR], asKey(keys.developer));
    expect(setup.stdout).toContain('DEPLOYMENT_ID');

    const flows = await run('prefect', ['flow', 'ls'], asKey(keys.viewer));
    expect(flows.code).toBe(0);
    expect(flows.stdout).toContain('proxy-e2e');
    const deployments = await run('prefect', ['deployment', 'ls'], asKey(keys.viewer));
    expect(deployments.code).toBe(0);
    expect(deployments.stdout).toContain('nightly');

    const before = (await api('/flow_runs/filter', {}) as unknown[]).length;
    const runIt = await run('prefect', ['deployment', 'run', 'proxy-e2e/nightly'], asKey(keys.viewer));
    expect(runIt.code).not.toBe(0);
    expect(runIt.stdout + runIt.stderr).toContain('lacks permission: write/deployments/create_flow_run');
    const variable = await run('prefect', ['variable', 'set', 'region', 'eu'], asKey(keys.viewer));
    expect(variable.code).not.toBe(0);
    expect(variable.stdout + variable.stderr).toContain('lacks permission: write/variables/create');

    expect((await api('/flow_runs/filter', {}) as unknown[]).length).toBe(before);
    expect(await api('/variables/filter', {})).toEqual([]);
  });

  it('5. the stock web UI asks for a key, logs in with a valid one, and shows a read-only key why it may not run', async () => {
    const artifacts = join(__dirname, '..', 'artifacts');
    mkdirSync(artifacts, { recursive: true });
    const { name } = await api(`/flow_runs/${firstFlowRunId}`) as { name: string };
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${proxy.url}/`);
      await page.waitForURL(/\/login/, { timeout: 20_000 });
      await page.locator('input[type=password]').waitFor();
      await page.fill('input[type=password]', 'not-a-valid-key-1');
      await page.click('button:has-text("Login")');
      await page.waitForTimeout(1500);
      expect(page.url()).toContain('/login');

      await page.fill('input[type=password]', keys.developer);
      await page.click('button:has-text("Login")');
      await page.waitForURL(/dashboard/, { timeout: 20_000 });
      await page.goto(`${proxy.url}/v2/runs`, { waitUntil: 'networkidle' });
      await page.getByText(name).first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(artifacts, 'prefect3-ui-runs.png') });
      await page.click('text=Logout');

      await page.goto(`${proxy.url}/v2/login`, { waitUntil: 'networkidle' });
      await page.fill('input[type=password]', keys.viewer);
      await page.click('button:has-text("Login")');
      await page.waitForURL(/dashboard/, { timeout: 20_000 });
      const before = (await api('/flow_runs/filter', {}) as unknown[]).length;
      await page.goto(`${proxy.url}/v2/deployments`, { waitUntil: 'networkidle' });
      await page.click('text=nightly');
      await page.click('button:has-text("Run")');
      await page.click('text=Quick run');
      await page.getByText('lacks permission: write/deployments/create_flow_run').first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(artifacts, 'prefect3-ui-denied.png') });
      expect((await api('/flow_runs/filter', {}) as unknown[]).length).toBe(before);

      // The older Vue UI (chosen by cookie) asks for a key on its own login page too.
      const v1 = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await v1.addCookies([{ name: 'prefect_ui_version', value: 'v1', url: proxy.url }]);
      const old = await v1.newPage();
      await old.goto(`${proxy.url}/`);
      await old.waitForURL(/\/login/, { timeout: 20_000 });
      await old.fill('input[type=password]', keys.developer);
      await old.keyboard.press('Enter');
      await old.getByText('Task Runs').first().waitFor({ timeout: 20_000 });
      expect(old.url()).toContain('/dashboard');
      await old.screenshot({ path: join(artifacts, 'prefect3-ui-v1-dashboard.png') });
    });
  });

  it('4. a worker with a worker-scoped key picks up and runs a deployment run started by a runner key', async () => {
    const started = await run('prefect', ['deployment', 'run', 'proxy-e2e/nightly'], asKey(keys.runner));
    expect(started.code).toBe(0);
    const id = /UUID:\s*(\S+)/.exec(started.stdout)?.[1] ?? /([0-9a-f]{8}-[0-9a-f-]{27})/.exec(started.stdout)?.[1];
    expect(id).toBeDefined();
    const worker = await run('prefect', ['worker', 'start', '--pool', 'pool-a', '--type', 'process', '--run-once'], asKey(keys.worker));
    const state = await eventually(async () => (await api(`/flow_runs/${id}`) as { state: { type: string } }).state.type, (s) => s === 'COMPLETED', 90_000);
    if (state !== 'COMPLETED') console.log(worker.stdout.slice(-3000), worker.stderr.slice(-3000));
    expect(state).toBe('COMPLETED');
    const blocked = proxy.auditLines().filter((l) => l.user === 'worker' && l.outcome === 'BLOCKED');
    expect(blocked).toEqual([]);
  });

  it('4b. a runner key cannot make a worker run another command: `deployment run --job-variable` is refused and no run is created', async () => {
    const before = await api('/flow_runs/count', {}) as number;
    const refused = await run('prefect', ['deployment', 'run', 'proxy-e2e/nightly', '--job-variable', 'command="env"'], asKey(keys.runner));
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('lacks permission: write/flow_runs/job_variables');
    expect(await api('/flow_runs/count', {})).toBe(before);
    // Cancelling is what a runner may do to a run; marking it COMPLETED is not.
    const started = await run('prefect', ['deployment', 'run', 'proxy-e2e/nightly'], asKey(keys.runner));
    const id = /UUID:\s*(\S+)/.exec(started.stdout)?.[1] ?? /([0-9a-f]{8}-[0-9a-f-]{27})/.exec(started.stdout)?.[1];
    const cancel = await run('prefect', ['flow-run', 'cancel', id as string], asKey(keys.runner));
    expect(cancel.code).toBe(0);
    const state = await eventually(async () => (await api(`/flow_runs/${id}`) as { state: { type: string } }).state.type, (s) => s === 'CANCELLED', 30_000);
    expect(state).toBe('CANCELLED');
  });

  it('6. the protected server refuses requests that do not come through the proxy', async () => {
    const anonymous = await fetch(`${server.url}/api/flows/filter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    const userKey = await fetch(`${server.url}/api/flows/filter`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(keys.developer).toString('base64')}` }, body: '{}',
    });
    expect(userKey.status).toBe(401);
  });
});
