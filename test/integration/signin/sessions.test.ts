import { createTestDatabase, insertKey } from '../../support/databases';
import type { TestDatabase } from '../../support/databases';
import { useStarted } from '../../support/lifecycle';
import { createCookieJar, loginWithProvider, startOidcProvider } from '../../support/oidc-provider';
import type { TestOidcProvider } from '../../support/oidc-provider';
import { closedPort } from '../../support/ports';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy, waitFor } from '../../support/proxy';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';
import { browser, navigate } from '../../support/signin-client';

const VIEWER_KEY = 'viewer-key-signin-01';
const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';

interface Stack {
  readonly upstream: RecordingUpstream;
  readonly db: TestDatabase;
  readonly op: TestOidcProvider;
  readonly proxy: TestProxy;
  readonly url: string;
}

describe('sessions for people: sign in with a key or the identity provider', () => {
  const stack = useStarted<Stack>(async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const upstream = await startRecordingUpstream();
    const db = await createTestDatabase('sqlite', 'signin_sessions');
    await insertKey(db, { userId: 'vera', scopes: 'role:viewer', key: VIEWER_KEY, hashed: true });
    const op = await startOidcProvider({
      webClients: [{ clientId: 'proxy', clientSecret: 'proxy-secret', redirectUris: [`${url}/auth/callback`], postLogoutRedirectUris: [`${url}/auth/login`] }],
      users: {
        alice: { email: 'alice@example.test', groups: ['prefect-viewers'] },
        bob: { email: 'bob@example.test', groups: ['marketing'] },
      },
    });
    const proxy = await startTestProxy({
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, PORT: String(port), PUBLIC_URL: url,
      SIGN_IN: 'key,oidc', OIDC_ISSUER_URL: op.issuer, OIDC_CLIENT_ID: 'proxy', OIDC_CLIENT_SECRET: 'proxy-secret',
      OIDC_SCOPES: 'openid email profile groups', OIDC_GROUP_ROLES: '{"prefect-viewers": "viewer", "prefect-developers": "developer"}',
      SESSION_SECRET: 'a-test-secret-of-at-least-32-characters', SESSION_GROUP_REFRESH_INTERVAL: '30', KEY_CHANGE_POLL_INTERVAL: '1',
    });
    return { upstream, db, op, proxy, url };
  }, async ({ proxy, op, upstream, db }) => {
    await proxy.stop();
    await op.stop();
    await upstream.close();
    await db.drop();
  });

  const signInWithProvider = async (user: string) => {
    const b = browser(stack.url);
    const begin = await b.fetch('/auth/oidc?next=/runs');
    expect(begin.status).toBe(303);
    const callback = await loginWithProvider(begin.headers.get('location') as string, user, { jar: createCookieJar() });
    return { b, landed: await b.fetch(new URL(callback).pathname + new URL(callback).search) };
  };

  it('sends a page opened without a session to sign-in, and answers API calls with 401 JSON', async () => {
    const b = browser(stack.url);
    // fetch() sends Sec-Fetch-Mode: cors whatever it is told; a browser opening a page sends navigate.
    const page = await navigate(`${stack.url}/runs`);
    expect(page.status).toBe(302);
    expect(page.location).toBe('/auth/login?next=%2Fruns');
    const api = await b.fetch('/api/flows/filter', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ detail: expect.stringContaining('API key') });
    expect((await b.fetch('/auth/login')).status).toBe(200);
  });

  it('signs in with a key on the proxy\'s page: the cookie holds a random id, never the key', async () => {
    const b = browser(stack.url);
    const before = stack.upstream.received.length;
    const signed = await b.fetch('/auth/login', { method: 'POST', body: new URLSearchParams({ key: VIEWER_KEY, next: '/flows' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(signed.status).toBe(303);
    expect(signed.headers.get('location')).toBe('/flows');
    const [name, value] = [...b.cookies][0] as [string, string];
    expect(name).toBe('pap-session');
    expect(value).not.toContain(VIEWER_KEY);
    expect(signed.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(signed.headers.get('set-cookie')).toMatch(/SameSite=Lax/i);
    const read = await b.fetch(`/api/flows/${ID}`);
    expect(read.status).toBe(200);
    const forwarded = stack.upstream.received.slice(before).find((r) => r.url === `/api/flows/${ID}`);
    // The session cookie is the proxy's: Prefect never sees it.
    expect(forwarded?.headers.cookie).toBeUndefined();
    // A viewer may not write; the refusal is the proxy's, in Prefect's format.
    const write = await b.fetch('/api/variables/', { method: 'POST', body: '{"name":"x","value":1}', headers: { 'content-type': 'application/json' } });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { detail: string }).detail).toBe('the session of vera lacks permission: write/variables/create');
    const me = await b.fetch('/auth/me');
    expect(await me.json()).toMatchObject({ user: 'vera', kind: 'key' });
  });

  it('ends a session past its lifetime: 401, the row ended as expired, and one audit row', async () => {
    const b = browser(stack.url);
    await b.fetch('/auth/login', { method: 'POST', body: new URLSearchParams({ key: VIEWER_KEY, next: '/' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const newest = await stack.db.knex('prefect_auth_proxy_sessions').orderBy('created_at', 'desc').first('id_hash');
    const hash = (newest as { id_hash: string }).id_hash;
    await stack.db.knex('prefect_auth_proxy_sessions').where({ id_hash: hash }).update({ expires_at: new Date(Date.now() - 1000).toISOString() });
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(401);
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(401);
    const row = await stack.db.knex('prefect_auth_proxy_sessions').where({ id_hash: hash }).first('end_reason');
    expect(row?.end_reason).toBe('expired');
    await waitFor(() => stack.proxy.auditLines().some((l) => l.operationName === 'session expired' && l.user === 'vera'));
    expect(stack.proxy.auditLines().filter((l) => l.operationName === 'session expired' && l.keyId === `session:${hash.slice(0, 12)}`)).toHaveLength(1);
  });

  it('counts a flood of refused sign-ins per source instead of writing a row each', async () => {
    const before = stack.proxy.auditLines().length;
    for (let i = 0; i < 30; i++) {
      const res = await browser(stack.url).fetch('/auth/login', { method: 'POST', body: new URLSearchParams({ key: `made-up-key-${i}-xyz`, next: '/' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(401);
    }
    // Before: one row per refused key. Now they join the source's failed-authentication window.
    expect(stack.proxy.auditLines().slice(before).filter((l) => l.operationName === 'sign in with a key')).toEqual([]);
    expect(stack.proxy.auditLines().length - before).toBeLessThanOrEqual(2);
    expect(stack.proxy.rawLogs()).not.toContain('made-up-key-7-xyz');
  });

  it('refuses a wrong key on the page, and records the attempt without the key', async () => {
    const b = browser(stack.url);
    const res = await b.fetch('/auth/login', { method: 'POST', body: new URLSearchParams({ key: 'not-a-real-key-xyz', next: '/' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(401);
    expect(b.cookies.size).toBe(0);
    expect(stack.proxy.rawLogs()).not.toContain('not-a-real-key-xyz');
  });

  it('signs in through the provider: groups give roles, the person lands where they were going', async () => {
    const { b, landed } = await signInWithProvider('alice');
    expect(landed.status).toBe(303);
    expect(landed.headers.get('location')).toBe('/runs');
    const me = await (await b.fetch('/auth/me')).json();
    expect(me).toMatchObject({ user: 'alice@example.test', kind: 'oidc', groups: ['prefect-viewers'], roles: ['viewer'] });
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(200);
    await waitFor(() => stack.proxy.auditLines().some((l) => l.operationName === 'sign in with the identity provider' && l.outcome === 'ALLOWED'));
  });

  it('refuses a person whose groups give no role, with a page that says so', async () => {
    const { b, landed } = await signInWithProvider('bob');
    expect(landed.status).toBe(403);
    expect(await landed.text()).toContain('No access to Prefect');
    expect(b.cookies.has('pap-session')).toBe(false);
  });

  it.each([
    ['another origin', 'https://evil.example'],
    ['Origin: null', 'null'],
    ['no Origin and no Sec-Fetch-Site', null],
  ])('refuses a write made with the session cookie from %s, and nothing reaches Prefect', async (_case, origin) => {
    const { b } = await signInWithProvider('alice');
    const before = stack.upstream.received.length;
    const res = await b.fetch('/api/flows/filter', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, origin });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toContain('cross-site');
    expect(stack.upstream.received.length).toBe(before);
    // The same request from the proxy's own origin passes.
    expect((await b.fetch('/api/flows/filter', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(200);
  });

  it('signs out: the session stops working at once and the provider is asked to end its own', async () => {
    const { b } = await signInWithProvider('alice');
    const cookie = b.cookies.get('pap-session');
    const out = await b.fetch('/auth/logout', { method: 'POST' });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toContain(stack.op.issuer);
    // Replaying the old cookie is refused.
    const replay = await fetch(`${stack.url}/api/flows/${ID}`, { headers: { cookie: `pap-session=${cookie}` } });
    expect(replay.status).toBe(401);
  });

  it('takes a person out within the group refresh interval when the provider removes the group', async () => {
    const { b } = await signInWithProvider('alice');
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(200);
    await stack.op.setUser('alice', { email: 'alice@example.test', groups: [] });
    // Pretend the check is due (the groups were last read long ago), and make every instance drop
    // its cached sessions through the change table, as any cache change does.
    await stack.db.knex('prefect_auth_proxy_sessions').update({ groups_checked_at: new Date(0).toISOString() });
    await stack.db.knex('prefect_auth_proxy_changes').insert({ kind: 'all', subject: null, changed_at: new Date() });
    const deadline = Date.now() + 5000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      status = (await b.fetch(`/api/flows/${ID}`)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
    const row = await stack.db.knex('prefect_auth_proxy_sessions').orderBy('created_at', 'desc').first('end_reason');
    expect(row?.end_reason).toBe('group-removed');
  });
});
