export { ALLOWED_ALGORITHMS, DEFAULT_ALGORITHMS } from './algorithms';
export { readClaimPath } from './claim-path';
export type { Claims } from './claim-path';
export {
  DEFAULT_CLOCK_SKEW_S, DEFAULT_MAX_LIFETIME_S, DEFAULT_SUBJECT_CLAIM, loadTrustedIssuers, parseTrustedIssuers, TrustedIssuersError,
} from './parse-issuers';
export type { ParseIssuersOptions } from './parse-issuers';
export { looksLikeJwt, MAX_TOKEN_LENGTH } from './peek';
export { REASONS as TOKEN_REFUSAL_REASONS } from './refusals';
export { rolesForClaims } from './role-rules';
export { createTokenVerifier } from './verifier';
export type { IssuerCheck, TokenVerifier, TokenVerifierOptions } from './verifier';
export type {
  ClaimCondition, InlineJwks, MachineIdentity, RoleRule, TokenAlgorithm, TokenRefusalCode, TrustedIssuer, VerifyResult,
} from './types';
