import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import WebSocket, { WebSocketServer } from 'ws';
import { migrateLatest } from '../../src/storage';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';

const SERVER_AUTH = 'upstream-secret-1';
const SERVER_BASIC = `Basic ${Buffer.from(SERVER_AUTH).toString('base64')}`;
const VIEWER = 'viewer-key-0001';
const DEV = 'developer-key-02';
const EVENTS = 'events-key-0003';
const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';

let upstream: RecordingUpstream;
let wsUpstream: WebSocketServer;
let wsReceived: string[];
let db: TestDatabase;
let proxy: TestProxy;

beforeAll(async () => {
  upstream = await startRecordingUpstream();
  upstream.respondWith(restResponder);
  wsReceived = [];
  // A stand-in for the server's websocket handshake: auth message with the raw server string first.
  wsUpstream = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('prefect') ? 'prefect' : false) });
  wsUpstream.on('connection', (socket) => {
    let authed = false;
    socket.on('message', (data) => {
      const text = data.toString();
      if (!authed) {
        const msg = JSON.parse(text) as { type: string; token: string | null };
        if (msg.type !== 'auth' || msg.token !== SERVER_AUTH) return socket.close(1008, 'Invalid token');
        authed = true;
        return socket.send(JSON.stringify({ type: 'auth_success' }));
      }
      wsReceived.push(text);
      socket.send(`echo:${text}`);
    });
  });
  db = await createTestDatabase('sqlite', 'rest_proxy');
  await migrateLatest(db.knex, 'sqlite');
  await insertKey(db, { userId: 'viewer', scopes: 'role:viewer', key: VIEWER, hashed: true });
  await insertKey(db, { userId: 'dev', scopes: 'role:developer', key: DEV, hashed: true });
  await insertKey(db, { userId: 'events', scopes: 'write/events', key: EVENTS, hashed: true });
  await insertKey(db, { userId: 'wslimited', scopes: 'write/events, rate:0.2/1', key: 'ws-limited-key-1', hashed: true });
  await insertKey(db, { userId: 'legacy', scopes: '{"GET": ["/api/flows/*"], "POST": ["/api/flows/filter"]}', key: 'legacy-json-key1', hashed: true });
  proxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, BODY_LIMIT: '1mb' });
});

afterAll(async () => {
  await proxy.stop();
  await upstream.close();
  wsUpstream.close();
  await db.drop();
});

beforeEach(() => {
  upstream.received.length = 0;
});

function restResponder(req: { url: string }, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/ui-settings') {
    res.end(JSON.stringify({ api_url: 'http://127.0.0.1:4200/api', csrf_enabled: false, auth: null, flags: [] }));
    return;
  }
  res.end(JSON.stringify({ ok: true, url: req.url }));
}

const as = (key: string, scheme: 'Bearer' | 'Basic' = 'Bearer') => ({
  authorization: scheme === 'Bearer' ? `Bearer ${key}` : `Basic ${Buffer.from(key).toString('base64')}`,
});

describe('REST requests', () => {
  it('forwards an allowed read with the server credential in place of the key', async () => {
    const res = await request(proxy.url).post('/api/flows/filter').set({ ...as(VIEWER, 'Basic'), 'content-type': 'application/json', 'x-prefect-api-version': '0.8.4' }).send('{"limit":5}');
    expect(res.status).toBe(200);
    const sent = upstream.received[0]!;
    expect(sent.url).toBe('/api/flows/filter');
    expect(sent.headers.authorization).toBe(SERVER_BASIC);
    expect(sent.headers['x-prefect-api-version']).toBe('0.8.4');
    expect(sent.body).toBe('{"limit":5}');
    expect(JSON.stringify(sent.headers)).not.toContain(VIEWER);
  });

  it.each([
    ['no key', {}, 401],
    ['an unknown key', as('nope-nope-nope'), 401],
    ['the server string itself', { authorization: SERVER_BASIC }, 401],
  ])('%s gets %s with a detail and reaches nothing', async (_name, headers, status) => {
    const res = await request(proxy.url).get('/api/flows/' + ID).set(headers);
    expect(res.status).toBe(status);
    expect(res.body.detail).toEqual(expect.any(String));
    expect(res.body.detail).not.toContain('CSRF');
    expect(upstream.received).toHaveLength(0);
  });

  it.each([
    ['POST', '/api/variables/', 'write/variables/create'],
    ['POST', `/api/deployments/${ID}/create_flow_run`, 'write/deployments/create_flow_run'],
    ['DELETE', `/api/flows/${ID}`, 'write/flows/delete'],
    ['GET', '/api/admin/unknown_thing', 'read/admin'],
    ['POST', '/api/admin/database/clear', 'write/admin/clear'],
    ['GET', `/api/block_documents/${ID}?include_secrets=true`, 'secret/block_documents'],
  ])('a viewer key is refused %s %s with 403 naming %s', async (method, path, permission) => {
    const res = await request(proxy.url)[method.toLowerCase() as 'get'](path).set(as(VIEWER)).set('content-type', 'application/json').send(method === 'GET' ? undefined : '{}');
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe(`API key of user viewer lacks permission: ${permission}`);
    expect(upstream.received).toHaveLength(0);
  });

  it('reads include_secrets from a block-document body, however it is spelled', async () => {
    for (const body of ['{"include_secrets": true}', '{"include\\u005fsecrets": "yes"}', '{"limit":1,"include_secrets":1}', 'not json']) {
      const res = await request(proxy.url).post('/api/block_documents/filter').set({ ...as(VIEWER), 'content-type': 'application/json' }).send(body);
      expect({ body, status: res.status }).toEqual({ body, status: 403 });
    }
    const plain = await request(proxy.url).post('/api/block_documents/filter').set({ ...as(VIEWER), 'content-type': 'application/json' }).send('{"include_secrets": false}');
    expect(plain.status).toBe(200);
    expect(upstream.received).toHaveLength(1);
    expect(upstream.received[0]!.body).toBe('{"include_secrets": false}');
    const dev = await request(proxy.url).post('/api/block_documents/filter').set({ ...as(DEV), 'content-type': 'application/json' }).send('{"include_secrets": true}');
    expect(dev.status).toBe(200);
  });

  it.each([
    '/api/../api/admin/settings',
    '/api/%2e%2e/api/admin/settings',
    '/api//admin/settings',
    '/api/admin%2Fsettings',
  ])('refuses the path %s and forwards nothing', async (path) => {
    const res = await request(proxy.url).get(path).set(as(DEV));
    expect(res.status).toBe(400);
    expect(upstream.received).toHaveLength(0);
  });

  it('forwards the normalized path, so the server routes what was checked', async () => {
    await request(proxy.url).post('/api/flow%5Fruns/filter').set({ ...as(VIEWER), 'content-type': 'application/json' }).send('{}');
    expect(upstream.received[0]!.url).toBe('/api/flow_runs/filter');
  });

  it('strips provenance headers clients could spoof, and refuses the in-process Host', async () => {
    await request(proxy.url).post('/api/flows/').set({ ...as(DEV), 'content-type': 'application/json', 'prefect-automation-id': ID, 'prefect-automation-name': 'eA==', 'prefect-csrf-token': 't', 'prefect-csrf-client': 'c' }).send('{"name":"x"}');
    const sent = upstream.received[0]!;
    expect(sent.headers['prefect-automation-id']).toBeUndefined();
    expect(sent.headers['prefect-automation-name']).toBeUndefined();
    expect(sent.headers['prefect-csrf-token']).toBe('t');
    expect(sent.headers['prefect-csrf-client']).toBe('c');
    const ephemeral = await request(proxy.url).get('/api/flows/' + ID).set({ ...as(DEV), host: 'ephemeral-prefect' });
    expect(ephemeral.status).toBe(400);
  });

  it('denies a key whose scopes are the REST-era JSON policy, with a clear log line and no 500', async () => {
    const res = await request(proxy.url).post('/api/flows/filter').set({ ...as('legacy-json-key1'), 'content-type': 'application/json' }).send('{}');
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('lacks permission: read/flows');
    expect(upstream.received).toHaveLength(0);
    expect(proxy.logs.some((l) => String(l.message).includes('JSON policy of the original proxy') && l.user === 'legacy')).toBe(true);
  });

  it('lets any valid key check the version and health without a key', async () => {
    expect((await request(proxy.url).get('/api/admin/version').set(as(EVENTS))).status).toBe(200);
    expect((await request(proxy.url).get('/api/health')).status).toBe(200);
    expect((await request(proxy.url).get('/api/admin/version')).status).toBe(401);
  });

  it('serves the UI files without a key, read-only, and without the server credential', async () => {
    // Should the server mount its API elsewhere than /api, these GETs must not be authenticated calls.
    expect((await request(proxy.url).get('/dashboard').set(as(DEV))).status).toBe(200);
    expect(upstream.received[0]!.headers.authorization).toBeUndefined();
    expect((await request(proxy.url).get('/ui-settings')).status).toBe(200);
    expect(upstream.received[1]!.headers.authorization).toBeUndefined();
    expect((await request(proxy.url).post('/dashboard').send('x')).status).toBe(405);
  });

  it('rewrites /ui-settings so the stock UI asks for a key and calls the proxy', async () => {
    const res = await request(proxy.url).get('/ui-settings').set('host', 'prefect.example.com');
    expect(res.body).toEqual({ api_url: 'http://prefect.example.com/api', csrf_enabled: false, auth: 'BASIC', flags: [] });
  });

  it.each([
    '/api/variables/name/ui-settings',
    '/api/flows/name/ui-settings',
    '/api/ui-settings',
    '/API/variables/name/ui-settings',
    '/api/../api/variables/name/ui-settings',
  ])('treats %s as the API, not as the UI settings: a key is needed', async (path) => {
    const res = await request(proxy.url).get(path);
    expect([400, 401]).toContain(res.status);
    expect(upstream.received).toHaveLength(0);
  });

  it('refuses bodies over the limit with 413', async () => {
    const res = await request(proxy.url).post('/api/logs/').set({ ...as(DEV), 'content-type': 'application/json' }).send('x'.repeat(1_100_000));
    expect(res.status).toBe(413);
    expect(upstream.received).toHaveLength(0);
  });

  it('audits allowed writes and denials, not reads', async () => {
    proxy.logs.length = 0;
    await request(proxy.url).post('/api/flows/filter').set({ ...as(DEV), 'content-type': 'application/json' }).send('{}');
    await request(proxy.url).post('/api/flows/').set({ ...as(DEV), 'content-type': 'application/json' }).send('{"name":"a"}');
    await request(proxy.url).delete(`/api/flows/${ID}`).set(as(VIEWER));
    await waitFor(() => proxy.auditLines().length >= 2);
    expect(proxy.auditLines().map((l) => [l.outcome, l.user, l.operationType, l.operationName, l.status])).toEqual([
      ['ALLOWED', 'dev', 'POST', '/flows/', 200],
      ['BLOCKED', 'viewer', 'DELETE', '/flows/{id:uuid}', 403],
    ]);
  });
});

describe('websockets', () => {
  // A proxy of its own whose upstream is the websocket stand-in: configs are immutable.
  let wsProxy: TestProxy;
  beforeAll(async () => {
    const target = new URL(upstream.url);
    target.port = String((wsUpstream.address() as AddressInfo).port);
    wsProxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: target.href, UPSTREAM_AUTH_STRING: SERVER_AUTH, BODY_LIMIT: '1mb' });
  });
  afterAll(() => wsProxy.stop());

  const open = (path: string, options: { protocol?: boolean; headers?: Record<string, string> } = {}) => {
    const url = `ws://127.0.0.1:${wsProxy.runtime.port}${path}`;
    return new WebSocket(url, options.protocol === false ? [] : ['prefect'], { headers: options.headers ?? {} });
  };
  const closed = (socket: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const firstMessage = (socket: WebSocket) => new Promise<string>((resolve) => socket.once('message', (d) => resolve(d.toString())));

  it('authenticates the auth message, then relays both ways with the server credential', async () => {
    wsReceived.length = 0;
    const socket = open('/api/events/in');
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ type: 'auth', token: EVENTS }));
    expect(JSON.parse(await firstMessage(socket))).toEqual({ type: 'auth_success' });
    socket.send('{"event":"prefect.test"}');
    expect(await firstMessage(socket)).toBe('echo:{"event":"prefect.test"}');
    expect(wsReceived).toEqual(['{"event":"prefect.test"}']);
    const gauge = async () => (await wsProxy.runtime.metrics.registry.getSingleMetricAsString('prefect_auth_proxy_websockets_open')).trim().split('\n').at(-1);
    expect(await gauge()).toBe('prefect_auth_proxy_websockets_open 1');
    socket.close();
    await closed(socket);
    for (let tries = 0; tries < 100 && await gauge() !== 'prefect_auth_proxy_websockets_open 0'; tries++) await new Promise((r) => setTimeout(r, 10));
    expect(await gauge()).toBe('prefect_auth_proxy_websockets_open 0');
  });

  it('refuses a connection over the key\'s rate limit with 1013 (try again later)', async () => {
    const first = open('/api/events/in', { protocol: false, headers: { authorization: 'Bearer ws-limited-key-1' } });
    await new Promise((r) => first.once('open', r));
    const second = open('/api/events/in', { protocol: false, headers: { authorization: 'Bearer ws-limited-key-1' } });
    const result = await closed(second);
    expect(result.code).toBe(1013);
    expect(result.reason).toContain('rate limit');
    first.close();
  });

  it.each([
    ['a bad token', '/api/events/in', { type: 'auth', token: 'nope-nope-nope' }, 'Invalid token'],
    ['no token', '/api/events/in', { type: 'auth', token: null }, 'Auth required but no token provided'],
    ['a key without the permission', '/api/events/out', { type: 'auth', token: EVENTS }, 'lacks permission: read/events'],
    ['a first message that is not auth', '/api/logs/out', { type: 'filter' }, "Expected 'auth' message"],
  ])('closes with 1008 for %s', async (_name, path, message, reason) => {
    const socket = open(path);
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify(message));
    const result = await closed(socket);
    expect(result.code).toBe(1008);
    expect(result.reason).toContain(reason);
  });

  it('accepts a credential on the upgrade request without the subprotocol', async () => {
    wsReceived.length = 0;
    const socket = open('/api/events/in', { protocol: false, headers: { authorization: `Bearer ${EVENTS}` } });
    await new Promise((r) => socket.once('open', r));
    // Sent at once: what arrives before the upstream socket is open waits, it is not lost.
    socket.send('hello');
    expect(await firstMessage(socket)).toBe('echo:hello');
    socket.close();
  });

  it('refuses websocket paths that are not Prefect streams', async () => {
    const socket = open('/api/flows/filter');
    const error = await new Promise<Error>((resolve) => socket.once('error', resolve));
    expect(error.message).toContain('404');
  });
});
