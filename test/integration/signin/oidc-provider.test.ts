import { createRemoteJWKSet, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from 'jose';
import { useStarted } from '../../support/lifecycle';
import { startOidcProvider } from '../../support/oidc-provider';

/**
 * The test OpenID Provider's machine side, as the machine-token work (issue 14) will use it:
 * client_credentials JWT access tokens, RS256 and ES256, with extra claims, checked with jose
 * against the provider's published keys.
 */
describe('test OpenID Provider: machine tokens', () => {
  const op = useStarted(() => startOidcProvider({
    machineClients: [
      { clientId: 'ci-rsa', clientSecret: 'rsa-secret', extraClaims: { repository: 'acme/etl' } },
      { clientId: 'ci-ec', clientSecret: 'ec-secret', accessTokenAlg: 'ES256', scope: 'prefect:run prefect:read', extraClaims: { groups: ['workers'] }, accessTokenTtl: 120 },
    ],
  }), (started) => started.stop());

  it.each([
    ['ci-rsa', 'RS256', { repository: 'acme/etl' }, 300],
    ['ci-ec', 'ES256', { groups: ['workers'] }, 120],
  ] as const)('%s gets an at+jwt signed %s with its claims', async (clientId, alg, extra, ttl) => {
    const token = await op.clientCredentialsToken(clientId);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg, typ: 'at+jwt', kid: op.signingKeys[alg].kid });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUri)), { issuer: op.issuer, audience: op.audience, typ: 'at+jwt' });
    expect(payload).toMatchObject({ ...extra, sub: clientId, client_id: clientId, iss: op.issuer, aud: op.audience });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(ttl);
  });

  it('grants the scope asked for, and another audience when asked', async () => {
    const token = await op.clientCredentialsToken('ci-ec', { scope: 'prefect:run', resource: 'https://elsewhere.example/' });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUri)), { issuer: op.issuer });
    expect(payload).toMatchObject({ scope: 'prefect:run', aud: 'https://elsewhere.example/' });
  });

  it('drops a scope the resource server does not have, and knows only its own clients', async () => {
    const token = await op.clientCredentialsToken('ci-rsa', { scope: 'admin' });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(op.jwksUri)), { issuer: op.issuer });
    expect(payload.scope).toBeUndefined();
    await expect(op.clientCredentialsToken('nobody')).rejects.toThrow(/no machine client/);
  });

  it('hands out its private keys, so tests can mint tokens it would never issue', async () => {
    const key = await importJWK(op.signingKeys.ES256, 'ES256');
    const expired = await new SignJWT({ client_id: 'ci-ec' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: op.signingKeys.ES256.kid })
      .setIssuer(op.issuer).setAudience(op.audience).setIssuedAt(1_000).setExpirationTime(2_000).sign(key);
    await expect(jwtVerify(expired, createRemoteJWKSet(new URL(op.jwksUri)))).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
  });

  it('takes the key endpoint down and back while the rest keeps answering', async () => {
    await op.setJwksAvailable(false);
    try {
      expect((await fetch(op.jwksUri)).status).toBe(503);
      expect((await fetch(`${op.issuer}/.well-known/openid-configuration`)).status).toBe(200);
      await expect(op.clientCredentialsToken('ci-rsa')).resolves.toMatch(/^ey/);
    } finally {
      await op.setJwksAvailable(true);
    }
    expect((await fetch(op.jwksUri)).status).toBe(200);
  });
});
