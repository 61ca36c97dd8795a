import request from 'supertest';
import WebSocket from 'ws';
import { waitFor } from '../support/proxy';
import { useWebsocketStack } from '../support/websocket-stack';

const KEY = 'origin-key-00001';
const FRONT = { 'x-forwarded-for': '203.0.113.7' };

describe('one reading of who is asking, for HTTP and websockets', () => {
  // The proxy sits behind a trusted front proxy on loopback, which says who the client is.
  const stack = useWebsocketStack({
    name: 'request_origin', serverAuth: 'upstream-secret-origin', env: { TRUST_PROXY: 'loopback' },
    keys: [{ userId: 'alice', scopes: 'read/*, write/events, write/variables', key: KEY, hashed: true }],
  });
  it('audits an HTTP request and a websocket session from the same front proxy with its client address and the caller\'s request id', async () => {
    const http = await request(stack.proxy.url).post('/api/variables/').set({ ...FRONT, authorization: `Bearer ${KEY}`, 'x-request-id': 'caller-http-1' }).send({ name: 'x', value: 1 });
    expect(http.headers['x-request-id']).toBe('caller-http-1');

    const socket = new WebSocket(`${stack.proxy.url.replace('http', 'ws')}/API/events/in`, ['prefect'], { headers: { ...FRONT, 'x-request-id': 'caller-ws-1' } });
    socket.on('error', () => undefined);
    const handshakeId = new Promise<string | undefined>((resolve) => socket.once('upgrade', (res) => resolve(res.headers['x-request-id'] as string | undefined)));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: KEY })));
    expect(await handshakeId).toBe('caller-ws-1');

    await waitFor(() => stack.proxy.auditLines().some((l) => l.operationType === 'WEBSOCKET'));
    socket.close();
    const httpRow = stack.proxy.auditLines().find((l) => l.requestId === 'caller-http-1');
    const wsRow = stack.proxy.auditLines().find((l) => l.operationType === 'WEBSOCKET');
    expect(httpRow).toMatchObject({ client: '203.0.113.7', user: 'alice' });
    expect(wsRow).toMatchObject({ client: '203.0.113.7', requestId: 'caller-ws-1', user: 'alice' });
  });
});
