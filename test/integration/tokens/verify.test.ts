import { buildRoleTable, expandRoles, isAllowed } from '../../../src/authz';
import type { TokenVerifierOptions, TrustedIssuer, VerifyResult } from '../../../src/tokens';
import { createTokenVerifier, parseTrustedIssuers, TOKEN_REFUSAL_REASONS as R } from '../../../src/tokens';
import { useStarted } from '../../support/lifecycle';
import type { TestClaims, TestKey, TestTokenIssuer } from '../../support/token-issuer';
import { claimsOf, createTestKey, hmacToken, startTokenIssuer, tamperToken, TEST_AUDIENCE, unsignedToken } from '../../support/token-issuer';

const roles = buildRoleTable();
const nowS = () => Math.floor(Date.now() / 1000);

/** The issuer as an operator would configure it (through the real parser). */
function configure(issuer: TestTokenIssuer, fields: Record<string, unknown> = {}): readonly TrustedIssuer[] {
  return parseTrustedIssuers(JSON.stringify({
    issuers: [{
      name: 'test',
      issuer: issuer.issuer,
      audiences: [TEST_AUDIENCE, 'urn:test:other'],
      algorithms: ['RS256', 'ES256'],
      maxLifetime: '1h',
      roles: [
        { when: { sub: 'machine-1' }, grant: 'runner' },
        { when: { sub: 'deploy-*', env: 'prod' }, grant: ['developer', 'runner'] },
      ],
      ...fields,
    }],
  }), { roles });
}

function verifierFor(issuers: readonly TrustedIssuer[], options: Partial<TokenVerifierOptions> = {}) {
  const warnings: Array<{ message: string; meta: Record<string, unknown> }> = [];
  const verifier = createTokenVerifier({
    issuers, roles, fetchTimeoutMs: 2000, warn: (message, meta) => warnings.push({ message, meta }), ...options,
  });
  return { verifier, warnings };
}

function refusal(result: VerifyResult) {
  return result.ok ? { ok: true } : { code: result.code, reason: result.reason };
}

describe('machine tokens from a trusted issuer (own JWKS and discovery server)', () => {
  const issuer = useStarted(() => startTokenIssuer(), (i) => i.stop());
  const other = useStarted(() => startTokenIssuer(), (i) => i.stop());

  describe('a table of tokens', () => {
    let verifier: ReturnType<typeof createTokenVerifier>;
    let foreignKey: TestKey;
    beforeAll(async () => {
      verifier = verifierFor(configure(issuer)).verifier;
      foreignKey = await createTestKey('RS256');
    });

    it.each<[string, () => Promise<string>, ReturnType<typeof refusal>]>([
      ['valid, RS256', () => issuer.sign(), { ok: true }],
      ['valid, ES256', () => issuer.sign({}, { key: issuer.keys.ES256 }), { ok: true }],
      ['valid, an audience among several', () => issuer.sign({ aud: ['urn:elsewhere', 'urn:test:other'] }), { ok: true }],
      ['expired a moment ago, within the clock skew', () => issuer.sign({ iat: nowS() - 300, exp: nowS() - 10 }), { ok: true }],
      ['valid, no typ (as Kubernetes sends them)', () => issuer.sign({}, { header: { typ: undefined } }), { ok: true }],
      ['valid, typ at+jwt (an OAuth access token)', () => issuer.sign({}, { header: { typ: 'at+jwt' } }), { ok: true }],
      ['expired', () => issuer.sign({ iat: nowS() - 600, exp: nowS() - 120 }), { code: 'UNAUTHENTICATED', reason: R.expired }],
      ['not yet valid', () => issuer.sign({ nbf: nowS() + 120 }), { code: 'UNAUTHENTICATED', reason: R.notYetValid }],
      ['issued in the future', () => issuer.sign({ iat: nowS() + 120, exp: nowS() + 600 }), { code: 'UNAUTHENTICATED', reason: R.issuedInFuture }],
      ['wrong audience', () => issuer.sign({ aud: 'urn:elsewhere' }), { code: 'UNAUTHENTICATED', reason: R.audience }],
      ['no audience', () => issuer.sign({ aud: undefined }), { code: 'UNAUTHENTICATED', reason: R.audience }],
      ['an issuer that is not configured', () => other.sign(), { code: 'UNAUTHENTICATED', reason: R.untrustedIssuer }],
      ['our iss, signed by another issuer\'s key', () => other.sign({ iss: issuer.issuer }), { code: 'UNAUTHENTICATED', reason: R.unknownKey }],
      ['our iss and kid, signed by a key we never published', () => issuer.sign({}, { key: { ...foreignKey, kid: issuer.keys.RS256.kid } }), { code: 'UNAUTHENTICATED', reason: R.signature }],
      ['unknown kid', () => issuer.sign({}, { key: foreignKey }), { code: 'UNAUTHENTICATED', reason: R.unknownKey }],
      ['alg none', async () => unsignedToken({ ...claimsOf(await issuer.sign()) }), { code: 'UNAUTHENTICATED', reason: R.algorithm }],
      ['HS256 signed with the public key', async () => hmacToken(claimsOf(await issuer.sign()), await issuer.publicPem(issuer.keys.RS256), issuer.keys.RS256.kid), { code: 'UNAUTHENTICATED', reason: R.algorithm }],
      ['an allowed algorithm family not configured for this issuer (PS256)', async () => issuer.sign({}, { key: await createTestKey('PS256') }), { code: 'UNAUTHENTICATED', reason: R.algorithm }],
      ['tampered payload', async () => tamperToken(await issuer.sign(), { sub: 'deploy-x', env: 'prod' }), { code: 'UNAUTHENTICATED', reason: R.signature }],
      ['tampered header (kid of the other key)', async () => {
        const [, payload, signature] = (await issuer.sign()).split('.');
        const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: issuer.keys.ES256.kid })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      }, { code: 'UNAUTHENTICATED', reason: R.unknownKey }],
      ['lifetime over the maximum', () => issuer.sign({ iat: nowS(), exp: nowS() + 3601 }), { code: 'UNAUTHENTICATED', reason: R.tooLong }],
      ['no exp', () => issuer.sign({ exp: undefined }), { code: 'UNAUTHENTICATED', reason: R.noExpiry }],
      ['exp not a number', () => issuer.sign({ exp: String(nowS() + 60) }), { code: 'UNAUTHENTICATED', reason: R.claims }],
      ['a typ for something else (dpop+jwt)', () => issuer.sign({}, { header: { typ: 'dpop+jwt' } }), { code: 'UNAUTHENTICATED', reason: R.type }],
      ['an unknown critical header', () => issuer.sign({}, { header: { crit: ['x-must-understand'], 'x-must-understand': true } }), { code: 'UNAUTHENTICATED', reason: R.unsupported }],
      ['no subject', () => issuer.sign({ sub: undefined }), { code: 'UNAUTHENTICATED', reason: R.noSubject }],
      ['a subject with a newline', () => issuer.sign({ sub: 'machine-1\nuser=admin' }), { code: 'UNAUTHENTICATED', reason: R.noSubject }],
      ['claims that map to no role', () => issuer.sign({ sub: 'stranger' }), { code: 'UNAUTHENTICATED', reason: R.noRole }],
      ['one condition of a rule missing', () => issuer.sign({ sub: 'deploy-x', env: 'staging' }), { code: 'UNAUTHENTICATED', reason: R.noRole }],
      ['not a JWT', async () => 'pap_notajwt', { code: 'UNAUTHENTICATED', reason: R.malformed }],
    ])('%s', async (_case, make, expected) => {
      const token = await make();
      const result = await verifier.verify(token);
      expect(refusal(result)).toEqual(expected);
      // The refusal never carries the token, nor its signature.
      expect(JSON.stringify(result)).not.toContain(token.split('.').at(-1) || token);
    });
  });

  it('a verified token: issuer, subject, roles expanded like a key\'s, expiry, token id, claims that decided', async () => {
    const { verifier } = verifierFor(configure(issuer));
    const exp = nowS() + 120;
    const result = await verifier.verify(await issuer.sign({ sub: 'deploy-7', env: 'prod', jti: 'j-1', email: 'not@summarized', exp }));
    if (!result.ok) throw new Error(result.reason);
    const { identity } = result;
    expect(identity).toMatchObject({
      issuer: issuer.issuer, issuerName: 'test', subject: 'deploy-7', roles: ['developer', 'runner'],
      scopeList: ['role:developer', 'role:runner'], expiresAt: exp * 1000,
      claimsSummary: { sub: 'deploy-7', env: 'prod', jti: 'j-1' },
    });
    expect(identity.tokenId).toMatch(/^[0-9a-f]{12}$/);
    // The machine's id is the same for its next token; the token id is not.
    const next = await verifier.verify(await issuer.sign({ sub: 'deploy-7', env: 'prod', jti: 'j-2' }));
    expect(next.ok && [next.identity.machineId, next.identity.tokenId]).toEqual([identity.machineId, expect.not.stringMatching(identity.tokenId)]);
    expect(identity.machineId).toMatch(/^[0-9a-f]{12}$/);
    // Shared by every request presenting the token: frozen.
    expect(Object.isFrozen(identity) && Object.isFrozen(identity.roles) && Object.isFrozen(identity.claimsSummary)).toBe(true);
    expect(identity.effectiveScopes).toEqual(expandRoles(['role:developer', 'role:runner'], roles).scopes);
    expect(isAllowed(identity.scopes, ['write', 'deployments', 'update'])).toBe(true);
    expect(isAllowed(identity.scopes, ['admin'])).toBe(false);
  });

  it('tells a key from a token for the pipeline: keys are not hashed nor decoded, a token is verified, a tampered one refused', async () => {
    const { verifier } = verifierFor(configure(issuer));
    for (const key of ['pap_3kJx9s-key', 'benchkey-1', 'e.not-a-token', 'eyJhbGciOi', 'eyJub3Rqc29u.e30.x']) expect(verifier.verifyIfToken(key)).toBeUndefined();
    const token = await issuer.sign();
    expect(await verifier.verifyIfToken(token)).toMatchObject({ ok: true });
    // From the cache the second time, the same answer.
    expect(await verifier.verifyIfToken(token)).toMatchObject({ ok: true });
    const [h, p] = token.split('.');
    const tampered = `${h}.${p}.${'A'.repeat(40)}`;
    expect(await verifier.verifyIfToken(tampered)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
    // A header with a space after the brace encodes to `eyA`: still a token, still verified.
    const spaced = `${Buffer.from('{ "alg": "none" }').toString('base64url')}.${p}.`;
    expect(await verifier.verifyIfToken(spaced)).toMatchObject({ ok: false });
  });

  it('a refusal for lack of role names the machine and issuer for the audit record', async () => {
    const { verifier } = verifierFor(configure(issuer));
    expect(await verifier.verify(await issuer.sign({ sub: 'stranger' }))).toEqual({
      ok: false, code: 'UNAUTHENTICATED', reason: R.noRole, issuer: issuer.issuer, subject: 'stranger',
    });
  });

  it('a token of an issuer that is not configured is refused without fetching anything', async () => {
    const { verifier } = verifierFor(configure(issuer));
    const before = other.requestCount('/jwks') + other.requestCount('/.well-known/openid-configuration');
    expect(refusal(await verifier.verify(await other.sign()))).toEqual({ code: 'UNAUTHENTICATED', reason: R.untrustedIssuer });
    expect(other.requestCount('/jwks') + other.requestCount('/.well-known/openid-configuration')).toBe(before);
  });

  it('alg none and HS256 are refused before any key is fetched', async () => {
    const fresh = await startTokenIssuer();
    try {
      const { verifier } = verifierFor(configure(fresh));
      const claims = claimsOf(await fresh.sign());
      expect(refusal(await verifier.verify(unsignedToken(claims)))).toEqual({ code: 'UNAUTHENTICATED', reason: R.algorithm });
      expect(refusal(await verifier.verify(hmacToken(claims, await fresh.publicPem(fresh.keys.RS256))))).toEqual({ code: 'UNAUTHENTICATED', reason: R.algorithm });
      expect(fresh.requestCount('/jwks') + fresh.requestCount('/.well-known/openid-configuration')).toBe(0);
    } finally {
      await fresh.stop();
    }
  });

  describe('the verification cache', () => {
    it('a second use of a token verifies nothing again and gives the same identity', async () => {
      const { verifier } = verifierFor(configure(issuer));
      const token = await issuer.sign();
      const first = await verifier.verify(token);
      const fetched = issuer.requestCount('/jwks');
      const second = await verifier.verify(token);
      expect(second).toBe(first);
      expect(issuer.requestCount('/jwks')).toBe(fetched);
      expect(verifier.cacheSize).toBe(1);
    });

    it('a cached token stops working at its expiry', async () => {
      let clock = Date.now();
      const { verifier } = verifierFor(configure(issuer), { now: () => clock });
      const exp = nowS() + 60;
      const token = await issuer.sign({ exp });
      expect((await verifier.verify(token)).ok).toBe(true);
      clock = exp * 1000 + 31_000; // past exp and the 30 s clock skew
      expect(refusal(await verifier.verify(token))).toEqual({ code: 'UNAUTHENTICATED', reason: R.expired });
    });

    it('is bounded', async () => {
      const { verifier } = verifierFor(configure(issuer), { cacheMax: 2 });
      for (const jti of ['a', 'b', 'c']) expect((await verifier.verify(await issuer.sign({ jti }))).ok).toBe(true);
      expect(verifier.cacheSize).toBe(2);
    });

    it('refusals of tokens that did not verify are not remembered', async () => {
      const { verifier } = verifierFor(configure(issuer));
      await verifier.verify(await issuer.sign({ aud: 'urn:elsewhere' }));
      expect(verifier.cacheSize).toBe(0);
    });
  });

  describe('key rotation and unknown kid', () => {
    it('a token signed with a new key verifies once the issuer publishes it', async () => {
      const { verifier } = verifierFor(configure(issuer), { jwksCooldownMs: 0 });
      expect((await verifier.verify(await issuer.sign())).ok).toBe(true);
      const next = await issuer.createKey('ES256');
      const token = await issuer.sign({}, { key: next });
      expect(refusal(await verifier.verify(token))).toEqual({ code: 'UNAUTHENTICATED', reason: R.unknownKey });
      issuer.publish(next);
      try {
        expect((await verifier.verify(token)).ok).toBe(true);
      } finally {
        issuer.unpublish(next);
      }
    });

    it('within the cooldown an unknown kid does not make the verifier fetch the keys again', async () => {
      const { verifier } = verifierFor(configure(issuer));
      expect((await verifier.verify(await issuer.sign())).ok).toBe(true);
      const fetched = issuer.requestCount('/jwks');
      const stranger = await createTestKey('RS256');
      for (let i = 0; i < 5; i++) {
        expect(refusal(await verifier.verify(await issuer.sign({ jti: `u${i}` }, { key: stranger })))).toEqual({ code: 'UNAUTHENTICATED', reason: R.unknownKey });
      }
      expect(issuer.requestCount('/jwks')).toBe(fetched);
    });
  });

  describe('the key endpoint down', () => {
    afterEach(() => issuer.setJwksAvailable(true));

    it('cached tokens keep working; new ones get 503, never an allow nor a 401; back up, they verify', async () => {
      // Keys never count as fresh, so every uncached token needs the endpoint.
      const { verifier, warnings } = verifierFor(configure(issuer), { jwksMaxAgeMs: 0 });
      const cached = await issuer.sign({ jti: 'cached' });
      expect((await verifier.verify(cached)).ok).toBe(true);
      issuer.setJwksAvailable(false);
      const uncached = await issuer.sign({ jti: 'uncached' });
      expect((await verifier.verify(cached)).ok).toBe(true);
      expect(refusal(await verifier.verify(uncached))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
      expect(refusal(await verifier.verify(await issuer.sign({ jti: 'another' })))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
      // One line for the outage, not one per request; it names the issuer and never a token.
      expect(warnings).toEqual([{ message: 'trusted issuer keys unavailable', meta: { issuer: 'test', error: expect.any(String) } }]);
      expect(JSON.stringify(warnings)).not.toContain(uncached.split('.')[2]);
      issuer.setJwksAvailable(true);
      expect((await verifier.verify(uncached)).ok).toBe(true);
    });

    it('a verifier that never got the keys answers 503', async () => {
      issuer.setJwksAvailable(false);
      const { verifier } = verifierFor(configure(issuer));
      expect(refusal(await verifier.verify(await issuer.sign()))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
    });

    it('an unreachable key endpoint (nothing listening) answers 503', async () => {
      const gone = await startTokenIssuer();
      const { verifier } = verifierFor(configure(gone));
      const token = await gone.sign();
      await gone.stop();
      expect(refusal(await verifier.verify(token))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
    });

    it('checkIssuers reports the outage, then the recovery', async () => {
      const { verifier } = verifierFor(configure(issuer));
      issuer.setJwksAvailable(false);
      expect(await verifier.checkIssuers()).toEqual([{ issuer: issuer.issuer, ok: false, error: expect.stringContaining('200 OK') }]);
      issuer.setJwksAvailable(true);
      expect(await verifier.checkIssuers()).toEqual([{ issuer: issuer.issuer, ok: true }]);
    });
  });

  describe('where the keys come from', () => {
    it('OpenID Connect discovery by default', async () => {
      const fresh = await startTokenIssuer();
      try {
        const { verifier } = verifierFor(configure(fresh));
        expect((await verifier.verify(await fresh.sign())).ok).toBe(true);
        expect(fresh.requestCount('/.well-known/openid-configuration')).toBe(1);
        expect(fresh.requestCount('/jwks')).toBe(1);
      } finally {
        await fresh.stop();
      }
    });

    it('RFC 8414 metadata when there is no OpenID configuration, for an issuer with a path', async () => {
      const fresh = await startTokenIssuer({ discovery: 'oauth', path: '/tenant-a' });
      try {
        const { verifier } = verifierFor(configure(fresh));
        expect((await verifier.verify(await fresh.sign())).ok).toBe(true);
        expect(fresh.requestCount('/tenant-a/.well-known/openid-configuration')).toBe(1);
        expect(fresh.requestCount('/.well-known/oauth-authorization-server/tenant-a')).toBe(1);
      } finally {
        await fresh.stop();
      }
    });

    it('metadata naming another issuer is not used: 503, and the operator is told why', async () => {
      const fresh = await startTokenIssuer({ metadataIssuer: 'https://evil.example' });
      try {
        const { verifier, warnings } = verifierFor(configure(fresh));
        expect(refusal(await verifier.verify(await fresh.sign()))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
        expect(fresh.requestCount('/jwks')).toBe(0);
        expect(warnings[0]?.meta.error).toMatch(/names issuer "https:\/\/evil\.example", not the one configured/);
      } finally {
        await fresh.stop();
      }
    });

    it('failed discovery is retried after a pause, not on every request', async () => {
      const fresh = await startTokenIssuer();
      try {
        let clock = Date.now();
        const { verifier } = verifierFor(configure(fresh), { now: () => clock, discoveryRetryMs: 10_000 });
        fresh.setDiscoveryAvailable(false);
        const token = await fresh.sign();
        expect(refusal(await verifier.verify(token))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
        fresh.setDiscoveryAvailable(true);
        expect(refusal(await verifier.verify(token))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
        expect(fresh.requestCount('/.well-known/openid-configuration')).toBe(1);
        clock += 10_000;
        expect((await verifier.verify(token)).ok).toBe(true);
        expect(fresh.requestCount('/.well-known/openid-configuration')).toBe(2);
      } finally {
        await fresh.stop();
      }
    });

    it('a configured jwksUri: no discovery', async () => {
      const fresh = await startTokenIssuer({ discovery: 'none' });
      try {
        const { verifier } = verifierFor(configure(fresh, { jwksUri: fresh.jwksUri }));
        expect((await verifier.verify(await fresh.sign())).ok).toBe(true);
        expect(fresh.requestCount('/.well-known/openid-configuration')).toBe(0);
      } finally {
        await fresh.stop();
      }
    });

    it('keys written in the file: nothing is fetched', async () => {
      const fresh = await startTokenIssuer();
      try {
        const { verifier } = verifierFor(configure(fresh, { jwks: { keys: [fresh.keys.ES256.publicJwk] } }));
        expect((await verifier.verify(await fresh.sign({}, { key: fresh.keys.ES256 }))).ok).toBe(true);
        expect(refusal(await verifier.verify(await fresh.sign()))).toEqual({ code: 'UNAUTHENTICATED', reason: R.unknownKey });
        expect(fresh.requestCount('/jwks') + fresh.requestCount('/.well-known/openid-configuration')).toBe(0);
      } finally {
        await fresh.stop();
      }
    });
  });

  it('a nested subject claim (Kubernetes-style) names the machine', async () => {
    const { verifier } = verifierFor(configure(issuer, {
      subjectClaim: 'kubernetes.io.serviceaccount.name',
      roles: [{ when: { 'kubernetes.io.namespace': 'prefect', sub: 'system:serviceaccount:prefect:*' }, grant: 'worker' }],
    }));
    const claims: TestClaims = { sub: 'system:serviceaccount:prefect:worker-a', 'kubernetes.io': { namespace: 'prefect', serviceaccount: { name: 'worker-a', uid: 'u-1' } } };
    const result = await verifier.verify(await issuer.sign(claims, { header: { typ: undefined } }));
    expect(result.ok && { subject: result.identity.subject, roles: result.identity.roles, summary: result.identity.claimsSummary }).toEqual({
      subject: 'worker-a', roles: ['worker'],
      summary: { 'kubernetes.io.serviceaccount.name': 'worker-a', 'kubernetes.io.namespace': 'prefect', sub: 'system:serviceaccount:prefect:worker-a' },
    });
  });
});
