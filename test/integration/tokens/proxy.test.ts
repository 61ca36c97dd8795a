import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { importJWK, SignJWT } from 'jose';
import WebSocket from 'ws';
import { createTestDatabase } from '../../support/databases';
import type { TestDatabase } from '../../support/databases';
import { useStarted } from '../../support/lifecycle';
import { startOidcProvider } from '../../support/oidc-provider';
import type { TestOidcProvider } from '../../support/oidc-provider';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy, waitFor } from '../../support/proxy';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';

const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
const SERVER_AUTH = 'server-secret-tokens';
/** An issuer nobody answers for (port 9 on loopback: discard, closed here). */
const DOWN_ISSUER = 'http://127.0.0.1:9';

interface Stack {
  readonly op: TestOidcProvider;
  readonly upstream: RecordingUpstream;
  readonly db: TestDatabase;
  readonly proxy: TestProxy;
}

/** Machine tokens through the whole proxy: a real provider's client-credentials tokens stand in for keys. */
describe('machine identity: tokens from a trusted issuer', () => {
  const stack = useStarted<Stack>(async () => {
    const op = await startOidcProvider({
      machineClients: [
        { clientId: 'etl', clientSecret: 's1', accessTokenAlg: 'ES256', extraClaims: { repository: 'acme/etl' } },
        { clientId: 'stranger', clientSecret: 's2', extraClaims: { repository: 'evil/etl' } },
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), 'issuers-'));
    const file = join(dir, 'issuers.yaml');
    const grant = [{ when: { repository: 'acme/etl' }, grant: 'runner' }];
    writeFileSync(file, JSON.stringify({
      issuers: [
        { name: 'ci', issuer: op.issuer, audiences: [op.audience], algorithms: ['RS256', 'ES256'], subjectClaim: 'client_id', roles: grant },
        { name: 'down', issuer: DOWN_ISSUER, audiences: ['prefect'], jwksUri: `${DOWN_ISSUER}/jwks`, algorithms: ['ES256'], roles: grant },
      ],
    }));
    const upstream = await startRecordingUpstream();
    const db = await createTestDatabase('sqlite', 'tokens_proxy');
    const proxy = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, TRUSTED_ISSUERS_FILE: file });
    return { op, upstream, db, proxy };
  }, async ({ op, upstream, db, proxy }) => {
    await proxy.stop();
    await op.stop();
    await upstream.close();
    await db.drop();
  });

  const call = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${stack.proxy.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

  it('lets a verified token act with its roles, and sends Prefect the server\'s credential, never the token', async () => {
    const token = await stack.op.clientCredentialsToken('etl');
    const before = stack.upstream.received.length;
    expect((await call(token, `/api/flows/${ID}`)).status).toBe(200);
    const run = await call(token, `/api/deployments/${ID}/create_flow_run`, { method: 'POST', body: '{}' });
    expect(run.status).toBe(200);
    const seen = stack.upstream.received.slice(before);
    expect(seen.map((r) => r.url)).toEqual([`/api/flows/${ID}`, `/api/deployments/${ID}/create_flow_run`]);
    for (const r of seen) expect(r.headers.authorization).toBe(`Basic ${Buffer.from(SERVER_AUTH).toString('base64')}`);
    expect(JSON.stringify(seen)).not.toContain(token);
    await waitFor(() => stack.proxy.auditLines().some((l) => l.user === 'ci:etl' && typeof l.keyId === 'string' && (l.keyId as string).startsWith('machine:')));
  });

  it('refuses what the token\'s roles do not allow, naming the machine', async () => {
    const token = await stack.op.clientCredentialsToken('etl');
    const before = stack.upstream.received.length;
    const res = await call(token, '/api/variables/', { method: 'POST', body: '{"name":"x","value":1}' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { detail: string }).detail).toBe('the token of ci:etl lacks permission: write/variables/create');
    expect(stack.upstream.received.length).toBe(before);
  });

  it.each([
    ['a machine no rule gives a role', async (op: TestOidcProvider) => op.clientCredentialsToken('stranger'), 'no role'],
    ['a token for another audience', async (op: TestOidcProvider) => op.clientCredentialsToken('etl', { resource: 'urn:somewhere-else' }), 'audience'],
    ['a token with a tampered payload', async (op: TestOidcProvider) => {
      const [h, p, sig] = (await op.clientCredentialsToken('etl')).split('.');
      const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString()) as Record<string, unknown>;
      return [h, Buffer.from(JSON.stringify({ ...claims, repository: 'acme/etl', client_id: 'admin' })).toString('base64url'), sig].join('.');
    }, 'signature'],
  ])('refuses %s with 401, and nothing reaches Prefect', async (_case, mint, reason) => {
    const token = await mint(stack.op);
    const before = stack.upstream.received.length;
    const res = await call(token, `/api/flows/${ID}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { detail: string }).detail).toContain(reason);
    expect(stack.upstream.received.length).toBe(before);
    expect(stack.proxy.rawLogs()).not.toContain(token);
  });

  it('answers 503, never 200 or 401, while an issuer\'s keys cannot be fetched', async () => {
    // A second trusted issuer whose key endpoint is down; its token is signed with a key of the provider's.
    const jwk = stack.op.signingKeys.ES256;
    const token = await new SignJWT({ client_id: 'etl', repository: 'acme/etl' })
      .setProtectedHeader({ alg: 'ES256', kid: jwk.kid }).setIssuer(DOWN_ISSUER).setAudience('prefect').setSubject('etl')
      .setIssuedAt().setExpirationTime('10m').sign(await importJWK(jwk as unknown as JWK, 'ES256'));
    const before = stack.upstream.received.length;
    const res = await call(token, `/api/flows/${ID}`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(stack.upstream.received.length).toBe(before);
  });

  it.each([
    // The recording upstream speaks no websocket: a session the proxy allowed ends there (1011), a refused one at the proxy (1008).
    ['a verified token', true, 1011],
    ['a token of a machine without a role', false, 1008],
  ])('authenticates the websocket auth message with %s', async (_case, good, code) => {
    const token = await stack.op.clientCredentialsToken(good ? 'etl' : 'stranger');
    const socket = new WebSocket(`${stack.proxy.url.replace('http', 'ws')}/api/events/out`, ['prefect']);
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
    expect(await closed).toBe(code);
  });
});

/** Prefect 1's GraphQL API takes the same tokens as its keys. */
describe('machine identity in GraphQL mode', () => {
  const stack = useStarted<Stack>(async () => {
    const op = await startOidcProvider({
      machineClients: [
        { clientId: 'etl', clientSecret: 's1', extraClaims: { repository: 'acme/etl' } },
        { clientId: 'reader', clientSecret: 's2', extraClaims: { repository: 'acme/reports' } },
      ],
    });
    const file = join(mkdtempSync(join(tmpdir(), 'issuers-')), 'issuers.json');
    writeFileSync(file, JSON.stringify({
      issuers: [{
        name: 'ci', issuer: op.issuer, audiences: [op.audience], algorithms: ['RS256'], subjectClaim: 'client_id',
        roles: [{ when: { repository: 'acme/etl' }, grant: 'runner' }, { when: { repository: 'acme/reports' }, grant: 'viewer' }],
      }],
    }));
    const upstream = await startRecordingUpstream();
    const db = await createTestDatabase('sqlite', 'tokens_graphql');
    const proxy = await startTestProxy({ ...db.env, API_KIND: 'graphql', API_SERVICE_URL: upstream.url, UPSTREAM_AUTH_STRING: SERVER_AUTH, TRUSTED_ISSUERS_FILE: file });
    return { op, upstream, db, proxy };
  }, async ({ op, upstream, db, proxy }) => {
    await proxy.stop();
    await op.stop();
    await upstream.close();
    await db.drop();
  });

  const graphql = (token: string, query: string) => fetch(`${stack.proxy.url}/`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ query }),
  });

  it('forwards what the machine\'s roles allow, without the token', async () => {
    const token = await stack.op.clientCredentialsToken('etl');
    const before = stack.upstream.received.length;
    const res = await graphql(token, `mutation { create_flow_run(input: { flow_id: "${ID}" }) { id } }`);
    expect(res.status).toBe(200);
    const seen = stack.upstream.received.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toContain('create_flow_run');
    expect(JSON.stringify(seen)).not.toContain(token);
  });

  it('refuses in GraphQL\'s own error format, naming the machine, and forwards nothing', async () => {
    const token = await stack.op.clientCredentialsToken('reader');
    const before = stack.upstream.received.length;
    const res = await graphql(token, `mutation { delete_flow(input: { flow_id: "${ID}" }) { success } }`);
    const body = await res.json() as { errors: Array<{ message: string }> };
    expect(body.errors[0]?.message).toBe('the token of ci:reader lacks permission: mutation/delete_flow');
    expect(stack.upstream.received.length).toBe(before);
  });

  it('refuses a token from an issuer it does not trust like an unknown key', async () => {
    const jwk = stack.op.signingKeys.RS256;
    const token = await new SignJWT({ client_id: 'etl', repository: 'acme/etl' })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).setIssuer('https://elsewhere.example').setAudience(stack.op.audience).setSubject('etl')
      .setIssuedAt().setExpirationTime('10m').sign(await importJWK(jwk as unknown as JWK, 'RS256'));
    const before = stack.upstream.received.length;
    const res = await graphql(token, '{ flow { id } }');
    expect(res.status).toBe(401);
    expect((await res.json() as { errors: unknown[] }).errors).toHaveLength(1);
    expect(stack.upstream.received.length).toBe(before);
  });
});
