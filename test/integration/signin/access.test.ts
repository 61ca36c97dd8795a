import { migrateLatest } from '../../../src/storage';
import { runCli } from '../../support/cli';
import { createTestDatabase, insertKey } from '../../support/databases';
import type { TestDatabase } from '../../support/databases';
import { useStarted } from '../../support/lifecycle';
import { createCookieJar, loginWithProvider, startOidcProvider } from '../../support/oidc-provider';
import type { TestOidcProvider } from '../../support/oidc-provider';
import { closedPort } from '../../support/ports';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy, waitFor } from '../../support/proxy';
import { browser } from '../../support/signin-client';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';

const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
const VIEWER_KEY = 'viewer-key-access-0001';

interface Stack {
  readonly upstream: RecordingUpstream;
  readonly db: TestDatabase;
  readonly op: TestOidcProvider;
  readonly proxy: TestProxy;
  readonly url: string;
}

const formBody = (fields: Record<string, string>) => ({
  method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
});
const shownKey = (page: string) => /<code id="new-key">([^<]+)<\/code>/.exec(page)?.[1] ?? '';

describe('"My access": keys people make for themselves', () => {
  const stack = useStarted<Stack>(async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const upstream = await startRecordingUpstream();
    upstream.respondWith((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
    const db = await createTestDatabase('sqlite', 'signin_access');
    await insertKey(db, { userId: 'vera', scopes: 'role:viewer', key: VIEWER_KEY, hashed: true });
    const op = await startOidcProvider({
      webClients: [{ clientId: 'proxy', clientSecret: 'proxy-secret', redirectUris: [`${url}/auth/callback`] }],
      users: {
        dana: { email: 'dana@example.test', groups: ['prefect-developers'] },
        val: { email: 'val@example.test', groups: ['prefect-viewers'] },
        ole: { email: 'ole@example.test', groups: ['prefect-developers'] },
      },
    });
    const proxy = await startTestProxy({
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, PORT: String(port), PUBLIC_URL: url,
      SIGN_IN: 'key,oidc', OIDC_ISSUER_URL: op.issuer, OIDC_CLIENT_ID: 'proxy', OIDC_CLIENT_SECRET: 'proxy-secret',
      OIDC_SCOPES: 'openid email profile groups', OIDC_GROUP_ROLES: '{"prefect-viewers": "viewer", "prefect-developers": "developer"}',
      SESSION_SECRET: 'a-test-secret-of-at-least-32-characters', KEY_CHANGE_POLL_INTERVAL: '1',
      SELF_SERVICE_KEY_MAX_LIFETIME: String(30 * 86400), SELF_SERVICE_MAX_KEYS: '3',
    });
    return { upstream, db, op, proxy, url };
  }, async ({ proxy, op, upstream, db }) => {
    await proxy.stop();
    await op.stop();
    await upstream.close();
    await db.drop();
  });

  const signIn = async (user: string) => {
    const b = browser(stack.url);
    const begin = await b.fetch('/auth/oidc?next=/auth/access');
    const callback = await loginWithProvider(begin.headers.get('location') as string, user, { jar: createCookieJar() });
    await b.fetch(new URL(callback).pathname + new URL(callback).search);
    return b;
  };
  const withKey = (key: string, path = `/api/flows/${ID}`, init: RequestInit = {}) =>
    fetch(`${stack.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });

  it('shows who the person is, makes a key once within their roles, and the key works like any key', async () => {
    const b = await signIn('dana');
    const page = await (await b.fetch('/auth/access')).text();
    expect(page).toContain('dana@example.test');
    expect(page).toContain('prefect-developers');
    // Roles a developer covers are offered; owner is not.
    expect(page).toContain('<option value="developer">');
    expect(page).not.toContain('<option value="owner">');
    const made = await b.fetch('/auth/access/keys', formBody({ name: 'laptop', role: '', lifetime: '30' }));
    expect(made.status).toBe(200);
    expect(made.headers.get('cache-control')).toBe('no-store');
    const html = await made.text();
    const key = shownKey(html);
    expect(key).toMatch(/^pap_/);
    expect(html).toContain(`export PREFECT_API_AUTH_STRING=${key}`);
    expect(html).toContain(`export PREFECT_API_URL=${stack.url}/api`);
    // Shown once: the page afterwards lists it without the key.
    const again = await (await b.fetch('/auth/access')).text();
    expect(again).toContain('laptop');
    expect(again).not.toContain(key);

    const before = stack.upstream.received.length;
    expect((await withKey(key, '/api/deployments/', { method: 'POST', body: '{}' })).status).toBe(200);
    expect(stack.upstream.received.length).toBe(before + 1);
    const row = await stack.db.knex('prefect_api_keys').where({ user_id: 'dana@example.test/laptop' }).first();
    expect(row).toMatchObject({ owner_id: 'dana@example.test', key_name: 'laptop', scopes: 'role:developer', creatd_by: 'self' });
    expect(Boolean(row.self_service)).toBe(true);
    expect(String(row.api_key)).toMatch(/^sha256:/);
    expect(stack.proxy.rawLogs()).not.toContain(key);
  });

  it('makes a narrower key when asked, and refuses a role, a lifetime or a count beyond the person\'s', async () => {
    const b = await signIn('val');
    const narrow = await b.fetch('/auth/access/keys', formBody({ name: 'ci', role: 'viewer', lifetime: '7' }));
    const key = shownKey(await narrow.text());
    expect((await withKey(key, '/api/variables/', { method: 'POST', body: '{}' })).status).toBe(403);
    for (const [fields, status, text] of [
      [{ name: 'root', role: 'owner', lifetime: '7' }, 403, 'not within your roles'],
      [{ name: 'dev', role: 'developer', lifetime: '7' }, 403, 'not within your roles'],
      [{ name: 'long', role: '', lifetime: '90' }, 400, 'lifetimes offered'],
      [{ name: 'Bad Name', role: '', lifetime: '7' }, 400, 'key name'],
      [{ name: 'ci', role: '', lifetime: '7' }, 409, 'already have a key named'],
    ] as const) {
      const res = await b.fetch('/auth/access/keys', formBody(fields));
      expect([res.status, await res.text()]).toEqual([status, expect.stringContaining(text)]);
    }
    await b.fetch('/auth/access/keys', formBody({ name: 'two', role: '', lifetime: '1' }));
    await b.fetch('/auth/access/keys', formBody({ name: 'three', role: '', lifetime: '1' }));
    const four = await b.fetch('/auth/access/keys', formBody({ name: 'four', role: '', lifetime: '1' }));
    expect(four.status).toBe(403);
    expect(await four.text()).toContain('the most allowed');
    const rows = await stack.db.knex('prefect_api_keys').where({ owner_id: 'val@example.test' }).select('key_name');
    expect(rows.map((r) => r.key_name).sort()).toEqual(['ci', 'three', 'two']);
  });

  it('refuses the forms from another origin, and from a person signed in with a key', async () => {
    const b = await signIn('dana');
    const cross = await b.fetch('/auth/access/keys', { ...formBody({ name: 'evil', role: '', lifetime: '1' }), origin: 'http://127.0.0.1:1' });
    expect(cross.status).toBe(403);
    const keySession = browser(stack.url);
    await keySession.fetch('/auth/login', formBody({ key: VIEWER_KEY, next: '/' }));
    expect(keySession.cookies.has('pap-session')).toBe(true);
    const refused = await keySession.fetch('/auth/access/keys', formBody({ name: 'copy', role: '', lifetime: '1' }));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('only after signing in with the identity provider');
    expect(await stack.db.knex('prefect_api_keys').whereIn('key_name', ['evil', 'copy']).select('user_id')).toEqual([]);
    // Without a session: to sign-in.
    const anonymous = await browser(stack.url).fetch('/auth/access');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/auth/login?next=%2Fauth%2Faccess');
  });

  it('revokes a key on the page: refused at once, and nobody revokes another person\'s key', async () => {
    const b = await signIn('ole');
    const key = shownKey(await (await b.fetch('/auth/access/keys', formBody({ name: 'temp', role: '', lifetime: '1' }))).text());
    expect((await withKey(key)).status).toBe(200);
    const other = await signIn('dana');
    const notTheirs = await other.fetch('/auth/access/revoke', formBody({ name: 'temp' }));
    expect(notTheirs.status).toBe(404);
    expect((await withKey(key)).status).toBe(200);
    const revoked = await b.fetch('/auth/access/revoke', formBody({ name: 'temp' }));
    expect(revoked.status).toBe(200);
    expect(await revoked.text()).toContain('revoked');
    await waitFor(() => stack.proxy.auditLines().some((l) => l.operationName === 'revoke own key'));
    expect((await withKey(key)).status).toBe(401);
  });

  it('stops every key a person made when sign-in finds them outside the groups that give access', async () => {
    await stack.op.setUser('ole', { email: 'ole@example.test', groups: ['prefect-developers'] });
    const b = await signIn('ole');
    const key = shownKey(await (await b.fetch('/auth/access/keys', formBody({ name: 'cli', role: '', lifetime: '7' }))).text());
    expect((await withKey(key)).status).toBe(200);
    await stack.op.setUser('ole', { email: 'ole@example.test', groups: ['marketing'] });
    const refused = await signIn('ole');
    expect(refused.cookies.has('pap-session')).toBe(false);
    expect((await withKey(key)).status).toBe(401);
  });
});

describe('an administrator disables a person', () => {
  const stack = useStarted<Stack>(async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const upstream = await startRecordingUpstream();
    const db = await createTestDatabase('postgres', 'signin_people');
    await migrateLatest(db.knex, 'postgres');
    const op = await startOidcProvider({
      webClients: [{ clientId: 'proxy', clientSecret: 'proxy-secret', redirectUris: [`${url}/auth/callback`] }],
      users: { dana: { email: 'dana@example.test', groups: ['prefect-developers'] } },
    });
    const proxy = await startTestProxy({
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, PORT: String(port), PUBLIC_URL: url,
      SIGN_IN: 'oidc', OIDC_ISSUER_URL: op.issuer, OIDC_CLIENT_ID: 'proxy', OIDC_CLIENT_SECRET: 'proxy-secret',
      OIDC_SCOPES: 'openid email profile groups', OIDC_GROUP_ROLES: '{"prefect-developers": "developer"}',
      SESSION_SECRET: 'a-test-secret-of-at-least-32-characters', KEY_CHANGE_POLL_INTERVAL: '1',
    });
    return { upstream, db, op, proxy, url };
  }, async ({ proxy, op, upstream, db }) => {
    await proxy.stop();
    await op.stop();
    await upstream.close();
    await db.drop();
  });

  it('with `people disable`: sessions end, self-service keys stop on the running proxy, sign-in is refused until enabled', async () => {
    const b = browser(stack.url);
    const signIn = async () => {
      const begin = await b.fetch('/auth/oidc?next=/auth/access');
      const callback = await loginWithProvider(begin.headers.get('location') as string, 'dana', { jar: createCookieJar() });
      return b.fetch(new URL(callback).pathname + new URL(callback).search);
    };
    await signIn();
    const key = shownKey(await (await b.fetch('/auth/access/keys', formBody({ name: 'cli', role: '', lifetime: '7' }))).text());
    const withKey = () => fetch(`${stack.url}/api/flows/${ID}`, { headers: { authorization: `Bearer ${key}` } });
    expect((await withKey()).status).toBe(200);
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(200);

    const disabled = await runCli(['people', 'disable', '--user', 'dana@example.test', '--reason', 'left the team', '--json'], { ...stack.db.env, KEY_CHANGE_POLL_INTERVAL: '1' });
    expect(disabled.code).toBe(0);
    expect(JSON.parse(disabled.stdout)).toEqual({ user: 'dana@example.test', disabled: true, endedSessions: 1, stoppedKeys: ['dana@example.test/cli'] });
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && ((await withKey()).status === 200 || (await b.fetch(`/api/flows/${ID}`)).status === 200)) await new Promise((r) => setTimeout(r, 200));
    expect((await withKey()).status).toBe(401);
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(401);
    const again = await signIn();
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('disabled your access');

    expect((await runCli(['people', 'enable', '--user', 'dana@example.test'], stack.db.env)).code).toBe(0);
    expect((await signIn()).status).toBe(303);
    expect((await withKey()).status).toBe(401);
  });

  it('with the admin API: the same, at once on this instance; other keys are refused', async () => {
    await insertKey(stack.db, { userId: 'root', scopes: 'role:owner', key: 'owner-key-people-1', hashed: true });
    await insertKey(stack.db, { userId: 'keyadmin', scopes: 'admin/keys, read/*', key: 'keyadmin-people-01', hashed: true });
    const b = browser(stack.url);
    const begin = await b.fetch('/auth/oidc?next=/auth/access');
    const callback = new URL(await loginWithProvider(begin.headers.get('location') as string, 'dana', { jar: createCookieJar() }));
    await b.fetch(callback.pathname + callback.search);
    expect(b.cookies.has('pap-session')).toBe(true);
    const key = shownKey(await (await b.fetch('/auth/access/keys', formBody({ name: 'api', role: '', lifetime: '7' }))).text());
    const admin = (key: string, path: string) => fetch(`${stack.url}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"reason": "left"}',
    });
    expect((await admin('keyadmin-people-01', '/admin/people/dana@example.test/disable')).status).toBe(403);
    const disabled = await admin('owner-key-people-1', '/admin/people/dana@example.test/disable');
    // Two: this browser's, and the one the test before left signed in.
    expect(await disabled.json()).toEqual({ user: 'dana@example.test', disabled: true, endedSessions: 2, stoppedKeys: ['dana@example.test/api'] });
    expect((await fetch(`${stack.url}/api/flows/${ID}`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    expect((await b.fetch(`/api/flows/${ID}`)).status).toBe(401);
    expect(await (await admin('owner-key-people-1', '/admin/people/dana@example.test/enable')).json()).toEqual({ user: 'dana@example.test', disabled: false });
    expect(await (await admin('owner-key-people-1', '/admin/people/dana@example.test/end-sessions')).json()).toEqual({ user: 'dana@example.test', endedSessions: 0 });
  });
});

describe('sign-in on a shared key store that lacks this version\'s tables', () => {
  it('refuses to start, naming the command that fixes it', async () => {
    const db = await createTestDatabase('mysql', 'signin_unmigrated');
    try {
      await expect(startTestProxy({
        ...db.env, API_KIND: 'rest', API_SERVICE_URL: 'http://127.0.0.1:9', PUBLIC_URL: 'http://127.0.0.1:4200', SIGN_IN: 'key',
      })).rejects.toThrow(/run `prefect-auth-proxy db migrate` \(pending: .*006_people_and_own_keys/);
    } finally {
      await db.drop();
    }
  });
});
