import type { CompiledScopes, RoleTable } from '../authz';
import { compileScopes, expandRoles } from '../authz';
import type { Claims } from './claim-path';
import { claimText, readClaimPath } from './claim-path';
import type { TrustedIssuer } from './types';

const MAX_SUBJECT_LENGTH = 256;
// No control characters (audit lines, logs) and no padding that would make two names look alike.
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const USABLE_SUBJECT = /^[^\s\u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f])?$/;

/** The machine's name from the issuer's subject claim, or undefined when it is not a usable string. */
export function readSubject(claims: Claims, issuer: TrustedIssuer): string | undefined {
  const value = readClaimPath(claims, issuer.subjectClaim);
  return typeof value === 'string' && value.length <= MAX_SUBJECT_LENGTH && USABLE_SUBJECT.test(value) ? value : undefined;
}

/** Claims worth naming in an audit record even when no rule reads them. */
const IDENTIFYING_CLAIMS = ['sub', 'client_id', 'azp', 'jti'];
const MAX_SUMMARY_VALUE = 200;

/**
 * The claims that decided (the subject claim and those the role rules read) and a few that
 * identify the token, as bounded text: enough for an audit record to say which workflow, pod or
 * client it was, without copying the whole token.
 */
export function summarizeClaims(claims: Claims, issuer: TrustedIssuer): Record<string, string> {
  const names = new Set([issuer.subjectClaim, ...issuer.rules.flatMap((r) => r.when.map((c) => c.claim)), ...IDENTIFYING_CLAIMS]);
  const summary: Record<string, string> = {};
  for (const name of names) {
    const value = readClaimPath(claims, name);
    const text = Array.isArray(value) ? value.map(claimText).filter((v) => v !== undefined).join(',') : claimText(value);
    if (text !== undefined && text !== '') summary[name] = text.length > MAX_SUMMARY_VALUE ? `${text.slice(0, MAX_SUMMARY_VALUE)}…` : text;
  }
  return summary;
}

export interface Grants {
  readonly scopeList: readonly string[];
  readonly effectiveScopes: readonly string[];
  readonly scopes: CompiledScopes;
}

/** What a set of roles grants, as a key holding `role:<name>` for each would: the same expansion and compilation. */
export function grantsForRoles(roles: readonly string[], table: RoleTable): Grants {
  const scopeList = roles.map((role) => `role:${role}`);
  const effectiveScopes = expandRoles(scopeList, table).scopes;
  return { scopeList, effectiveScopes, scopes: compileScopes(effectiveScopes) };
}
