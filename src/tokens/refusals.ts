import type { TokenRefusalCode } from './types';

export interface Refusal {
  readonly ok: false;
  readonly code: TokenRefusalCode;
  readonly reason: string;
  readonly issuer?: string;
  readonly subject?: string;
}

/** Fixed, short reasons: shown to the client and logged, so they never carry the token or a claim. */
export const REASONS = {
  malformed: 'malformed token',
  untrustedIssuer: 'token issuer not trusted',
  type: 'token type not accepted',
  algorithm: 'token algorithm not allowed',
  signature: 'token signature invalid',
  unknownKey: 'token signing key unknown',
  ambiguousKey: 'token signing key ambiguous',
  expired: 'token expired',
  notYetValid: 'token not yet valid',
  issuedInFuture: 'token issued in the future',
  audience: 'token audience not accepted',
  noExpiry: 'token has no expiry',
  tooLong: 'token lifetime exceeds the maximum',
  claims: 'token claims not accepted',
  unsupported: 'token not supported',
  noSubject: 'token names no usable subject',
  noRole: 'no role for this machine identity',
  keysUnavailable: 'issuer keys unavailable; try again shortly',
} as const;

export function unauthenticated(reason: string, who?: { issuer: string; subject: string }): Refusal {
  return { ok: false, code: 'UNAUTHENTICATED', reason, ...who };
}

export function unavailable(): Refusal {
  return { ok: false, code: 'SERVICE_UNAVAILABLE', reason: REASONS.keysUnavailable };
}

const BY_CLAIM: Record<string, string> = {
  nbf: REASONS.notYetValid,
  aud: REASONS.audience,
  iss: REASONS.untrustedIssuer,
  exp: REASONS.noExpiry,
  iat: REASONS.issuedInFuture,
};

/** jose's error codes that mean "this token is not good"; matched by value (`code`), not class. */
const TOKEN_FAULTS: Record<string, string> = {
  ERR_JWT_EXPIRED: REASONS.expired,
  ERR_JOSE_ALG_NOT_ALLOWED: REASONS.algorithm,
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: REASONS.signature,
  ERR_JWKS_NO_MATCHING_KEY: REASONS.unknownKey,
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: REASONS.ambiguousKey,
  ERR_JWS_INVALID: REASONS.malformed,
  ERR_JWT_INVALID: REASONS.malformed,
  ERR_JOSE_NOT_SUPPORTED: REASONS.unsupported,
};

/**
 * What a failed jwtVerify means for the client. Faults of the token are 401. Anything else
 * (the key endpoint down or slow, its answer not a key set, discovery failing) is 503: the client
 * must not conclude that its token is bad, and nothing is allowed.
 */
export function classifyVerifyError(err: unknown): Refusal {
  const code = (err as { code?: unknown })?.code;
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const { claim, reason } = err as { claim?: unknown; reason?: unknown };
    // `invalid`: the claim is there but not a number or string as it must be.
    if (reason === 'invalid' || typeof claim !== 'string' || !Object.hasOwn(BY_CLAIM, claim)) return unauthenticated(REASONS.claims);
    return unauthenticated(BY_CLAIM[claim] as string);
  }
  if (typeof code === 'string' && Object.hasOwn(TOKEN_FAULTS, code)) return unauthenticated(TOKEN_FAULTS[code] as string);
  return unavailable();
}
