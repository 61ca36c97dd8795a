export { lifetimeChoices, ownKeyScopes, rolesWithin } from './access';
export { DEFAULT_ATTEMPT_MAX_AGE_MS, decodeAttempt, encodeAttempt, isAttemptExpired } from './attempt';
export type { SignInAttempt } from './attempt';
export { decideSignIn, DEFAULT_GROUPS_CLAIM, DEFAULT_USER_CLAIM, mapGroupsToRoles, pickUserId, readClaim, readGroups } from './claims';
export type { ClaimRules, Claims, SignInDecision } from './claims';
export {
  buildAttemptCookie, buildSessionCookie, clearAttemptCookie, clearSessionCookie, cookieSettingsFor, readAttemptCookie, readSessionId, stripProxyCookies,
} from './cookies';
export type { CookieSettings } from './cookies';
export { isSignInError, SignInError } from './failure';
export type { SignInErrorCode } from './failure';
export { parseGroupRoles } from './group-roles';
export type { ParsedGroupRoles } from './group-roles';
export { checkIssuerUrl, isLoopbackHost } from './issuer-url';
export { DEFAULT_NEXT_PATH, isSafeNextPath, MAX_NEXT_PATH_LENGTH, safeNextPath } from './next-path';
export { checkOrigin } from './origin-check';
export type { OriginCheckInput, OriginVerdict } from './origin-check';
export { createRelyingParty } from './relying-party';
export type { BeganSignIn, RelyingParty, RelyingPartyOptions, SignInResult, SignInTokens } from './relying-party';
export { createSignIn } from './service';
export type { SignIn, SignInDeps } from './service';
