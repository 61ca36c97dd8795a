import request from 'supertest';
import { runCli } from '../support/cli';
import type { DbKind } from '../support/databases';
import { DB_KINDS } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';
import { useProxyStack } from '../support/stack';
import { closedPort } from '../support/ports';

/** Looks like a legacy plaintext key or a mistyped one: the `pap_` redaction does not know it. */
const PRESENTED = 'tEsT-Secret-123';

const query = (url: string, key: string) =>
  request(url).post('/').set({ 'content-type': 'application/json', authorization: `Bearer ${key}` }).send('{"query":"{ flow { id } }"}');

describe.each(DB_KINDS)('key store on %s, hardened', (kind: DbKind) => {
  const stack = useProxyStack({
    kind,
    name: `hardening_${kind}`,
    keys: [
      { userId: 'plain', scopes: 'query/*', key: 'TestKey001' },
      { userId: 'hashed', scopes: 'query/*', key: 'HashedKey002', hashed: true },
      { userId: 'admin', scopes: 'admin/keys', key: 'admin-key-0003', hashed: true },
    ],
  });

  // The shipped MySQL schema is the original's: latin1, whose default collation ignores case.
  it.each([
    ['TestKey001', 200],
    ['tEsTkEy001', 401],
    ['TESTKEY001', 401],
    ['testkey001', 401],
    ['HashedKey002', 200],
    ['hashedkey002', 401],
  ])('compares a presented key exactly: %s gets %i', async (key, status) => {
    stack.upstream.received.length = 0;
    expect((await query(stack.proxy.url, key)).status).toBe(status);
    expect(stack.upstream.received).toHaveLength(status === 200 ? 1 : 0);
  });

  it('never logs nor answers the presented key or the statement when a lookup fails', async () => {
    expect((await request(stack.proxy.url).get('/admin/keys').set('authorization', 'Bearer admin-key-0003')).status).toBe(200);
    await stack.db.knex.schema.renameTable('prefect_api_keys', 'prefect_api_keys_away');
    try {
      const lookup = await query(stack.proxy.url, PRESENTED);
      // A binding of an admin query: the user id in the path.
      const admin = await request(stack.proxy.url).get(`/admin/keys/${PRESENTED}`).set('authorization', 'Bearer admin-key-0003');
      for (const text of [lookup.text, admin.text, stack.proxy.rawLogs()]) {
        expect(text).not.toContain(PRESENTED);
        expect(text).not.toMatch(/select|prefect_api_keys_away/i);
      }
      expect(lookup.status).toBe(503);
      expect(admin.status).toBe(503);
      // The CLI (built in dist/) prints one line for a failed query: the code, not the statement.
      const cli = await runCli(['keys', 'show', '--user', PRESENTED], stack.db.env);
      expect(cli.code).toBe(1);
      expect(cli.stderr).not.toContain(PRESENTED);
      expect(cli.stderr).toMatch(/ER_NO_SUCH_TABLE|42P01|SQLITE_ERROR/);
      expect(stack.proxy.logs).toContainEqual(expect.objectContaining({
        message: 'key lookup failed',
        reason: expect.stringMatching(/^(ER_NO_SUCH_TABLE|42P01|SQLITE_ERROR) \((table missing|no such table)\)$/),
      }));
    } finally {
      await stack.db.knex.schema.renameTable('prefect_api_keys_away', 'prefect_api_keys');
    }
  });
});

describe('/readyz when the key store is down', () => {
  let upstream: RecordingUpstream;
  beforeAll(async () => {
    upstream = await startRecordingUpstream();
  });
  afterAll(() => upstream.close());

  it.each([
    ['MySQL on a closed port', async (port: number) => `mysql://someuser:hunter2@127.0.0.1:${port}/pap`, /ECONNREFUSED/],
    ['PostgreSQL on a closed port', async (port: number) => `postgres://someuser:hunter2@127.0.0.1:${port}/pap`, /ECONNREFUSED/],
    ['MariaDB refusing the user', async () => 'mysql://someuser:hunter2@127.0.0.1:3306/pap', /ER_ACCESS_DENIED_ERROR/],
    ['PostgreSQL not knowing the user', async () => 'postgres://someuser:hunter2@127.0.0.1:5432/pap', /^28/],
  ])('%s: says which dependency is down, logs why', async (_name, url, reason) => {
    const port = await closedPort();
    const proxy: TestProxy = await startTestProxy({ DATABASE_URL: await url(port), API_SERVICE_URL: upstream.url, DB_TIMEOUT: '2' });
    try {
      const res = await request(proxy.url).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ detail: 'not ready: key store unavailable', keyStore: 'unavailable', upstream: 'ok' });
      await waitFor(() => proxy.logs.some((l) => l.message === 'not ready'));
      const logged = proxy.logs.find((l) => l.message === 'not ready') as { level: string; reasons: { keyStore: string } };
      expect(logged.level).toBe('warn');
      expect(logged.reasons.keyStore).toMatch(reason);
      expect(proxy.rawLogs()).not.toContain('hunter2');
      // Probes come every few seconds: the same reason is logged once.
      await request(proxy.url).get('/readyz');
      expect(proxy.logs.filter((l) => l.message === 'not ready')).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });

  it('says only "unavailable" for the upstream too', async () => {
    const port = await closedPort();
    const proxy = await startTestProxy({ DB_TYPE: 'sqlite', DB_FILENAME: ':memory:', API_SERVICE_URL: `http://127.0.0.1:${port}` });
    try {
      const res = await request(proxy.url).get('/readyz');
      expect(res.body).toEqual({ detail: 'not ready: upstream unavailable', keyStore: 'ok', upstream: 'unavailable' });
      expect(res.text).not.toContain(String(port));
      await waitFor(() => proxy.logs.some((l) => l.message === 'not ready'));
      expect(proxy.logs.find((l) => l.message === 'not ready')).toMatchObject({ reasons: { upstream: 'unreachable: ECONNREFUSED' } });
    } finally {
      await proxy.stop();
    }
  });
});
