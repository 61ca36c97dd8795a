import { errors } from 'jose';
import { buildRoleTable } from '../../../src/authz';
import type { TrustedIssuer } from '../../../src/tokens';
import { parseTrustedIssuers, TOKEN_REFUSAL_REASONS as R } from '../../../src/tokens';
import { metadataUrls } from '../../../src/tokens/discovery';
import { classifyVerifyError } from '../../../src/tokens/refusals';
import { checkLifetime } from '../../../src/tokens/verifier';

const claimFailed = (claim: string, reason: string) => new errors.JWTClaimValidationFailed('x', {}, claim, reason);

describe('classifyVerifyError', () => {
  it.each<[string, unknown, 'UNAUTHENTICATED' | 'SERVICE_UNAVAILABLE', string]>([
    ['expired', new errors.JWTExpired('x', {}, 'exp', 'check_failed'), 'UNAUTHENTICATED', R.expired],
    ['not yet valid', claimFailed('nbf', 'check_failed'), 'UNAUTHENTICATED', R.notYetValid],
    ['wrong audience', claimFailed('aud', 'check_failed'), 'UNAUTHENTICATED', R.audience],
    ['no audience', claimFailed('aud', 'missing'), 'UNAUTHENTICATED', R.audience],
    ['wrong issuer', claimFailed('iss', 'check_failed'), 'UNAUTHENTICATED', R.untrustedIssuer],
    ['no expiry', claimFailed('exp', 'missing'), 'UNAUTHENTICATED', R.noExpiry],
    ['exp not a number', claimFailed('exp', 'invalid'), 'UNAUTHENTICATED', R.claims],
    ['another claim', claimFailed('sub', 'check_failed'), 'UNAUTHENTICATED', R.claims],
    ['algorithm not allowed', new errors.JOSEAlgNotAllowed('x'), 'UNAUTHENTICATED', R.algorithm],
    ['bad signature', new errors.JWSSignatureVerificationFailed(), 'UNAUTHENTICATED', R.signature],
    ['unknown kid', new errors.JWKSNoMatchingKey(), 'UNAUTHENTICATED', R.unknownKey],
    ['several keys match', new errors.JWKSMultipleMatchingKeys(), 'UNAUTHENTICATED', R.ambiguousKey],
    ['malformed JWS', new errors.JWSInvalid('x'), 'UNAUTHENTICATED', R.malformed],
    ['malformed claims', new errors.JWTInvalid('x'), 'UNAUTHENTICATED', R.malformed],
    ['unsupported (crit)', new errors.JOSENotSupported('x'), 'UNAUTHENTICATED', R.unsupported],
    ['key endpoint timed out', new errors.JWKSTimeout(), 'SERVICE_UNAVAILABLE', R.keysUnavailable],
    ['key endpoint answered non-200', new errors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response'), 'SERVICE_UNAVAILABLE', R.keysUnavailable],
    ['key endpoint sent no key set', new errors.JWKSInvalid('x'), 'SERVICE_UNAVAILABLE', R.keysUnavailable],
    ['a published key is broken', new errors.JWKInvalid('x'), 'SERVICE_UNAVAILABLE', R.keysUnavailable],
    ['connection refused (fetch)', new TypeError('fetch failed'), 'SERVICE_UNAVAILABLE', R.keysUnavailable],
    ['anything else', new Error('boom'), 'SERVICE_UNAVAILABLE', R.keysUnavailable],
    ['not even an Error', undefined, 'SERVICE_UNAVAILABLE', R.keysUnavailable],
  ])('%s', (_case, err, code, reason) => {
    expect(classifyVerifyError(err)).toEqual({ ok: false, code, reason });
  });
});

describe('checkLifetime', () => {
  const [issuer] = parseTrustedIssuers(`
issuers:
  - issuer: https://i.example
    audiences: a
    maxLifetime: 1h
    clockSkew: 30
    roles: [{ when: { sub: x }, grant: viewer }]
`, { roles: buildRoleTable() }) as [TrustedIssuer];
  const now = 1_700_000_000;

  it.each<[string, Record<string, number>, string | undefined]>([
    ['exactly the maximum', { iat: now, exp: now + 3600 }, undefined],
    ['one second over', { iat: now, exp: now + 3601 }, R.tooLong],
    ['an old token within its lifetime', { iat: now - 3000, exp: now + 600 }, undefined],
    ['issued within the skew ahead', { iat: now + 30, exp: now + 600 }, undefined],
    ['issued beyond the skew ahead', { iat: now + 31, exp: now + 600 }, R.issuedInFuture],
    ['no iat: remaining lifetime within the maximum and skew', { exp: now + 3630 }, undefined],
    ['no iat: remaining lifetime over it', { exp: now + 3631 }, R.tooLong],
  ])('%s', (_case, claims, reason) => {
    expect(checkLifetime(claims, issuer, now * 1000)?.reason).toBe(reason);
  });
});

describe('metadataUrls', () => {
  it.each<[string, string[]]>([
    ['https://token.actions.githubusercontent.com', ['https://token.actions.githubusercontent.com/.well-known/openid-configuration', 'https://token.actions.githubusercontent.com/.well-known/oauth-authorization-server']],
    ['https://login.example.com/tenant-a/v2.0', ['https://login.example.com/tenant-a/v2.0/.well-known/openid-configuration', 'https://login.example.com/.well-known/oauth-authorization-server/tenant-a/v2.0']],
    ['https://issuer.example/realms/x/', ['https://issuer.example/realms/x/.well-known/openid-configuration', 'https://issuer.example/.well-known/oauth-authorization-server/realms/x']],
  ])('%s', (issuer, expected) => {
    expect(metadataUrls(issuer)).toEqual(expected);
  });
});
