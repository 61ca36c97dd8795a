import request from 'supertest';
import WebSocket from 'ws';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { WebsocketUpstream } from '../support/websocket-upstream';
import { startWebsocketUpstream } from '../support/websocket-upstream';

const SERVER_AUTH = 'upstream-secret-origin';
const KEY = 'origin-key-00001';
const FRONT = { 'x-forwarded-for': '203.0.113.7' };

let upstream: WebsocketUpstream;
let db: TestDatabase;
let proxy: TestProxy;

beforeAll(async () => {
  upstream = await startWebsocketUpstream(SERVER_AUTH);
  db = await createTestDatabase('sqlite', 'request_origin');
  await insertKey(db, { userId: 'alice', scopes: 'read/*, write/events, write/variables', key: KEY, hashed: true });
  // The proxy sits behind a trusted front proxy on loopback, which says who the client is.
  proxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, TRUST_PROXY: 'loopback' });
});

afterAll(async () => {
  await proxy.stop();
  await upstream.close();
  await db.drop();
});

describe('one reading of who is asking, for HTTP and websockets', () => {
  it('audits an HTTP request and a websocket session from the same front proxy with its client address and the caller\'s request id', async () => {
    const http = await request(proxy.url).post('/api/variables/').set({ ...FRONT, authorization: `Bearer ${KEY}`, 'x-request-id': 'caller-http-1' }).send({ name: 'x', value: 1 });
    expect(http.headers['x-request-id']).toBe('caller-http-1');

    const socket = new WebSocket(`${proxy.url.replace('http', 'ws')}/API/events/in`, ['prefect'], { headers: { ...FRONT, 'x-request-id': 'caller-ws-1' } });
    socket.on('error', () => undefined);
    const handshakeId = new Promise<string | undefined>((resolve) => socket.once('upgrade', (res) => resolve(res.headers['x-request-id'] as string | undefined)));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: KEY })));
    expect(await handshakeId).toBe('caller-ws-1');

    await waitFor(() => proxy.auditLines().some((l) => l.operationType === 'WEBSOCKET'));
    socket.close();
    const httpRow = proxy.auditLines().find((l) => l.requestId === 'caller-http-1');
    const wsRow = proxy.auditLines().find((l) => l.operationType === 'WEBSOCKET');
    expect(httpRow).toMatchObject({ client: '203.0.113.7', user: 'alice' });
    expect(wsRow).toMatchObject({ client: '203.0.113.7', requestId: 'caller-ws-1', user: 'alice' });
  });
});
