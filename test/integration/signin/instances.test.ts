import WebSocket from 'ws';
import { migrateLatest } from '../../../src/storage';
import { createTestDatabase, insertKey } from '../../support/databases';
import type { TestDatabase } from '../../support/databases';
import { useStarted } from '../../support/lifecycle';
import { closedPort } from '../../support/ports';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy } from '../../support/proxy';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';
import type { WebsocketUpstream } from '../../support/websocket-upstream';
import { startWebsocketUpstream } from '../../support/websocket-upstream';

const KEY = 'events-key-signin-02';
const SERVER_AUTH = 'server-secret-signin';
const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';

/** Signs in with a key on the proxy's page, as the browser's form does; returns the Cookie header. */
async function signIn(url: string): Promise<string> {
  const res = await fetch(`${url}/auth/login`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ key: KEY, next: '/' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
  });
  expect(res.status).toBe(303);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

/** Starts a sign-in proxy on a port chosen first, since PUBLIC_URL must name it. */
async function startSignInProxy(env: Record<string, string>): Promise<{ proxy: TestProxy; url: string }> {
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}`;
  const proxy = await startTestProxy({ PORT: String(port), PUBLIC_URL: url, SIGN_IN: 'key', KEY_CHANGE_POLL_INTERVAL: '1', ...env });
  return { proxy, url };
}

describe('a websocket opened with the session cookie', () => {
  const stack = useStarted(async () => {
    const upstream: WebsocketUpstream = await startWebsocketUpstream(SERVER_AUTH);
    const db = await createTestDatabase('sqlite', 'signin_ws');
    await insertKey(db, { userId: 'events', scopes: 'read/events, write/events', key: KEY, hashed: true });
    const started = await startSignInProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH });
    return { upstream, db, ...started };
  }, async ({ upstream, db, proxy }) => {
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });

  const open = (cookie: string, origin: string | undefined) => new Promise<{ code: number; reason: string; echoed: boolean }>((resolve) => {
    const socket = new WebSocket(`${stack.url.replace('http', 'ws')}/api/events/in`, { headers: { cookie, ...(origin ? { origin } : {}) } });
    let echoed = false;
    socket.on('error', () => undefined);
    socket.on('open', () => socket.send('{"event":"x"}'));
    socket.on('message', (data) => {
      if (data.toString().startsWith('echo:')) {
        echoed = true;
        socket.close();
      }
    });
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString(), echoed }));
  });

  it('relays when the Origin is the proxy\'s own', async () => {
    expect(await open(await signIn(stack.url), stack.url)).toMatchObject({ echoed: true });
  });

  it.each([
    ['another origin', 'https://evil.example'],
    ['no Origin', undefined],
  ])('is closed (1008) from %s, before any upstream socket opens', async (_case, origin) => {
    const cookie = await signIn(stack.url);
    const before = stack.upstream.sockets.length;
    const closed = await open(cookie, origin);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('cross-site');
    expect(stack.upstream.sockets.length).toBe(before);
  });
});

describe('two instances on one key store', () => {
  const stack = useStarted(async () => {
    const upstream: RecordingUpstream = await startRecordingUpstream();
    const db: TestDatabase = await createTestDatabase('postgres', 'signin_two');
    await migrateLatest(db.knex, 'postgres');
    await insertKey(db, { userId: 'events', scopes: 'role:viewer', key: KEY, hashed: true });
    const env = { ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url };
    const a = await startSignInProxy(env);
    const b = await startSignInProxy(env);
    return { upstream, db, a, b };
  }, async ({ upstream, db, a, b }) => {
    await Promise.all([a.proxy.stop(), b.proxy.stop()]);
    await upstream.close();
    await db.drop();
  });

  it('accepts a session made on one instance on the other, and honours a sign-out on one at the other within the poll interval', async () => {
    const cookie = await signIn(stack.a.url);
    const onB = () => fetch(`${stack.b.url}/api/flows/${ID}`, { headers: { cookie } }).then((r) => r.status);
    expect(await onB()).toBe(200);
    const out = await fetch(`${stack.a.url}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: stack.a.url } });
    expect(out.status).toBe(303);
    const deadline = Date.now() + 5000;
    let status = await onB();
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = await onB();
    }
    expect(status).toBe(401);
  });
});

describe('Prefect 1 (GraphQL mode) with a session', () => {
  const stack = useStarted(async () => {
    const upstream: RecordingUpstream = await startRecordingUpstream();
    const db = await createTestDatabase('sqlite', 'signin_graphql');
    await insertKey(db, { userId: 'events', scopes: 'query/*', key: KEY, hashed: true });
    const started = await startSignInProxy({ ...db.env, API_KIND: 'graphql', API_SERVICE_URL: upstream.url });
    return { upstream, db, ...started };
  }, async ({ upstream, db, proxy }) => {
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });

  const query = (cookie: string, origin: string) => fetch(`${stack.url}/graphql`, {
    method: 'POST', body: '{"query":"{ flow { id } }"}', headers: { cookie, origin, 'content-type': 'application/json' },
  });

  it('forwards a query from the proxy\'s own origin, and refuses one from another in GraphQL\'s error format', async () => {
    const cookie = await signIn(stack.url);
    const before = stack.upstream.received.length;
    expect((await query(cookie, stack.url)).status).toBe(200);
    expect(stack.upstream.received.length).toBe(before + 1);
    expect(stack.upstream.received.at(-1)?.headers.cookie).toBeUndefined();
    const refused = await query(cookie, 'https://evil.example');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect(stack.upstream.received.length).toBe(before + 1);
  });
});
