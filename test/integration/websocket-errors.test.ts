import net from 'node:net';
import request from 'supertest';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import { waitFor } from '../support/proxy';
import type { RawWebsocket } from '../support/raw-websocket';
import { closePayload, frame, rawUpgrade, textFrame, upgradeRequest } from '../support/raw-websocket';
import type { ServerProcess } from '../support/server-process';
import { startServerProcess } from '../support/server-process';
import { useWebsocketStack } from '../support/websocket-stack';

/**
 * Every way a client can break a websocket or an upgrade, sent byte by byte on raw TCP. Each case
 * ends by asking the proxy for /healthcheck: an unhandled 'error' anywhere would have killed the
 * process (and, in process, failed the test).
 */

const SERVER_AUTH = 'upstream-secret-1';
const EVENTS = 'events-key-0003';
const HEADER_KEY = { authorization: `Bearer ${EVENTS}` };

const stack = useWebsocketStack({
  name: 'websocket_errors', serverAuth: SERVER_AUTH, env: { BODY_LIMIT: '64kb' },
  keys: [{ userId: 'events', scopes: 'read/events, write/events', key: EVENTS, hashed: true }],
});

const port = () => stack.proxy.runtime.port;
const authFrame = (token: string) => textFrame(JSON.stringify({ type: 'auth', token }));

async function expectHealthy(url = stack.proxy.url): Promise<void> {
  const res = await request(url).get('/healthcheck');
  expect(res.status).toBe(200);
}

async function openWebsockets(): Promise<string | undefined> {
  const text = await stack.proxy.runtime.metrics.registry.getSingleMetricAsString('prefect_auth_proxy_websockets_open');
  return text.trim().split('\n').at(-1);
}

async function expectNoOpenWebsockets(): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await openWebsockets()) !== 'prefect_auth_proxy_websockets_open 0' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(await openWebsockets()).toBe('prefect_auth_proxy_websockets_open 0');
}

/** The upstream socket the proxy opens for the next client, once the proxy sent its auth message. */
async function nextUpstreamSocket(before: number) {
  await waitFor(() => stack.upstream.sockets.length > before && stack.upstream.sockets[before]?.authToken !== undefined);
  const socket = stack.upstream.sockets[before];
  if (!socket) throw new Error('no upstream socket');
  return socket;
}

/** Each malformed frame, and the close code RFC 6455 gives it. */
const MALFORMED: Array<[string, Buffer, number]> = [
  ['an unmasked client frame (81 02 68 69)', Buffer.from('81026869', 'hex'), 1002],
  ['invalid UTF-8 in a text frame', frame(0x1, Buffer.from([0x68, 0xff, 0xfe])), 1007],
  ['a reserved data opcode', frame(0x3, 'hi'), 1002],
  ['a reserved control opcode', frame(0xb, 'hi'), 1002],
  ['RSV1 without an extension', frame(0x1, 'hi', { rsv1: true }), 1002],
  ['a frame over the size limit', frame(0x2, '', { announce: 2 ** 32 }), 1009],
  ['a continuation with nothing to continue', frame(0x0, 'hi'), 1002],
  ['a fragmented control frame', frame(0x9, 'hi', { fin: false }), 1002],
  ['a control frame over 125 bytes', frame(0x9, Buffer.alloc(126), { announce: 126 }), 1002],
  ['a close frame with a reserved code', frame(0x8, closePayload(999)), 1002],
  ['a close frame with invalid UTF-8 in its reason', frame(0x8, closePayload(1000, Buffer.from([0xff]))), 1007],
];

describe('a malformed frame', () => {
  it.each(MALFORMED)('before the auth message (%s) closes with its code and is audited', async (_name, bad, code) => {
    const ws = await rawUpgrade(port(), '/api/events/out');
    expect(ws.status).toBe('HTTP/1.1 101 Switching Protocols');
    ws.send(bad);
    expect((await ws.closeFrame()).code).toBe(code);
    await ws.ended;
    await waitFor(() => stack.proxy.auditLines().some((l) => l.status === code && l.operationType === 'WEBSOCKET' && l.outcome === 'BLOCKED'));
    await expectHealthy();
  });

  it.each(MALFORMED)('in the upgrade request\'s own packet (%s) closes with its code', async (_name, bad, code) => {
    const ws = await rawUpgrade(port(), '/api/events/out', { trailing: bad });
    expect(ws.status).toBe('HTTP/1.1 101 Switching Protocols');
    expect((await ws.closeFrame()).code).toBe(code);
    await ws.ended;
    await expectHealthy();
  });

  it.each(MALFORMED)('while the upstream socket is being opened (%s) closes both sockets', async (_name, bad, code) => {
    stack.upstream.hold();
    try {
      const before = stack.upstream.sockets.length;
      const ws = await rawUpgrade(port(), '/api/events/out');
      ws.send(authFrame(EVENTS));
      const upstreamSocket = await nextUpstreamSocket(before);
      ws.send(bad);
      expect((await ws.closeFrame()).code).toBe(code);
      await ws.ended;
      await waitFor(() => upstreamSocket.closed);
      await waitFor(() => stack.proxy.auditLines().at(-1)?.status === code);
    } finally {
      stack.upstream.release();
    }
    await expectNoOpenWebsockets();
    await expectHealthy();
  });

  it.each(MALFORMED)('after a refusal, from a peer that keeps sending (%s), ends the connection', async (_name, bad) => {
    const ws = await rawUpgrade(port(), '/api/events/out');
    ws.send(authFrame('nope-nope-nope-1'));
    expect(await ws.closeFrame()).toEqual({ code: 1008, reason: 'Invalid token' });
    ws.send(textFrame('still talking'));
    ws.send(bad);
    await ws.ended;
    await expectHealthy();
  });

  it.each(MALFORMED)('while relaying (%s) closes the client and the upstream socket', async (_name, bad, code) => {
    const before = stack.upstream.sockets.length;
    const ws = await rawUpgrade(port(), '/api/events/in');
    ws.send(authFrame(EVENTS));
    expect(JSON.parse(await ws.firstText())).toEqual({ type: 'auth_success' });
    const upstreamSocket = await nextUpstreamSocket(before);
    ws.send(bad);
    expect((await ws.closeFrame()).code).toBe(code);
    await waitFor(() => upstreamSocket.closed);
    await expectNoOpenWebsockets();
    await expectHealthy();
  });

  it('with the key on the upgrade request, while the upstream socket is being opened, closes both sockets', async () => {
    stack.upstream.hold();
    try {
      const before = stack.upstream.sockets.length;
      const ws = await rawUpgrade(port(), '/api/events/out', { protocol: null, headers: HEADER_KEY });
      const upstreamSocket = await nextUpstreamSocket(before);
      ws.send(Buffer.from('81026869', 'hex'));
      expect((await ws.closeFrame()).code).toBe(1002);
      await waitFor(() => upstreamSocket.closed);
    } finally {
      stack.upstream.release();
    }
    await expectNoOpenWebsockets();
    await expectHealthy();
  });
});

describe('a client gone while the upstream handshake is pending', () => {
  const leave: Array<[string, (ws: RawWebsocket) => void]> = [
    ['reset', (ws) => ws.socket.resetAndDestroy()],
    ['closed its end', (ws) => ws.socket.end()],
    ['sent a close frame', (ws) => ws.send(frame(0x8, closePayload(1000)))],
  ];

  it.each(leave)('after its auth message (%s): the upstream socket is closed and not counted', async (_name, goAway) => {
    stack.upstream.hold();
    const before = stack.upstream.sockets.length;
    const ws = await rawUpgrade(port(), '/api/events/out');
    ws.send(authFrame(EVENTS));
    const upstreamSocket = await nextUpstreamSocket(before);
    goAway(ws);
    await ws.ended;
    // Prefect answering late must not revive it.
    stack.upstream.release();
    await waitFor(() => upstreamSocket.closed);
    await expectNoOpenWebsockets();
    await expectHealthy();
  });

  it.each(leave)('with the key on the upgrade request (%s): the upstream socket is closed and not counted', async (_name, goAway) => {
    stack.upstream.hold();
    const before = stack.upstream.sockets.length;
    const ws = await rawUpgrade(port(), '/api/events/out', { protocol: null, headers: HEADER_KEY });
    const upstreamSocket = await nextUpstreamSocket(before);
    goAway(ws);
    await ws.ended;
    stack.upstream.release();
    await waitFor(() => upstreamSocket.closed);
    await expectNoOpenWebsockets();
    await expectHealthy();
  });

  it('audits the attempt as an error (the client left), not as an open socket', async () => {
    stack.upstream.hold();
    const before = stack.upstream.sockets.length;
    const lines = stack.proxy.auditLines().length;
    const ws = await rawUpgrade(port(), '/api/events/out');
    ws.send(authFrame(EVENTS));
    await nextUpstreamSocket(before);
    ws.socket.resetAndDestroy();
    await waitFor(() => stack.proxy.auditLines().length > lines);
    stack.upstream.release();
    expect(stack.proxy.auditLines().slice(lines)).toEqual([expect.objectContaining({ outcome: 'ERROR', operationType: 'WEBSOCKET', user: 'events' })]);
  });
});

/** Sends `bytes` on a fresh connection, then resets it: at once, or when the first answer byte arrives. */
function sendThenReset(target: number, bytes: string, when: 'at once' | 'on answer'): Promise<void> {
  return new Promise<void>((resolve) => {
    const socket = net.connect(target, '127.0.0.1', () => {
      socket.write(bytes);
      if (when === 'at once') socket.resetAndDestroy();
    });
    socket.on('data', () => socket.resetAndDestroy());
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

const RESETS: Array<[string, () => string]> = [
  ['a path that is not a websocket route', () => upgradeRequest('/api/flows/filter')],
  ['a path outside the API', () => upgradeRequest('/elsewhere')],
  ['a path that does not normalize', () => upgradeRequest('/api/%2e%2e/%2e%2e/events/out')],
  ['the ephemeral-prefect host', () => upgradeRequest('/api/events/out', { headers: { host: 'ephemeral-prefect' } })],
  ['a websocket route', () => upgradeRequest('/api/events/out')],
  ['a websocket route without Sec-WebSocket-Key', () => upgradeRequest('/api/events/out').replace(/sec-websocket-key: [^\r]*\r\n/, '')],
  ['a request line that does not parse', () => 'NOT HTTP AT ALL\r\n\r\n'],
];

describe('an upgrade followed by a TCP reset', () => {
  it.each(RESETS)('to %s, 300 times each way, leaves the process up', async (_name, bytes) => {
    for (let i = 0; i < 300; i++) await sendThenReset(port(), bytes(), i % 2 === 0 ? 'on answer' : 'at once');
    await expectHealthy();
  });

  it('to a path that is not a websocket route still answers 404 to a client that waits', async () => {
    const ws = await rawUpgrade(port(), '/api/flows/filter');
    expect(ws.status).toBe('HTTP/1.1 404 Not Found');
    await ws.ended;
  });
});

describe('the built server as a process', () => {
  let server: ServerProcess;
  let own: TestDatabase;

  beforeAll(async () => {
    own = await createTestDatabase('sqlite', 'websocket_errors_process');
    await insertKey(own, { userId: 'events', scopes: 'read/events, write/events', key: EVENTS, hashed: true });
    server = await startServerProcess({ ...own.env, API_KIND: 'rest', API_SERVICE_URL: stack.upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, BODY_LIMIT: '64kb' });
  });

  afterAll(async () => {
    await server.terminate();
    await own.drop();
  });

  it('stays up through every malformed frame and 300 resets after a refused upgrade', async () => {
    const target = Number(new URL(server.url).port);
    for (const [, bad, code] of MALFORMED) {
      const ws = await rawUpgrade(target, '/api/events/out');
      ws.send(bad);
      expect((await ws.closeFrame()).code).toBe(code);
    }
    for (let i = 0; i < 300; i++) await sendThenReset(target, upgradeRequest('/api/flows/filter'), 'on answer');
    await expectHealthy(server.url);
    expect(server.child.exitCode).toBeNull();
  });
});
