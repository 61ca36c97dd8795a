import type { Claims } from './claim-path';
import { claimText, readClaimPath } from './claim-path';
import type { ClaimCondition, RoleRule } from './types';

/** `*` matches any run of characters (`/` and `:` included); everything else is literal; the whole value must match. */
export function compileClaimPattern(pattern: string): RegExp {
  const body = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`, 's');
}

/** The claim's values as text: one for a scalar, each usable element of an array (`aud`, `groups`). */
function claimValues(claims: Claims, claim: string): string[] {
  const value = readClaimPath(claims, claim);
  const items = Array.isArray(value) ? value : [value];
  return items.map(claimText).filter((v): v is string => v !== undefined);
}

export function matchCondition(claims: Claims, condition: ClaimCondition): boolean {
  const values = claimValues(claims, condition.claim);
  return values.some((value) => condition.matchers.some((m) => m.test(value)));
}

export function matchRule(claims: Claims, rule: RoleRule): boolean {
  return rule.when.every((condition) => matchCondition(claims, condition));
}

/** Every role granted by a rule whose conditions all hold, in rule order, without duplicates. */
export function rolesForClaims(claims: Claims, rules: readonly RoleRule[]): string[] {
  const roles = new Set<string>();
  for (const rule of rules) {
    if (matchRule(claims, rule)) for (const role of rule.grant) roles.add(role);
  }
  return [...roles];
}
