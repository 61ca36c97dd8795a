import WebSocket from 'ws';
import { startTestProxy, waitFor } from '../support/proxy';
import { useWebsocketStack } from '../support/websocket-stack';

const SERVER_AUTH = 'upstream-secret-2';
const EVENTS = 'events-key-limits';

const stack = useWebsocketStack({
  name: 'websocket_limits', serverAuth: SERVER_AUTH, env: { BODY_LIMIT: '64kb', LOG_LEVEL: 'warn' },
  keys: [{ userId: 'events', scopes: 'read/events, write/events', key: EVENTS, hashed: true }],
});

/** A Prefect-style client: opens the socket, sends the auth message, then `after`. */
function connect(token: string, after: string[] = []): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${stack.proxy.url.replace('http', 'ws')}/api/events/in`, ['prefect']);
    socket.on('error', () => undefined);
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'auth', token }));
      for (const message of after) socket.send(message);
    });
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

describe('websocket limits and failed authentications', () => {
  it('records a refused key in the audit trail, never the key itself', async () => {
    const closed = await connect('tEsT-Secret-ws-1');
    expect(closed).toEqual({ code: 1008, reason: 'Invalid token' });
    await waitFor(() => stack.proxy.auditLines().some((l) => l.operationName === 'authentication failed'));
    const line = stack.proxy.auditLines().find((l) => l.operationName === 'authentication failed');
    expect(line).toMatchObject({ outcome: 'BLOCKED', operationType: 'AUTH', fields: ['/events/in', 'invalid or expired API key'], status: 401 });
    expect(stack.proxy.rawLogs()).not.toContain('tEsT-Secret-ws-1');
  });

  it('closes a client (1009) that sends more than BODY_LIMIT while the upstream socket is opening, and relays none of it', async () => {
    stack.upstream.hold();
    const before = stack.upstream.sockets.length;
    const chunk = 'x'.repeat(30 * 1024);
    const closed = await connect(EVENTS, [chunk, chunk, chunk]);
    expect(closed.code).toBe(1009);
    stack.upstream.release();
    await waitFor(() => stack.upstream.sockets.length === before || stack.upstream.sockets.slice(before).every((s) => s.closed));
    expect(stack.upstream.sockets.slice(before).flatMap((s) => s.received)).toEqual([]);
    await waitFor(() => stack.proxy.auditLines().some((l) => l.operationType === 'WEBSOCKET' && l.status === 1009));
  });

  it('relays what fits', async () => {
    const socket = new WebSocket(`${stack.proxy.url.replace('http', 'ws')}/api/events/in`, ['prefect']);
    socket.on('error', () => undefined);
    const echoed = new Promise<string>((resolve) => socket.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('echo:')) resolve(text);
    }));
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'auth', token: EVENTS }));
      socket.send('{"event":"small"}');
    });
    expect(await echoed).toBe('echo:{"event":"small"}');
    socket.close();
  });
});

describe('a websocket whose upstream is down', () => {
  it('closes with 1011 and is audited as an error, not as a denial', async () => {
    const down = await startTestProxy({ ...stack.db.env, API_KIND: 'rest', API_SERVICE_URL: 'http://127.0.0.1:9', UPSTREAM_AUTH_STRING: SERVER_AUTH, LOG_LEVEL: 'warn' });
    try {
      const closed = await new Promise<{ code: number }>((resolve) => {
        const socket = new WebSocket(`${down.url.replace('http', 'ws')}/api/events/in`, ['prefect']);
        socket.on('error', () => undefined);
        socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: EVENTS })));
        socket.on('close', (code) => resolve({ code }));
      });
      expect(closed.code).toBe(1011);
      await waitFor(() => down.auditLines().some((l) => l.operationType === 'WEBSOCKET'));
      expect(down.auditLines().find((l) => l.operationType === 'WEBSOCKET')).toMatchObject({ outcome: 'ERROR', status: 1011, user: 'events' });
    } finally {
      await down.stop();
    }
  });
});

describe('frames before and after authentication', () => {
  const big = useWebsocketStack({
    name: 'websocket_preauth', serverAuth: SERVER_AUTH, env: { BODY_LIMIT: '1mb', LOG_LEVEL: 'warn' },
    keys: [{ userId: 'events', scopes: 'read/events, write/events', key: EVENTS, hashed: true }],
  });
  const open = () => {
    const socket = new WebSocket(`${big.proxy.url.replace('http', 'ws')}/api/events/in`, ['prefect']);
    socket.on('error', () => undefined);
    return socket;
  };

  it('closes (1009) a client whose first frame is larger than an auth message needs, before any key lookup or upstream socket', async () => {
    const before = big.upstream.sockets.length;
    const socket = open();
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: EVENTS, padding: 'x'.repeat(200 * 1024) })));
    const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
    expect(code).toBe(1009);
    expect(big.upstream.sockets.length).toBe(before);
  });

  it('relays frames up to BODY_LIMIT once the session is allowed', async () => {
    const socket = open();
    const payload = `{"event":"${'y'.repeat(300 * 1024)}"}`;
    const echoed = new Promise<string>((resolve) => socket.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('echo:')) resolve(text);
    }));
    socket.on('message', (data) => {
      if (data.toString().includes('auth_success')) socket.send(payload);
    });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token: EVENTS })));
    expect((await echoed).length).toBe(payload.length + 'echo:'.length);
    socket.close();
  });
});
