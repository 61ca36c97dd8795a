import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import { ensureVenv } from '../support/python-venv';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';

const run = promisify(execFile);
const TENANT = '2b9d0c55-0f49-4ac2-9a5f-6a1f0e5c1d11';
const ROLES = ['viewer', 'runner', 'worker', 'developer'];

jest.setTimeout(300_000);

/** The real Prefect 1.4.1 CLI in Cloud mode, pointed at the proxy, in front of a stub Prefect server. */
describe('Prefect 1 CLI through the proxy', () => {
  let bin: string;
  let upstream: RecordingUpstream;
  let db: TestDatabase;
  let proxy: TestProxy;
  let home: string;

  beforeAll(async () => {
    bin = ensureVenv('prefect1');
    upstream = await startRecordingUpstream();
    upstream.respondWith((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { project: [{ name: 'etl', created: '2026-01-01T00:00:00+00:00', description: 'nightly', flows_aggregate: { aggregate: { count: 3 } } }] } }));
    });
    db = await createTestDatabase('sqlite', 'prefect1_cli');
    await insertKey(db, { userId: 'alice', scopes: 'query/*', key: 'alice-cli-key-01', hashed: true });
    for (const role of ROLES) await insertKey(db, { userId: role, scopes: `role:${role}`, key: `${role}-cli-key-01`, hashed: true });
    await insertKey(db, { userId: 'bot', scopes: 'mutation/create_flow_run', key: 'bot-cli-key-01', hashed: true });
    proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: upstream.url, TENANT_ID: TENANT, TENANT_NAME: 'Data Team', TENANT_SLUG: 'data-team' });
    home = mkdtempSync(join(tmpdir(), 'prefect1-home-'));
  });

  afterAll(async () => {
    await proxy?.stop();
    await upstream?.close();
    await db?.drop();
  });

  const prefect = (...args: string[]) =>
    run(join(bin, 'prefect'), args, {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        PREFECT__BACKEND: 'cloud',
        PREFECT__CLOUD__API: proxy.url,
        PREFECT__CLOUD__ENDPOINT: proxy.url,
      },
    });

  it('logs in with `prefect auth login -k` against the emulated Cloud auth', async () => {
    const { stdout } = await prefect('auth', 'login', '-k', 'alice-cli-key-01');
    expect(stdout).toContain("Logged in to Prefect Cloud tenant 'Data Team' (data-team)");
    expect(readFileSync(join(home, '.prefect', 'auth.toml'), 'utf8')).toContain(TENANT);
    expect(upstream.received).toHaveLength(0);
  });

  it('lists projects from the server with `prefect get projects`, without the key reaching it', async () => {
    const { stdout } = await prefect('get', 'projects');
    expect(stdout).toMatch(/etl\s+3/);
    expect(upstream.received).toHaveLength(1);
    const sent = upstream.received[0]!;
    expect(JSON.parse(sent.body).query).toMatch(/project\(where/);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body + JSON.stringify(sent.headers)).not.toContain('alice-cli-key-01');
  });

  it('shows why a read-only key may not create a project, and forwards nothing', async () => {
    upstream.received.length = 0;
    const failure = await prefect('create', 'project', 'new-one').then(() => null, (err: { stderr: string }) => err);
    expect(failure).not.toBeNull();
    expect(failure!.stderr).toContain('403 Client Error: Forbidden (API key of user alice lacks permission: mutation/create_project)');
    expect(upstream.received).toHaveLength(0);
    await waitFor(() => proxy.auditLines().length > 0);
    expect(proxy.auditLines().at(-1)).toMatchObject({ outcome: 'BLOCKED', user: 'alice', fields: ['create_project'] });
  });

  it.each(ROLES)('logs in with a %s key', async (role) => {
    const { stdout } = await prefect('auth', 'login', '-k', `${role}-cli-key-01`);
    expect(stdout).toContain("Logged in to Prefect Cloud tenant 'Data Team' (data-team)");
  });

  it('does not tell the tenant to a key without a query scope', async () => {
    const failure = await prefect('auth', 'login', '-k', 'bot-cli-key-01').then(() => null, (err: { stderr: string }) => err);
    expect(failure!.stderr).toContain('403 Client Error: Forbidden (API key of user bot lacks permission: query/');
    expect(failure!.stderr).not.toContain(TENANT);
  });

  it('refuses a wrong key at login', async () => {
    const failure = await prefect('auth', 'login', '-k', 'not-a-real-key').then(() => null, (err: { stderr: string }) => err);
    expect(failure!.stderr).toContain('401 Client Error: Unauthorized (invalid or expired API key)');
  });
});
