import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { TcpRelay } from '../support/tcp-relay';
import { startTcpRelay } from '../support/tcp-relay';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';
import { useProxyStack } from '../support/stack';

const query = (url: string, key: string) =>
  request(url).post('/').set({ 'content-type': 'application/json', authorization: `Bearer ${key}` }).send('{"query":"{ flow { id } }"}');

describe('key store outage (PostgreSQL behind a relay the test can cut)', () => {
  let upstream: RecordingUpstream;
  let db: TestDatabase;
  let relay: TcpRelay;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    relay = await startTcpRelay(5432);
    db = await createTestDatabase('postgres', 'outage', relay.port);
    await insertKey(db, { userId: 'cached', scopes: 'query/*', key: 'cached-key-1', hashed: true });
    await insertKey(db, { userId: 'uncached', scopes: 'query/*', key: 'uncached-key-2', hashed: true });
    proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: upstream.url, DB_TIMEOUT: '2' });
  });

  afterAll(async () => {
    await proxy.stop();
    await relay.close();
    await upstream.close();
    await db.drop();
  });

  it('keeps cached keys working, answers 503 for the rest, lets nothing through, and recovers', async () => {
    expect((await query(proxy.url, 'cached-key-1')).status).toBe(200);
    expect((await request(proxy.url).get('/readyz')).body).toEqual({ status: 'ready', keyStore: 'ok', upstream: 'ok' });
    relay.cut();
    const notReady = await request(proxy.url).get('/readyz');
    expect(notReady.status).toBe(503);
    expect(notReady.body.keyStore).toMatch(/^unavailable/);
    expect(notReady.body.detail).toMatch(/^not ready: key store unavailable/);
    upstream.received.length = 0;

    expect((await query(proxy.url, 'cached-key-1')).status).toBe(200);
    const uncached = await query(proxy.url, 'uncached-key-2');
    expect(uncached.status).toBe(503);
    expect(uncached.body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect((await query(proxy.url, 'never-a-key')).status).toBe(503);
    expect(upstream.received).toHaveLength(1);

    relay.restore();
    expect((await request(proxy.url).get('/readyz')).status).toBe(200);
    expect((await query(proxy.url, 'uncached-key-2')).status).toBe(200);
    expect((await query(proxy.url, 'never-a-key')).status).toBe(401);
    expect(proxy.rawLogs()).not.toMatch(/cached-key|never-a-key/);
  });
});

describe('upstream failures', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite', 'upstream_failures');
    await insertKey(db, { userId: 'u', scopes: '*', key: 'any-key-1' });
  });
  afterAll(() => db.drop());

  it('answers 502 in GraphQL form when the upstream is down', async () => {
    const proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: 'http://127.0.0.1:9' });
    const res = await query(proxy.url, 'any-key-1');
    expect(res.status).toBe(502);
    expect(res.body.errors[0].extensions.code).toBe('BAD_GATEWAY');
    // An allowed mutation the upstream could not take is an error in the audit trail, not an allow.
    const mutation = await request(proxy.url).post('/').set('authorization', 'Bearer any-key-1').type('json')
      .send({ query: 'mutation { create_flow_run(input: {flow_id: "f"}) { id } }' });
    expect(mutation.status).toBe(502);
    await waitFor(() => proxy.auditLines().some((l) => l.operationType === 'mutation'));
    expect(proxy.auditLines().find((l) => l.operationType === 'mutation')).toMatchObject({ outcome: 'ERROR', status: 502 });
    const ready = await request(proxy.url).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ keyStore: 'ok', upstream: 'unavailable' });
    await proxy.stop();
  });

  it('answers 504 when the upstream hangs past UPSTREAM_TIMEOUT', async () => {
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`, UPSTREAM_TIMEOUT: '1' });
    const res = await query(proxy.url, 'any-key-1');
    expect(res.status).toBe(504);
    expect(res.body.errors[0].extensions.code).toBe('GATEWAY_TIMEOUT');
    await proxy.stop();
    hanging.closeAllConnections();
    hanging.close();
  });
});

describe('ALLOW_PUBLIC_ACCESS', () => {
  const stack = useProxyStack({
    name: 'public_access',
    keys: [{ userId: 'reader', scopes: 'query/*', key: 'reader-key-1' }],
    env: { ALLOW_PUBLIC_ACCESS: 'true' },
  });

  it('forwards keyless requests and audits their mutations as made without a key', async () => {
    const res = await request(stack.proxy.url).post('/').set('content-type', 'application/json').send('{"query":"mutation { create_flow_run(input: {}) { id } }"}');
    expect(res.status).toBe(200);
    expect(stack.upstream.received).toHaveLength(1);
    await waitFor(() => stack.proxy.auditLines().length > 0);
    expect(stack.proxy.auditLines().at(-1)).toMatchObject({ outcome: 'ALLOWED', user: null, message: expect.stringMatching(/ALLOWED mutation create_flow_run without a key$/) });
  });

  it('still checks requests that carry a key, and still refuses bad keys', async () => {
    stack.upstream.received.length = 0;
    const denied = await request(stack.proxy.url).post('/').set({ 'content-type': 'application/json', authorization: 'Bearer reader-key-1' }).send('{"query":"mutation { create_flow_run(input: {}) { id } }"}');
    expect(denied.status).toBe(403);
    expect((await query(stack.proxy.url, 'wrong-key')).status).toBe(401);
    expect(stack.upstream.received).toHaveLength(0);
  });

  it('never opens the admin routes', async () => {
    expect((await request(stack.proxy.url).post('/cache/reset')).status).toBe(401);
  });
});

describe('log level override', () => {
  it('switches the level for LOG_LEVEL_OVERRIDE_DURATION seconds, then goes back', async () => {
    const db = await createTestDatabase('sqlite', 'log_override');
    await insertKey(db, { userId: 'admin', scopes: 'admin/logs', key: 'admin-key-1' });
    const proxy = await startTestProxy({ ...db.env, LOG_LEVEL: 'warn', LOG_LEVEL_OVERRIDE_DURATION: '1' });
    const res = await request(proxy.url).post('/logs/debug').set('authorization', 'Bearer admin-key-1');
    expect(res.status).toBe(200);
    expect(proxy.runtime.logger.level).toBe('debug');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(proxy.runtime.logger.level).toBe('warn');
    await proxy.stop();
    await db.drop();
  });
});
