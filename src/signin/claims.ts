/** An ID token's or userinfo's claims, as the provider sent them. */
export type Claims = Readonly<Record<string, unknown>>;

export const DEFAULT_USER_CLAIM = 'email';
export const DEFAULT_GROUPS_CLAIM = 'groups';

/** Tried, in this order, after the configured user claim. */
const USER_CLAIM_FALLBACKS = ['preferred_username', 'sub'];
const MAX_USER_ID_LENGTH = 256;
// No control characters (audit lines, logs) and no padding that would make two ids look alike.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const USABLE_USER_ID = /^[^\s\u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f])?$/;

export interface ClaimRules {
  /** Claim that names the user. Default `email`; `preferred_username`, then `sub`, are the fallbacks. */
  readonly userClaim?: string;
  /** Claim that holds the groups: an array, or a space- or comma-separated string. Default `groups`. */
  readonly groupsClaim?: string;
  /** Group → the proxy's roles. Groups are matched exactly (case included). */
  readonly groupRoles: Readonly<Record<string, readonly string[]>>;
  /** When set, only members of at least one of these groups may sign in. */
  readonly allowedGroups?: readonly string[];
}

export type SignInDecision =
  | { readonly allowed: true; readonly user: string; readonly groups: readonly string[]; readonly roles: readonly string[] }
  | { readonly allowed: false; readonly code: 'no_user' | 'not_allowed' | 'no_role'; readonly reason: string; readonly user?: string; readonly groups: readonly string[] };

/**
 * The claim's value, read literally first and then as a dotted path into nested objects
 * (`realm_access.roles` in Keycloak), since namespaced claim names may contain dots themselves.
 */
export function readClaim(claims: Claims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  if (!name.includes('.')) return undefined;
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Who the user is: the configured claim, then `preferred_username`, then `sub`. An `email` the
 * provider marks unverified is skipped, since at some providers users can set it themselves.
 */
export function pickUserId(claims: Claims, userClaim: string = DEFAULT_USER_CLAIM): string | undefined {
  for (const name of [userClaim, ...USER_CLAIM_FALLBACKS.filter((n) => n !== userClaim)]) {
    if (name === 'email' && isUnverified(claims.email_verified)) continue;
    const value = readClaim(claims, name);
    if (typeof value === 'string' && value.length <= MAX_USER_ID_LENGTH && USABLE_USER_ID.test(value)) return value;
  }
  return undefined;
}

function isUnverified(flag: unknown): boolean {
  // Some providers (Amazon Cognito) send the flag as a string.
  return flag === false || flag === 'false';
}

/** The user's groups, in the provider's order, without duplicates; an absent claim means none. */
export function readGroups(claims: Claims, groupsClaim: string = DEFAULT_GROUPS_CLAIM): string[] {
  const value = readClaim(claims, groupsClaim);
  const items = typeof value === 'string' ? value.split(/[\s,]+/)
    : Array.isArray(value) ? value.map((v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v))
    : [];
  return [...new Set(items.filter((g): g is string => typeof g === 'string' && g.trim() !== ''))];
}

/** Every role any of the groups maps to, in mapping order of the groups, without duplicates. */
export function mapGroupsToRoles(groups: readonly string[], groupRoles: Readonly<Record<string, readonly string[]>>): string[] {
  const roles = new Set<string>();
  for (const group of groups) {
    // Own keys only: a group named `constructor` must not reach Object.prototype.
    if (Object.hasOwn(groupRoles, group)) for (const role of groupRoles[group] ?? []) roles.add(role);
  }
  return [...roles];
}

/** Whether these claims may start a session, and as whom with which roles; a refusal says why. */
export function decideSignIn(claims: Claims, rules: ClaimRules): SignInDecision {
  const groups = readGroups(claims, rules.groupsClaim);
  const user = pickUserId(claims, rules.userClaim);
  if (!user) {
    const tried = [rules.userClaim ?? DEFAULT_USER_CLAIM, ...USER_CLAIM_FALLBACKS].filter((n, i, all) => all.indexOf(n) === i).join(', ');
    return { allowed: false, code: 'no_user', reason: `the identity provider sent no usable user name (claims tried: ${tried})`, groups };
  }
  if (rules.allowedGroups && !rules.allowedGroups.some((g) => groups.includes(g))) {
    return { allowed: false, code: 'not_allowed', reason: `${user} is in none of the groups allowed to sign in`, user, groups };
  }
  const roles = mapGroupsToRoles(groups, rules.groupRoles);
  if (roles.length === 0) {
    const held = groups.length ? `groups ${describeGroups(groups)} map` : 'no groups were sent, which maps';
    return { allowed: false, code: 'no_role', reason: `${user} has no role in this proxy (${held} to no role)`, user, groups };
  }
  return { allowed: true, user, groups, roles };
}

const GROUPS_NAMED = 10;

/** A readable, bounded list: quoted (control characters escaped), at most ten, then a count. */
function describeGroups(groups: readonly string[]): string {
  const named = groups.slice(0, GROUPS_NAMED).map((g) => JSON.stringify(g)).join(', ');
  return groups.length > GROUPS_NAMED ? `${named} and ${groups.length - GROUPS_NAMED} more` : named;
}
