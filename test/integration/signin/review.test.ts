import WebSocket from 'ws';
import { hashSessionId } from '../../../src/sessions';
import { migrateLatest } from '../../../src/storage';
import { createTestDatabase, insertKey } from '../../support/databases';
import type { TestDatabase } from '../../support/databases';
import { useStarted } from '../../support/lifecycle';
import { createCookieJar, loginWithProvider, startOidcProvider } from '../../support/oidc-provider';
import type { TestOidcProvider } from '../../support/oidc-provider';
import { closedPort } from '../../support/ports';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy } from '../../support/proxy';
import { browser } from '../../support/signin-client';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';
import type { WebsocketUpstream } from '../../support/websocket-upstream';
import { startWebsocketUpstream } from '../../support/websocket-upstream';

/**
 * Outside security review of cookie sessions (issue 13). Tests whose comment says "was a finding"
 * failed on the code as reviewed and were fixed; the others pin down defences that held and were
 * not tested elsewhere. Every refusal is checked on the recording
 * upstream: nothing may reach Prefect.
 */

const VIEWER_KEY = 'viewer-key-review-01';
const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const EVIL = 'https://evil.example';

type Browser = ReturnType<typeof browser>;

interface Stack {
  readonly upstream: RecordingUpstream;
  readonly db: TestDatabase;
  readonly op: TestOidcProvider;
  readonly proxy: TestProxy;
  readonly url: string;
  readonly env: Record<string, string>;
}

describe('security review: cookie sessions through the whole proxy', () => {
  const stack = useStarted<Stack>(async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const upstream = await startRecordingUpstream();
    const db = await createTestDatabase('postgres', 'signin_review');
    await migrateLatest(db.knex, 'postgres');
    await insertKey(db, { userId: 'vera', scopes: 'role:viewer', key: VIEWER_KEY, hashed: true });
    const op = await startOidcProvider({
      webClients: [{ clientId: 'proxy', clientSecret: 'proxy-secret', redirectUris: [`${url}/auth/callback`], postLogoutRedirectUris: [`${url}/auth/login`] }],
      users: { alice: { email: 'alice@example.test', groups: ['prefect-viewers'] } },
    });
    // Shared by a second instance in one test; the OIDC variables are added for this one only.
    const env = {
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, SIGN_IN: 'key', KEY_CHANGE_POLL_INTERVAL: '1',
      SESSION_GROUP_REFRESH_INTERVAL: '30',
    };
    const proxy = await startTestProxy({
      ...env, PORT: String(port), PUBLIC_URL: url,
      SIGN_IN: 'key,oidc', OIDC_ISSUER_URL: op.issuer, OIDC_CLIENT_ID: 'proxy', OIDC_CLIENT_SECRET: 'proxy-secret',
      OIDC_SCOPES: 'openid email profile groups', OIDC_GROUP_ROLES: '{"prefect-viewers": "viewer"}',
      SESSION_SECRET: 'a-test-secret-of-at-least-32-characters',
    });
    return { upstream, db, op, proxy, url, env };
  }, async ({ proxy, op, upstream, db }) => {
    await proxy.stop();
    await op.stop();
    await upstream.close();
    await db.drop();
  });

  const keySession = async (): Promise<Browser> => {
    const b = browser(stack.url);
    const res = await b.fetch('/auth/login', { method: 'POST', body: new URLSearchParams({ key: VIEWER_KEY, next: '/' }), headers: FORM });
    expect(res.status).toBe(303);
    return b;
  };
  const providerSession = async (user: string): Promise<Browser> => {
    const b = browser(stack.url);
    const begin = await b.fetch('/auth/oidc?next=/runs');
    expect(begin.status).toBe(303);
    const callback = new URL(await loginWithProvider(begin.headers.get('location') as string, user, { jar: createCookieJar() }));
    expect((await b.fetch(callback.pathname + callback.search)).status).toBe(303);
    return b;
  };
  const sessionHash = (b: Browser): string => hashSessionId(b.cookies.get('pap-session') as string);
  const received = () => stack.upstream.received.length;

  // Was a finding: the resolver trusted a cached record for 30 s without looking at its expiry.
  it('refuses a session past its absolute expiry even while this instance has it cached', async () => {
    const b = await keySession();
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(200);
    const row = await stack.db.knex('prefect_auth_proxy_sessions').where({ id_hash: sessionHash(b) }).first('expires_at');
    const end = new Date(row.expires_at).getTime();
    // The clock passes the session's end while its record is still cached here.
    const clock = jest.spyOn(Date, 'now').mockReturnValue(end + 1000);
    try {
      const before = received();
      const res = await b.fetch(`/api/flows/${ID}`);
      expect(res.status).toBe(401);
      expect(received()).toBe(before);
    } finally {
      clock.mockRestore();
    }
  });

  // Was a finding: without OIDC configured the resolver had no group check, so an identity-provider
  // session keeps the roles it was given until its absolute end (up to 30 days).
  it('an identity-provider session is refused where no group check can be made (OIDC off on this instance)', async () => {
    const b = await providerSession('alice');
    // The provider drops her from the group, and the check is long overdue.
    await stack.op.setUser('alice', { email: 'alice@example.test', groups: [] });
    await stack.db.knex('prefect_auth_proxy_sessions').where({ id_hash: sessionHash(b) }).update({ groups_checked_at: new Date(0) });
    const port = await closedPort();
    const other = await startTestProxy({ ...stack.env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
    try {
      const before = received();
      const res = await fetch(`${other.url}/api/flows/${ID}`, { headers: { cookie: `pap-session=${b.cookies.get('pap-session')}` } });
      expect(res.status).toBe(401);
      expect(received()).toBe(before);
    } finally {
      await other.stop();
      await stack.op.setUser('alice', { email: 'alice@example.test', groups: ['prefect-viewers'] });
    }
  });

  // Was a finding: every GET /auth/oidc added a 10-minute attempt cookie of up to ~3 KB (next= up to
  // 2048 characters) and nothing bounded how many; another site can make those navigations.
  it('a page of another site cannot lock a person out by piling up sign-in attempt cookies', async () => {
    const b = await keySession();
    const long = encodeURIComponent(`/${'a'.repeat(2000)}`);
    // Top-level navigations (a popup the attacker's page keeps re-pointing): cookies set on them are kept.
    const navigation = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' };
    for (let i = 0; i < 5; i++) expect((await b.fetch(`/auth/oidc?next=${long}`, { headers: navigation })).status).toBe(303);
    for (let i = 0; i < 6; i++) await b.fetch('/auth/oidc?next=/', { headers: navigation });
    const before = received();
    const res = await b.fetch(`/api/flows/${ID}`);
    expect(res.status).toBe(200);
    expect(received()).toBe(before + 1);
  });

  // Defences that hold.

  it.each<[string, string, Record<string, string>]>([
    ['PUT from another origin', 'PUT', { origin: EVIL }],
    ['PATCH from another origin', 'PATCH', { origin: EVIL }],
    ['DELETE from another origin', 'DELETE', { origin: EVIL }],
    ['a WebDAV method with no Origin', 'PROPFIND', {}],
    ['a POST with a GET method-override header', 'POST', { origin: EVIL, 'x-http-method-override': 'GET', 'x-method-override': 'GET' }],
    ['a POST whose empty Bearer falls back to the cookie', 'POST', { origin: EVIL, authorization: 'Bearer null' }],
    ['a POST whose "undefined" X-Prefect-User-ID falls back to the cookie', 'POST', { origin: EVIL, 'x-prefect-user-id': 'undefined' }],
    ['a POST from a sibling with no Origin, same-site by fetch metadata', 'POST', { 'sec-fetch-site': 'same-site' }],
    ['a read-only POST with no body and no Content-Type from another origin', 'POST', { origin: EVIL }],
  ])('refuses %s made with the session cookie; nothing reaches Prefect', async (_case, method, headers) => {
    const b = await keySession();
    const before = received();
    const withBody = method !== 'PROPFIND' && !_case.includes('no body');
    const res = await b.fetch(`/api/deployments/${ID}/pause_deployment`, {
      method, headers: { ...(withBody ? JSON_TYPE : {}), ...headers }, origin: headers.origin ?? null, ...(withBody ? { body: '{}' } : {}),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toContain('cross-site');
    expect(received()).toBe(before);
  });

  it('refuses a cross-origin fetch of a read with the cookie (Sec-Fetch-Site same-site, mode cors)', async () => {
    const b = await keySession();
    const before = received();
    const res = await b.fetch(`/api/flows/${ID}`, { headers: { origin: 'http://a.127.0.0.1.example', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toContain('cross-site');
    expect(received()).toBe(before);
  });

  it('does not take a session id as an API key, nor a key as a session id', async () => {
    const b = await keySession();
    const id = b.cookies.get('pap-session') as string;
    const before = received();
    expect((await fetch(`${stack.url}/api/flows/${ID}`, { headers: { authorization: `Bearer ${id}` } })).status).toBe(401);
    expect((await fetch(`${stack.url}/api/flows/${ID}`, { headers: { cookie: `pap-session=${VIEWER_KEY}` } })).status).toBe(401);
    expect(received()).toBe(before);
  });

  it('forwards the other cookies but never the proxy\'s own, in any spelling the cookie parser reads', async () => {
    const b = await keySession();
    const id = b.cookies.get('pap-session') as string;
    const before = received();
    const cookie = `theme=dark; __Host-pap-session=${id};  pap-session = ${id} ; pap-signin-${'s'.repeat(43)}=x; other=1`;
    expect((await fetch(`${stack.url}/api/flows/${ID}`, { headers: { cookie } })).status).toBe(200);
    const forwarded = stack.upstream.received.slice(before);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.headers.cookie).toBe('theme=dark; other=1');
    expect(JSON.stringify(forwarded[0]?.headers)).not.toContain(id);
  });

  it.each([
    ['a bad percent escape', 'pap-session=%E0%A4%A'],
    ['a quoted value', `pap-session="${'A'.repeat(43)}"`],
    ['a name with no value', 'pap-session'],
    ['only separators', ';;; ;=; ='],
    ['prototype names', '__proto__=1; constructor=2; pap-session=__proto__'],
    ['thousands of cookies', Array.from({ length: 1500 }, (_, i) => `c${i}=v`).join('; ')],
  ])('answers a malformed Cookie header (%s) with 401, and keeps serving', async (_case, cookie) => {
    const before = received();
    const res = await fetch(`${stack.url}/api/flows/${ID}`, { headers: { cookie } });
    expect([401, 431]).toContain(res.status);
    expect(received()).toBe(before);
    const b = await keySession();
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(200);
  });

  it('refuses a callback opened in another browser (login CSRF): no session is made', async () => {
    const attacker = browser(stack.url);
    const begin = await attacker.fetch('/auth/oidc?next=/');
    const callback = new URL(await loginWithProvider(begin.headers.get('location') as string, 'alice', { jar: createCookieJar() }));
    const victim = browser(stack.url);
    const res = await victim.fetch(callback.pathname + callback.search);
    expect(res.status).toBe(400);
    expect(victim.cookies.has('pap-session')).toBe(false);
  });

  it('refuses a sign-out posted from another site, and the session keeps working', async () => {
    const b = await keySession();
    const res = await b.fetch('/auth/logout', { method: 'POST', origin: EVIL });
    expect(res.status).toBe(403);
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(200);
  });

  it('a key pasted on the sign-in page must be a key: a session id or a Basic string is refused', async () => {
    const b = await keySession();
    const id = b.cookies.get('pap-session') as string;
    for (const key of [id, Buffer.from(`x:${VIEWER_KEY}`).toString('base64')]) {
      const res = await browser(stack.url).fetch('/auth/login', { method: 'POST', body: new URLSearchParams({ key, next: '/' }), headers: FORM });
      expect(res.status).toBe(401);
    }
  });
});

describe('security review: websockets opened with the session cookie', () => {
  const KEY = 'events-key-review-02';
  const SERVER_AUTH = 'server-secret-review';
  const stack = useStarted(async () => {
    const upstream: WebsocketUpstream = await startWebsocketUpstream(SERVER_AUTH);
    const db = await createTestDatabase('sqlite', 'signin_review_ws');
    await insertKey(db, { userId: 'events', scopes: 'read/events, write/events', key: KEY, hashed: true });
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const proxy = await startTestProxy({
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH,
      PORT: String(port), PUBLIC_URL: url, SIGN_IN: 'key', KEY_CHANGE_POLL_INTERVAL: '1',
    });
    return { upstream, db, proxy, url };
  }, async ({ upstream, db, proxy }) => {
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });

  const signIn = async (): Promise<string> => {
    const res = await fetch(`${stack.url}/auth/login`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ key: KEY, next: '/' }), headers: { ...FORM, origin: stack.url },
    });
    expect(res.status).toBe(303);
    return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  };

  it.each<[string, string | null]>([
    ['a null token', null],
    ['an empty token', ''],
    ['the string "null"', 'null'],
  ])('with Prefect\'s handshake and %s in the auth message, the cookie still needs the exact Origin', async (_case, token) => {
    const cookie = await signIn();
    const before = stack.upstream.sockets.length;
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const socket = new WebSocket(`${stack.url.replace('http', 'ws')}/api/events/in`, ['prefect'], { headers: { cookie, origin: EVIL } });
      socket.on('error', () => undefined);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    expect(closed.code).toBe(1008);
    expect(stack.upstream.sockets.length).toBe(before);
  });
  // Was a finding: a socket was checked once, at the handshake; signing out left it relaying to
  // Prefect for as long as the client kept it open.
  it('stops relaying a websocket opened with the session once the session is signed out', async () => {
    const cookie = await signIn();
    const socket = new WebSocket(`${stack.url.replace('http', 'ws')}/api/events/in`, { headers: { cookie, origin: stack.url } });
    socket.on('error', () => undefined);
    const echoes: string[] = [];
    socket.on('message', (data) => echoes.push(data.toString()));
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('close', () => reject(new Error('closed before it opened')));
    });
    socket.send('{"event":"before"}');
    const deadline = Date.now() + 5000;
    while (!echoes.includes('echo:{"event":"before"}') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(echoes).toContain('echo:{"event":"before"}');
    const upstreamSocket = stack.upstream.sockets.at(-1);

    const out = await fetch(`${stack.url}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: stack.url } });
    expect(out.status).toBe(303);
    // Well past the recheck interval: the proxy has closed the socket with a policy code.
    await new Promise((r) => setTimeout(r, 2500));
    if (socket.readyState === WebSocket.OPEN) socket.send('{"event":"after sign-out"}');
    await new Promise((r) => setTimeout(r, 500));
    socket.terminate();
    expect(await closed).toBe(1008);
    expect(upstreamSocket?.received).not.toContain('{"event":"after sign-out"}');
  });
});
