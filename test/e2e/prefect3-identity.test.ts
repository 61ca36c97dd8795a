import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildRoleTable } from '../../src/authz';
import { createKeyAdmin } from '../../src/storage';
import { withBrowser } from '../support/browser';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase } from '../support/databases';
import type { TestOidcProvider } from '../support/oidc-provider';
import { startOidcProvider } from '../support/oidc-provider';
import type { Run } from '../support/prefect-client';
import { eventually, runPrefect } from '../support/prefect-client';
import type { PrefectServer } from '../support/prefect3-server';
import { startPrefectServer } from '../support/prefect3-server';
import { closedPort } from '../support/ports';
import type { TestProxy } from '../support/proxy';
import { startTestProxy } from '../support/proxy';
import { ensureVenv } from '../support/python-venv';

jest.setTimeout(600_000);

const SERVER_AUTH = 'server-only-secret-identity';
const FLOWS_DIR = join(__dirname, 'flows');
const ARTIFACTS = join(__dirname, '..', 'artifacts');

/**
 * People and machines without pasted keys, with the real Prefect 3.8.8 server, UI, client and worker:
 * a person signs in through a real OpenID Provider's login form; machines present the provider's
 * client-credentials tokens where a key would go.
 */
describe('Prefect 3 with sign-in and machine tokens', () => {
  let bin: string;
  let server: PrefectServer;
  let db: TestDatabase;
  let op: TestOidcProvider;
  let proxy: TestProxy;
  /** A second instance on the same key store, as behind a load balancer. */
  let other: TestProxy;
  let developerKey = '';

  beforeAll(async () => {
    bin = ensureVenv('prefect3');
    server = await startPrefectServer(bin, SERVER_AUTH);
    db = await createTestDatabase('sqlite', 'prefect3_identity');
    developerKey = (await createKeyAdmin(db.knex, 'sqlite', buildRoleTable()).create({ user: 'developer', scopes: 'role:developer', by: 'test' })).key;
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    op = await startOidcProvider({
      webClients: [{ clientId: 'proxy', clientSecret: 'proxy-secret', redirectUris: [`${url}/auth/callback`], postLogoutRedirectUris: [`${url}/auth/login`] }],
      machineClients: [
        { clientId: 'etl', clientSecret: 'etl-secret', accessTokenAlg: 'ES256', extraClaims: { repository: 'acme/etl' } },
        { clientId: 'worker-a', clientSecret: 'worker-secret', extraClaims: { 'kubernetes.io': { namespace: 'prefect', serviceaccount: { name: 'worker-a' } } } },
      ],
      users: {
        vera: { email: 'vera@example.test', groups: ['prefect-viewers'] },
        dana: { email: 'dana@example.test', groups: ['prefect-developers'] },
      },
    });
    const issuers = join(mkdtempSync(join(tmpdir(), 'issuers-')), 'issuers.json');
    writeFileSync(issuers, JSON.stringify({
      issuers: [{
        name: 'platform', issuer: op.issuer, audiences: [op.audience], algorithms: ['RS256', 'ES256'], subjectClaim: 'client_id',
        roles: [
          { when: { repository: 'acme/etl' }, grant: 'developer' },
          { when: { 'kubernetes.io.serviceaccount.name': 'worker-a' }, grant: 'worker' },
        ],
      }],
    }));
    const env = {
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: server.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, LOG_LEVEL: 'info',
      PUBLIC_URL: url, SIGN_IN: 'key,oidc', SESSION_SECRET: 'a-test-secret-of-at-least-32-characters',
      OIDC_ISSUER_URL: op.issuer, OIDC_CLIENT_ID: 'proxy', OIDC_CLIENT_SECRET: 'proxy-secret', OIDC_SCOPES: 'openid email profile groups',
      OIDC_GROUP_ROLES: '{"prefect-viewers": "viewer", "prefect-developers": "developer"}',
      TRUSTED_ISSUERS_FILE: issuers, KEY_CHANGE_POLL_INTERVAL: '1',
    };
    proxy = await startTestProxy({ ...env, PORT: String(port) });
    other = await startTestProxy(env);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await other?.stop();
    await proxy?.stop();
    await op?.stop();
    await server?.stop();
    await db?.drop();
  });

  const run = (command: string, args: string[], env: Record<string, string>): Promise<Run> =>
    runPrefect(bin, `${proxy.url}/api`, command, args, env, FLOWS_DIR);
  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${proxy.url}/api${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${developerKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return res.json() as Promise<T>;
  };
  const flowRunState = async (id: string) => (await api<{ state: { type: string } }>(`/flow_runs/${id}`)).state.type;
  const flowRunEvents = async (id: string) => {
    const page = await api<{ events: Array<{ event: string }> }>('/events/filter', { filter: { any_resource: { id: [`prefect.flow-run.${id}`] } }, limit: 50 });
    return page.events.map((e) => e.event);
  };

  it('runs a flow with a machine token as PREFECT_API_AUTH_STRING: completed, events over the websocket, audited as the machine', async () => {
    const token = await op.clientCredentialsToken('etl');
    const result = await run('python', ['flows.py'], { PREFECT_API_AUTH_STRING: token });
    expect(result.stdout).toContain('STATE COMPLETED');
    const id = /FLOW_RUN_ID (\S+)/.exec(result.stdout)?.[1] ?? '';
    const events = await eventually(() => flowRunEvents(id), (e) => e.includes('prefect.flow-run.Completed'));
    expect(events).toContain('prefect.flow-run.Completed');
    const audit = proxy.auditLines().filter((l) => l.user === 'platform:etl');
    expect(audit).toEqual(expect.arrayContaining([
      expect.objectContaining({ outcome: 'ALLOWED', operationType: 'WEBSOCKET', operationName: '/events/in' }),
      expect.objectContaining({ outcome: 'ALLOWED', operationType: 'POST', operationName: '/flow_runs/' }),
    ]));
    expect(proxy.rawLogs()).not.toContain(token);
  });

  it('lets a worker with a token pick up a deployment run and run it to COMPLETED, its events reaching the server', async () => {
    const setup = await run('python', ['setup_deployment.py', FLOWS_DIR], { PREFECT_API_KEY: developerKey });
    expect(setup.stdout).toContain('DEPLOYMENT_ID');
    const started = await run('prefect', ['deployment', 'run', 'proxy-e2e/nightly'], { PREFECT_API_KEY: developerKey });
    const id = /UUID:\s*(\S+)/.exec(started.stdout)?.[1] ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const token = await op.clientCredentialsToken('worker-a');
    // Prefect 3's self-hosted events client authenticates its websocket with the auth string only;
    // a Bearer header for the websocket comes from PREFECT_CLIENT_CUSTOM_HEADERS.
    const worker = await run('prefect', ['worker', 'start', '--pool', 'pool-a', '--type', 'process', '--run-once'], {
      PREFECT_API_KEY: token, PREFECT_CLIENT_CUSTOM_HEADERS: JSON.stringify({ Authorization: `Bearer ${token}` }),
    });
    const state = await eventually(() => flowRunState(id), (s) => s === 'COMPLETED', 90_000);
    if (state !== 'COMPLETED') console.log(worker.stdout.slice(-3000), worker.stderr.slice(-3000));
    expect(state).toBe('COMPLETED');
    expect(await eventually(() => flowRunEvents(id), (e) => e.includes('prefect.flow-run.Completed'))).toContain('prefect.flow-run.Completed');
    const machine = proxy.auditLines().filter((l) => l.user === 'platform:worker-a');
    expect(machine.filter((l) => l.outcome === 'BLOCKED')).toEqual([]);
    expect(machine).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'ALLOWED', operationType: 'WEBSOCKET', operationName: '/events/in' })]));
  });

  it('signs a person in through the provider\'s form into the Prefect 3 UI, shows a viewer the proxy\'s reason, and signs out', async () => {
    const before = (await api<unknown[]>('/flow_runs/filter', {})).length;
    await withBrowser(async (browser) => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const apiCredentials: string[] = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname.startsWith('/api/') && r.headers().authorization) apiCredentials.push(r.headers().authorization as string);
      });
      await page.goto(`${proxy.url}/flows`);
      await page.waitForURL(/\/auth\/login\?next=%2Fflows/);
      await page.click('text=Sign in with your identity provider');
      await signInAtProvider(page, 'vera');
      await page.waitForURL(`${proxy.url}/flows`, { timeout: 20_000 });
      await page.getByText('proxy-e2e').first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'prefect3-sso-flows.png') });

      await page.goto(`${proxy.url}/deployments`, { waitUntil: 'networkidle' });
      await page.click('text=nightly');
      await page.click('button:has-text("Run")');
      await page.click('text=Quick run');
      await page.getByText('lacks permission: write/deployments/create_flow_run').first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'prefect3-sso-denied.png') });
      expect(apiCredentials).toEqual([]);

      const me = await (await page.request.get(`${proxy.url}/auth/me`)).json() as { user: string; roles: string[] };
      expect(me).toMatchObject({ user: 'vera@example.test', roles: ['viewer'] });

      await page.goto(`${proxy.url}/auth/logout`);
      await page.click('button:has-text("Sign out")');
      // The provider asks whether to end its own session too.
      await page.locator('button[autofocus], button:has-text("Yes")').first().click();
      await page.waitForURL(/\/auth\/login/, { timeout: 20_000 });
      await page.goto(`${proxy.url}/dashboard`);
      await page.waitForURL(/\/auth\/login\?next=%2Fdashboard/);
      expect((await page.request.get(`${proxy.url}/api/flows/filter`)).status()).toBe(401);
      await page.screenshot({ path: join(ARTIFACTS, 'prefect3-sso-signed-out.png') });
    });
    expect((await api<unknown[]>('/flow_runs/filter', {})).length).toBe(before);
    const audit = proxy.auditLines().filter((l) => l.user === 'vera@example.test');
    expect(audit).toEqual(expect.arrayContaining([
      expect.objectContaining({ outcome: 'BLOCKED', operationName: '/deployments/{id:uuid}/create_flow_run' }),
    ]));
  });

  it('serves the other UI generation (React, under /v2) with a key sign-in session too', async () => {
    await withBrowser(async (browser) => {
      const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
      await page.goto(`${proxy.url}/v2/runs`);
      await page.waitForURL(/\/auth\/login\?next=%2Fv2%2Fruns/);
      await page.fill('#key', developerKey);
      await page.click('button:has-text("Sign in with a key")');
      await page.waitForURL(`${proxy.url}/v2/runs`);
      await page.getByText('proxy-e2e').first().waitFor({ timeout: 20_000 });
      await page.screenshot({ path: join(ARTIFACTS, 'prefect3-ui-v2-session.png') });
    });
  });

  it('lets a person make a key on "My access", use it with the real CLI, and revoke it: refused on every instance', async () => {
    await withBrowser(async (browser) => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: proxy.url });
      const page = await context.newPage();
      await page.goto(`${proxy.url}/auth/access`);
      await page.click('text=Sign in with your identity provider');
      await signInAtProvider(page, 'dana');
      await page.waitForURL(`${proxy.url}/auth/access`);
      await page.getByText('Signed in as').waitFor();
      await page.fill('#name', 'laptop');
      await page.selectOption('#role', 'viewer');
      await page.selectOption('#lifetime', '7');
      await page.click('button:has-text("Make key")');
      await page.click('#copy-key');
      await page.getByText('Copied').waitFor();
      const key = String(await page.evaluate('navigator.clipboard.readText()'));
      expect(key).toMatch(/^pap_/);
      await page.click('#copy-env');
      const lines = String(await page.evaluate('navigator.clipboard.readText()'));
      expect(lines).toContain(`export PREFECT_API_AUTH_STRING=${key}`);
      await page.screenshot({ path: join(ARTIFACTS, 'my-access-key-made.png') });

      // The lines as pasted: the real CLI, on both instances.
      const asPasted = { PREFECT_API_AUTH_STRING: key };
      for (const instance of [proxy, other]) {
        const flows = await runPrefect(bin, `${instance.url}/api`, 'prefect', ['flow', 'ls'], asPasted, FLOWS_DIR);
        expect(flows.stdout).toContain('proxy-e2e');
      }
      const denied = await run('prefect', ['variable', 'set', 'region', 'eu'], asPasted);
      expect(denied.stdout + denied.stderr).toContain('API key of user dana@example.test/laptop lacks permission: write/variables/create');

      await page.click('button[aria-label="Revoke laptop"]');
      await page.getByText('Key "laptop" revoked').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'my-access-key-revoked.png') });
      for (const instance of [proxy, other]) {
        const refused = await eventually(
          () => runPrefect(bin, `${instance.url}/api`, 'prefect', ['flow', 'ls'], asPasted, FLOWS_DIR),
          (r) => r.code !== 0, 10_000,
        );
        expect(refused.code).not.toBe(0);
        expect(refused.stdout + refused.stderr).toMatch(/401|nauthori[sz]ed|invalid or expired/i);
      }
    });
  });
});

/** oidc-provider's development login and consent pages. */
async function signInAtProvider(page: Page, user: string): Promise<void> {
  await page.fill('input[name=login]', user);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  const consent = page.locator('button:has-text("Continue")');
  if (await consent.isVisible({ timeout: 5_000 }).catch(() => false)) await consent.click();
}
