import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildRoleTable } from '../../src/authz';
import { createKeyAdmin } from '../../src/storage';
import { withBrowser } from '../support/browser';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase } from '../support/databases';
import { closedPort } from '../support/ports';
import type { PrefectServer } from '../support/prefect3-server';
import { startPrefectServer } from '../support/prefect3-server';
import type { TestProxy } from '../support/proxy';
import { startTestProxy } from '../support/proxy';
import { ensureVenv } from '../support/python-venv';

jest.setTimeout(600_000);

const ARTIFACTS = join(__dirname, '..', 'artifacts');
const FLOWS_DIR = join(__dirname, 'flows');
const QUIET_SERVER = {
  PREFECT_API_SERVICES_SCHEDULER_ENABLED: 'false',
  PREFECT_API_SERVICES_LATE_RUNS_ENABLED: 'false',
  PREFECT_API_SERVICES_FLOW_RUN_NOTIFICATIONS_ENABLED: 'false',
  PREFECT_API_SERVICES_PAUSE_EXPIRATIONS_ENABLED: 'false',
  PREFECT_API_SERVICES_CANCELLATION_CLEANUP_ENABLED: 'false',
  PREFECT_API_SERVICES_FOREMAN_ENABLED: 'false',
};

/**
 * The Prefect 2.20 web UI has no login and sends no credential: behind the proxy it only works with
 * a session. A person signs in with their key on the proxy's page, in a real Chromium.
 */
describe('the Prefect 2.20 web UI with key sign-in', () => {
  let server: PrefectServer;
  let db: TestDatabase;
  let proxy: TestProxy;
  const keys = { developer: '', viewer: '' };
  let deploymentId = '';
  let runName = '';

  beforeAll(async () => {
    server = await startPrefectServer(ensureVenv('prefect2'), undefined, QUIET_SERVER);
    db = await createTestDatabase('sqlite', 'prefect2_ui');
    const admin = createKeyAdmin(db.knex, 'sqlite', buildRoleTable());
    for (const role of Object.keys(keys) as Array<keyof typeof keys>) keys[role] = (await admin.create({ user: role, scopes: `role:${role}`, by: 'test' })).key;
    const port = await closedPort();
    proxy = await startTestProxy({
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: server.url, LOG_LEVEL: 'info', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, SIGN_IN: 'key',
    });
    const call = async <T>(path: string, body: unknown): Promise<T> => {
      const res = await fetch(`${proxy.url}/api${path}`, { method: 'POST', headers: { authorization: `Bearer ${keys.developer}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<T>;
    };
    await call('/work_pools/', { name: 'pool-a', type: 'process' });
    const flow = await call<{ id: string }>('/flows/', { name: 'proxy-e2e' });
    deploymentId = (await call<{ id: string }>('/deployments/', { name: 'nightly', flow_id: flow.id, work_pool_name: 'pool-a', entrypoint: 'flows.py:main', path: FLOWS_DIR })).id;
    runName = (await call<{ name: string }>(`/deployments/${deploymentId}/create_flow_run`, {})).name;
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    await db?.drop();
  });

  const countRuns = async () => {
    const res = await fetch(`${proxy.url}/api/flow_runs/count`, { method: 'POST', headers: { authorization: `Bearer ${keys.developer}`, 'content-type': 'application/json' }, body: '{}' });
    return res.json() as Promise<number>;
  };

  it('signs in with a key on the proxy\'s page, shows flows and runs, and a viewer the proxy\'s reason for a refused run', async () => {
    const before = await countRuns();
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const sentKeys: string[] = [];
      page.on('request', (r) => {
        if (r.headers().authorization) sentKeys.push(r.url());
      });
      await page.goto(`${proxy.url}/flows`);
      await page.waitForURL(/\/auth\/login\?next=%2Fflows/);
      await page.fill('#key', 'not-a-valid-key-0001');
      await page.click('button:has-text("Sign in with a key")');
      await page.getByText('That key is not valid').waitFor();

      await page.fill('#key', keys.viewer);
      await page.click('button:has-text("Sign in with a key")');
      await page.waitForURL(`${proxy.url}/flows`);
      await page.getByText('proxy-e2e').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'prefect2-ui-flows.png') });
      await page.goto(`${proxy.url}/flow-runs`);
      await page.getByText(runName).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'prefect2-ui-runs.png') });

      await page.goto(`${proxy.url}/deployments/deployment/${deploymentId}`);
      await page.click('button:has-text("Run")');
      await page.click('text=Quick run');
      await page.getByText('lacks permission: write/deployments/create_flow_run').first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'prefect2-ui-denied.png') });
      expect(sentKeys).toEqual([]);
    });
    expect(await countRuns()).toBe(before);
    expect(proxy.rawLogs()).not.toContain(keys.viewer);
    expect(proxy.auditLines()).toEqual(expect.arrayContaining([
      expect.objectContaining({ user: 'viewer', outcome: 'BLOCKED', operationName: '/deployments/{id:uuid}/create_flow_run' }),
    ]));
  });
});
