import type { JsonWebKey } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';
import { buildRoleTable } from '../../../src/authz';
import type { TrustedIssuer, VerifyResult } from '../../../src/tokens';
import { createTokenVerifier, parseTrustedIssuers, TOKEN_REFUSAL_REASONS as R } from '../../../src/tokens';
import { useStarted } from '../../support/lifecycle';
import type { TestOidcProvider } from '../../support/oidc-provider';
import { startOidcProvider } from '../../support/oidc-provider';
import { claimsOf, hmacToken, tamperToken, unsignedToken } from '../../support/token-issuer';

const roles = buildRoleTable();
const nowS = () => Math.floor(Date.now() / 1000);

/** client_credentials clients of the real provider, with the claims a CI system would add. */
const MACHINES = [
  { clientId: 'etl-rs', clientSecret: 's1', accessTokenAlg: 'RS256', extraClaims: { repository: 'acme/etl' } },
  { clientId: 'web-es', clientSecret: 's2', accessTokenAlg: 'ES256', extraClaims: { repository: 'acme/web' } },
  { clientId: 'nobody', clientSecret: 's3', extraClaims: { repository: 'evil/etl' } },
  { clientId: 'long-lived', clientSecret: 's4', accessTokenTtl: 7200, extraClaims: { repository: 'acme/etl' } },
] as const;

function configure(op: TestOidcProvider): readonly TrustedIssuer[] {
  return parseTrustedIssuers(JSON.stringify({
    issuers: [{
      name: 'op',
      issuer: op.issuer,
      audiences: [op.audience],
      algorithms: ['RS256', 'ES256'],
      subjectClaim: 'client_id',
      maxLifetime: 3600,
      roles: [
        { when: { repository: 'acme/etl' }, grant: 'runner' },
        { when: { repository: 'acme/web' }, grant: 'viewer' },
      ],
    }],
  }), { roles });
}

function outcome(result: VerifyResult) {
  return result.ok ? { subject: result.identity.subject, roles: result.identity.roles } : { code: result.code, reason: result.reason };
}

/** A token signed with the provider's own private key: what it would never issue (expired, unknown kid, ...). */
async function mint(op: TestOidcProvider, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const jwk = op.signingKeys.RS256;
  const key = await importJWK(jwk as Record<string, string>, 'RS256');
  const payload = { iss: op.issuer, aud: op.audience, sub: 'etl-rs', client_id: 'etl-rs', repository: 'acme/etl', iat: nowS(), exp: nowS() + 300, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid, ...header }).sign(key);
}

describe('machine tokens from a real OpenID Provider (panva oidc-provider, client_credentials, at+jwt)', () => {
  const op = useStarted(() => startOidcProvider({ machineClients: MACHINES }), (p) => p.stop());
  const publicPem = () => createPublicKey({ key: op.signingKeys.RS256 as unknown as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();

  it.each<[string, (op: TestOidcProvider) => Promise<string>, ReturnType<typeof outcome>]>([
    ['RS256 access token', (p) => p.clientCredentialsToken('etl-rs'), { subject: 'etl-rs', roles: ['runner'] }],
    ['ES256 access token', (p) => p.clientCredentialsToken('web-es'), { subject: 'web-es', roles: ['viewer'] }],
    ['wrong audience (another resource)', (p) => p.clientCredentialsToken('etl-rs', { resource: 'urn:elsewhere' }), { code: 'UNAUTHENTICATED', reason: R.audience }],
    ['claims that map to no role', (p) => p.clientCredentialsToken('nobody'), { code: 'UNAUTHENTICATED', reason: R.noRole }],
    ['lifetime over the maximum (2 h token, 1 h allowed)', (p) => p.clientCredentialsToken('long-lived'), { code: 'UNAUTHENTICATED', reason: R.tooLong }],
    ['tampered payload', async (p) => tamperToken(await p.clientCredentialsToken('nobody'), { repository: 'acme/etl' }), { code: 'UNAUTHENTICATED', reason: R.signature }],
    ['alg none', async (p) => unsignedToken(claimsOf(await p.clientCredentialsToken('etl-rs'))), { code: 'UNAUTHENTICATED', reason: R.algorithm }],
    ['HS256 signed with the provider\'s public key', async (p) => hmacToken(claimsOf(await p.clientCredentialsToken('etl-rs')), publicPem(), p.signingKeys.RS256.kid), { code: 'UNAUTHENTICATED', reason: R.algorithm }],
    ['expired (provider key)', (p) => mint(p, { iat: nowS() - 900, exp: nowS() - 300 }), { code: 'UNAUTHENTICATED', reason: R.expired }],
    ['not yet valid (provider key)', (p) => mint(p, { nbf: nowS() + 300 }), { code: 'UNAUTHENTICATED', reason: R.notYetValid }],
    ['wrong issuer (provider key, another iss)', (p) => mint(p, { iss: 'https://issuer.elsewhere.example' }), { code: 'UNAUTHENTICATED', reason: R.untrustedIssuer }],
    ['unknown kid (provider key)', (p) => mint(p, {}, { kid: 'not-published' }), { code: 'UNAUTHENTICATED', reason: R.unknownKey }],
    ['no exp (provider key)', (p) => mint(p, { exp: undefined }), { code: 'UNAUTHENTICATED', reason: R.noExpiry }],
  ])('%s', async (_case, make, expected) => {
    const verifier = createTokenVerifier({ issuers: configure(op), roles, fetchTimeoutMs: 5000 });
    const token = await make(op);
    expect(outcome(await verifier.verify(token))).toEqual(expected);
  });

  it('the access tokens are what the test claims they are: at+jwt, RS256 or ES256, issued by the provider', async () => {
    const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(headerOf(await op.clientCredentialsToken('etl-rs'))).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: op.signingKeys.RS256.kid });
    expect(headerOf(await op.clientCredentialsToken('web-es'))).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: op.signingKeys.ES256.kid });
    expect(claimsOf(await op.clientCredentialsToken('etl-rs'))).toMatchObject({ iss: op.issuer, aud: op.audience, client_id: 'etl-rs', repository: 'acme/etl' });
  });

  it('key endpoint down: cached tokens keep working, new ones get 503 until it is back', async () => {
    const verifier = createTokenVerifier({ issuers: configure(op), roles, fetchTimeoutMs: 5000, jwksMaxAgeMs: 0 });
    const cached = await op.clientCredentialsToken('etl-rs');
    expect((await verifier.verify(cached)).ok).toBe(true);
    await op.setJwksAvailable(false);
    try {
      const uncached = await op.clientCredentialsToken('web-es');
      expect((await verifier.verify(cached)).ok).toBe(true);
      expect(outcome(await verifier.verify(uncached))).toEqual({ code: 'SERVICE_UNAVAILABLE', reason: R.keysUnavailable });
      await op.setJwksAvailable(true);
      expect(outcome(await verifier.verify(uncached))).toEqual({ subject: 'web-es', roles: ['viewer'] });
    } finally {
      await op.setJwksAvailable(true);
    }
  });
});
