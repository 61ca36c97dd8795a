import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RelyingParty, RelyingPartyOptions, SignInAttempt } from '../../../src/signin';
import { createRelyingParty, decideSignIn, readGroups, SignInError } from '../../../src/signin';
import { useStarted } from '../../support/lifecycle';
import { createCookieJar, loginWithProvider, startOidcProvider } from '../../support/oidc-provider';

// Nothing listens here: the login helper stops at the redirect to it, as a browser would arrive.
const REDIRECT_URI = 'http://127.0.0.1:3999/auth/callback';
const LOGGED_OUT_URI = 'http://127.0.0.1:3999/auth/signed-out';
const WEB = { clientId: 'proxy', clientSecret: 'proxy-secret', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [LOGGED_OUT_URI] };
const ES256_WEB = { clientId: 'proxy-es256', clientSecret: 'es-secret', redirectUris: [REDIRECT_URI], idTokenAlg: 'ES256' as const };
const ALICE = { email: 'alice@example.test', email_verified: true, preferred_username: 'alice', groups: ['prefect-developers', 'staff'] };
const BOB = { email: 'bob@example.test', preferred_username: 'bob', groups: ['prefect-viewers'] };

/** What the callback would throw, or a failure of the test when it succeeds. */
async function failureOf(promise: Promise<unknown>): Promise<SignInError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SignInError) return err;
    throw err;
  }
  throw new Error('expected a SignInError, the step succeeded');
}

function withState(callback: string, state: string): string {
  const url = new URL(callback);
  url.searchParams.set('state', state);
  return url.href;
}

describe('relying party against a real OpenID Provider', () => {
  const op = useStarted(
    () => startOidcProvider({ webClients: [WEB, ES256_WEB], users: { alice: ALICE, bob: BOB } }),
    (started) => started.stop(),
  );
  const options = (): RelyingPartyOptions => ({
    issuerUrl: op.issuer, clientId: WEB.clientId, clientSecret: WEB.clientSecret, redirectUri: REDIRECT_URI, timeoutMs: 5000,
    scopes: ['openid', 'email', 'profile', 'groups'],
  });
  let rp: RelyingParty;
  beforeAll(async () => {
    rp = await createRelyingParty(options());
  });

  it('signs a person in: code with PKCE, state and nonce; verified claims with groups from userinfo', async () => {
    const { authorizationUrl, attempt } = await rp.begin('/runs?tab=Logs');
    const request = new URL(authorizationUrl).searchParams;
    expect(Object.fromEntries(['response_type', 'code_challenge_method', 'state', 'nonce', 'client_id', 'redirect_uri'].map((k) => [k, request.get(k)])))
      .toEqual({ response_type: 'code', code_challenge_method: 'S256', state: attempt.state, nonce: attempt.nonce, client_id: 'proxy', redirect_uri: REDIRECT_URI });
    expect(request.get('code_challenge')).not.toBe(attempt.codeVerifier);
    expect(attempt.next).toBe('/runs?tab=Logs');

    const callback = await loginWithProvider(authorizationUrl, 'alice');
    const result = await rp.finish(callback, attempt);
    expect(result.subject).toBe('alice');
    expect(result.claims).toMatchObject({ sub: 'alice', iss: op.issuer, aud: 'proxy', email: 'alice@example.test', groups: ALICE.groups });
    expect(result.tokens.idToken).toMatch(/^ey/);
    expect(result.tokens.refreshToken).toEqual(expect.any(String));
    expect(result.tokens.accessTokenExpiresAt).toBeGreaterThan(Date.now());
    expect(decideSignIn(result.claims, { groupRoles: { 'prefect-developers': ['developer'] } }))
      .toEqual({ allowed: true, user: 'alice@example.test', groups: ALICE.groups, roles: ['developer'] });
  });

  it('refuses a next= that leaves the origin: the attempt returns to /', async () => {
    const { attempt } = await rp.begin('//evil.example/phish');
    expect(attempt.next).toBe('/');
  });

  it('lets two tabs of one browser sign in at once, each with its own attempt', async () => {
    const browser = createCookieJar();
    const first = await rp.begin('/flows');
    const second = await rp.begin('/deployments');
    expect(second.attempt.state).not.toBe(first.attempt.state);
    // The second tab gets through the provider first; the first then finds the provider session.
    const secondCallback = await loginWithProvider(second.authorizationUrl, 'bob', { jar: browser });
    const firstCallback = await loginWithProvider(first.authorizationUrl, 'bob', { jar: browser });
    // A callback checked against the other tab's attempt is refused, and burns nothing.
    expect(await failureOf(rp.finish(firstCallback, second.attempt))).toMatchObject({ code: 'invalid_callback' });
    const results = [await rp.finish(firstCallback, first.attempt), await rp.finish(secondCallback, second.attempt)];
    expect(results.map((r) => [r.subject, readGroups(r.claims)])).toEqual([['bob', BOB.groups], ['bob', BOB.groups]]);
  });

  it('refuses a replayed callback: the provider spends a code once', async () => {
    const { authorizationUrl, attempt } = await rp.begin('/');
    const callback = await loginWithProvider(authorizationUrl, 'alice');
    await rp.finish(callback, attempt);
    expect(await failureOf(rp.finish(callback, attempt))).toMatchObject({ code: 'token_rejected', providerError: 'invalid_grant' });
  });

  it('refuses a callback whose state is not the attempt\'s, or missing', async () => {
    const { authorizationUrl, attempt } = await rp.begin('/');
    const callback = await loginWithProvider(authorizationUrl, 'alice');
    expect(await failureOf(rp.finish(withState(callback, `${attempt.state.slice(0, -1)}x`), attempt)))
      .toMatchObject({ code: 'invalid_callback', message: expect.stringContaining('"state"') });
    const stateless = new URL(callback);
    stateless.searchParams.delete('state');
    expect(await failureOf(rp.finish(stateless.href, attempt))).toMatchObject({ code: 'invalid_callback' });
    // The code was never sent to the provider, so the genuine callback still works.
    await expect(rp.finish(callback, attempt)).resolves.toMatchObject({ subject: 'alice' });
  });

  it('refuses a tampered code, and a right code with another attempt\'s PKCE verifier and nonce', async () => {
    const { authorizationUrl, attempt } = await rp.begin('/');
    const callback = new URL(await loginWithProvider(authorizationUrl, 'alice'));
    const code = callback.searchParams.get('code') ?? '';
    callback.searchParams.set('code', `${code.slice(0, -2)}${code.endsWith('AA') ? 'BB' : 'AA'}`);
    expect(await failureOf(rp.finish(callback, attempt))).toMatchObject({ code: 'token_rejected', providerError: 'invalid_grant' });

    const other = await rp.begin('/');
    const genuine = await loginWithProvider(other.authorizationUrl, 'alice');
    const forged: SignInAttempt = { ...attempt, state: other.attempt.state };
    expect(await failureOf(rp.finish(genuine, forged))).toMatchObject({ code: 'token_rejected', providerError: 'invalid_grant' });
  });

  it('refuses an ID token whose nonce is not the attempt\'s', async () => {
    const { authorizationUrl, attempt } = await rp.begin('/');
    const callback = await loginWithProvider(authorizationUrl, 'alice');
    expect(await failureOf(rp.finish(callback, { ...attempt, nonce: 'n'.repeat(43) })))
      .toMatchObject({ code: 'invalid_callback', message: expect.stringContaining('"nonce"') });
  });

  it.each(['login', 'consent'] as const)('reports the provider\'s access_denied when the person cancels at %s', async (cancelAt) => {
    const { authorizationUrl, attempt } = await rp.begin('/');
    const callback = await loginWithProvider(authorizationUrl, 'alice', { cancelAt });
    expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
    const failure = await failureOf(rp.finish(callback, attempt));
    expect(failure).toMatchObject({ code: 'provider_error', providerError: 'access_denied', providerDescription: 'End-User aborted interaction' });
    expect(failure.message).toBe('the identity provider refused the sign-in: access_denied (End-User aborted interaction)');
  });

  it('refuses an attempt older than allowed before asking the provider', async () => {
    let clock = Date.now();
    const slow = await createRelyingParty({ ...options(), attemptMaxAgeMs: 60_000, now: () => clock });
    const { authorizationUrl, attempt } = await slow.begin('/');
    const callback = await loginWithProvider(authorizationUrl, 'alice');
    clock += 60_001;
    expect(await failureOf(slow.finish(callback, attempt))).toMatchObject({ code: 'attempt_expired' });
  });

  it('reads group changes at refresh, and ends when the user is gone', async () => {
    await op.setUser('carol', { email: 'carol@example.test', groups: ['prefect-admins', 'prefect-developers'] });
    const { authorizationUrl, attempt } = await rp.begin('/');
    const signedIn = await rp.finish(await loginWithProvider(authorizationUrl, 'carol'), attempt);
    expect(readGroups(signedIn.claims)).toEqual(['prefect-admins', 'prefect-developers']);

    await op.setUser('carol', { email: 'carol@example.test', groups: ['prefect-developers'] });
    const refreshed = await rp.refresh(signedIn.tokens.refreshToken ?? '', signedIn.subject);
    expect(refreshed.subject).toBe('carol');
    expect(readGroups(refreshed.claims)).toEqual(['prefect-developers']);
    expect(refreshed.tokens.refreshToken).toEqual(expect.any(String));

    await op.removeUser('carol');
    expect(await failureOf(rp.refresh(refreshed.tokens.refreshToken ?? '', 'carol'))).toMatchObject({ code: 'refresh_rejected', providerError: 'invalid_grant' });
  });

  it('refuses a refresh that speaks of another user, and a made-up refresh token', async () => {
    const { authorizationUrl, attempt } = await rp.begin('/');
    const signedIn = await rp.finish(await loginWithProvider(authorizationUrl, 'bob'), attempt);
    expect(await failureOf(rp.refresh(signedIn.tokens.refreshToken ?? '', 'alice'))).toMatchObject({ code: 'refresh_rejected', message: expect.stringContaining('not the one that signed in') });
    expect(await failureOf(rp.refresh('made-up-refresh-token', 'bob'))).toMatchObject({ code: 'refresh_rejected', providerError: 'invalid_grant' });
  });

  it('builds the provider\'s logout URL, which the provider accepts', async () => {
    const { authorizationUrl, attempt } = await rp.begin('/');
    const signedIn = await rp.finish(await loginWithProvider(authorizationUrl, 'alice'), attempt);
    const logout = rp.endSessionUrl(signedIn.tokens.idToken, LOGGED_OUT_URI, 'bye');
    expect(logout).toBeDefined();
    const url = new URL(logout ?? '');
    expect(`${url.origin}${url.pathname}`).toBe(`${op.issuer}/session/end`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ id_token_hint: signedIn.tokens.idToken, post_logout_redirect_uri: LOGGED_OUT_URI, state: 'bye', client_id: 'proxy' });
    const page = await fetch(url, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('logout');
  });

  it('verifies ES256-signed ID tokens too', async () => {
    const es = await createRelyingParty({ ...options(), clientId: ES256_WEB.clientId, clientSecret: ES256_WEB.clientSecret });
    const { authorizationUrl, attempt } = await es.begin('/');
    const callback = await loginWithProvider(authorizationUrl, 'alice');
    const result = await es.finish(callback, attempt);
    expect(JSON.parse(Buffer.from(result.tokens.idToken?.split('.')[0] ?? '', 'base64url').toString())).toMatchObject({ alg: 'ES256' });
    expect(result.subject).toBe('alice');
  });

  it('reports a wrong client secret as the provider\'s refusal', async () => {
    const wrong = await createRelyingParty({ ...options(), clientSecret: 'not-the-secret' });
    const { authorizationUrl, attempt } = await wrong.begin('/');
    const failure = await failureOf(wrong.finish(await loginWithProvider(authorizationUrl, 'alice'), attempt));
    expect(failure).toMatchObject({ code: 'token_rejected', providerError: 'invalid_client' });
    expect(failure.message).not.toContain('not-the-secret');
  });
});

describe('relying party set-up failures', () => {
  it('fails cleanly when the issuer is unreachable', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const failure = await failureOf(createRelyingParty({
      issuerUrl: `http://127.0.0.1:${port}`, clientId: 'proxy', clientSecret: 'secret-value', redirectUri: REDIRECT_URI, timeoutMs: 2000,
    }));
    expect(failure).toMatchObject({ code: 'discovery_failed', message: `discovery of the identity provider at http://127.0.0.1:${port}/ failed: the identity provider did not answer (connection refused)` });
  });

  it('fails cleanly when the issuer does not answer in time', async () => {
    const sockets = new Set<Socket>();
    const silent = http.createServer(() => undefined);
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const failure = await failureOf(createRelyingParty({
        issuerUrl: `http://127.0.0.1:${port}`, clientId: 'proxy', clientSecret: 'secret-value', redirectUri: REDIRECT_URI, timeoutMs: 300,
      }));
      expect(failure).toMatchObject({ code: 'discovery_failed', message: expect.stringContaining('timed out') });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails cleanly when the metadata names another issuer', async () => {
    const op = await startOidcProvider({ webClients: [WEB] });
    const relay = http.createServer((req, res) => {
      // Serves the real provider's metadata under a different issuer URL.
      void fetch(`${op.issuer}${req.url ?? '/'}`).then(async (upstream) => res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()));
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const failure = await failureOf(createRelyingParty({
        issuerUrl: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`, clientId: 'proxy', clientSecret: 'x', redirectUri: REDIRECT_URI,
      }));
      expect(failure).toMatchObject({ code: 'discovery_failed', message: expect.stringContaining('issuer does not match') });
    } finally {
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      await op.stop();
    }
  });

  it('refuses a plain-http issuer that is not on this machine, before any request', async () => {
    expect(await failureOf(createRelyingParty({ issuerUrl: 'http://login.example.com', clientId: 'p', clientSecret: 's', redirectUri: REDIRECT_URI })))
      .toMatchObject({ code: 'insecure_issuer' });
  });

  it('has no logout URL when the provider has no end_session_endpoint', async () => {
    const op = await startOidcProvider({ webClients: [WEB], users: { alice: ALICE }, endSession: false });
    try {
      const rp = await createRelyingParty({ issuerUrl: op.issuer, clientId: WEB.clientId, clientSecret: WEB.clientSecret, redirectUri: REDIRECT_URI });
      expect(rp.endSessionUrl('id-token', LOGGED_OUT_URI)).toBeUndefined();
    } finally {
      await op.stop();
    }
  });
});
