/**
 * Scope patterns and permission matching, shared by every API dialect.
 *
 * A permission is a path of segments (`mutation/create_flow_run`, `write/deployments/update`).
 * A pattern matches segment by segment; `*` inside a segment matches any run of characters;
 * a pattern shorter than the permission covers everything below it (`write/deployments` covers
 * `write/deployments/update`). `*` alone is the superuser scope.
 * In a grant, wildcards, explicit or implied, never match a segment starting with `__` (GraphQL
 * introspection: `__schema`, `__type`), even a wildcard that itself starts with `__` (`query/__*`):
 * those must be named exactly (`query/__schema`), or granted by `*` alone.
 * A scope starting with `!` denies what it matches, whatever else the key holds: deny wins. In a deny,
 * wildcards do match `__` names (`!query` denies `query/__schema` too): a deny errs on the wide side.
 * `rate:<rps>/<burst>` entries are rate limits, not patterns: they grant and deny nothing.
 */

import { isRateScope, parseRateSpec, RATE_PREFIX } from '../ratelimit';

export type Permission = readonly string[];

/** A literal segment, or a wildcard. */
type SegmentMatcher = string | RegExp;

type Pattern = readonly SegmentMatcher[];

export interface CompiledScopes {
  readonly superuser: boolean;
  readonly patterns: readonly Pattern[];
  readonly denied: readonly Pattern[];
}

const SEGMENT = /^[A-Za-z0-9_*.:-]+$/;

/** Splits a scopes column value: separated by commas and/or whitespace. */
export function splitScopes(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s.length > 0);
}

function isWellFormed(scope: string): boolean {
  // A rate limit rides along with the scopes but grants nothing.
  if (isRateScope(scope)) return parseRateSpec(scope.slice(RATE_PREFIX.length)) !== undefined;
  const body = scope.startsWith('!') ? scope.slice(1) : scope;
  return body === '*' || body.split('/').every((seg) => SEGMENT.test(seg));
}

/** Returns the scopes that are not well-formed, so callers can log and ignore them. */
export function invalidScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => !isWellFormed(s));
}

export function compileScopes(scopes: readonly string[]): CompiledScopes {
  const patterns: Pattern[] = [];
  const denied: Pattern[] = [];
  let superuser = false;
  for (const scope of scopes) {
    if (!isWellFormed(scope) || isRateScope(scope)) continue;
    if (scope.startsWith('!')) denied.push(compilePattern(scope.slice(1)));
    else if (scope === '*') superuser = true;
    else patterns.push(compilePattern(scope));
  }
  return { superuser, patterns, denied };
}

function compilePattern(scope: string): Pattern {
  return scope.split('/').map(compileSegment);
}

function compileSegment(segment: string): SegmentMatcher {
  if (!segment.includes('*')) return segment;
  const body = segment.split('*').map(escapeRegExp).join('.*');
  return new RegExp(`^${body}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isHidden(segment: string): boolean {
  return segment.startsWith('__');
}

/** `wildcardsMatchHidden` is false for grants, true for denies: see the header. */
function matchSegment(matcher: SegmentMatcher | undefined, segment: string, wildcardsMatchHidden: boolean): boolean {
  if (typeof matcher === 'string') return matcher === segment;
  if (!wildcardsMatchHidden && isHidden(segment)) return false;
  // `undefined`: past the end of a shorter pattern, which covers everything below it.
  return matcher === undefined || matcher.test(segment);
}

function matchPattern(pattern: Pattern, permission: Permission, wildcardsMatchHidden: boolean): boolean {
  if (pattern.length > permission.length) return false;
  return permission.every((segment, i) => matchSegment(pattern[i], segment, wildcardsMatchHidden));
}

export function isAllowed(scopes: CompiledScopes, permission: Permission): boolean {
  for (const pattern of scopes.denied) {
    if (matchPattern(pattern, permission, true)) return false;
  }
  if (scopes.superuser) return true;
  for (const pattern of scopes.patterns) {
    if (matchPattern(pattern, permission, false)) return true;
  }
  return false;
}

export function formatPermission(permission: Permission): string {
  return permission.join('/');
}

/**
 * Whether a key holding `held` may hand out `requested` (scopes already expanded from roles), so
 * that no key can create a key more powerful than itself. Sound rather than complete: every
 * requested pattern must be covered by a held one, and the new key must carry every deny the holder has.
 */
export type CoverVerdict = { ok: true } | { ok: false; scope: string; reason: 'not-held' | 'deny-missing' };

export function scopesCover(held: readonly string[], requested: readonly string[]): CoverVerdict {
  const heldPositive = held.filter((s) => !s.startsWith('!') && isWellFormed(s) && !isRateScope(s));
  const heldNegative = held.filter((s) => s.startsWith('!'));
  for (const scope of requested) {
    // Limits are compared as limits (limitCovers), not as patterns.
    if (scope.startsWith('!') || isRateScope(scope)) continue;
    if (!heldPositive.some((h) => patternCovers(h, scope))) return { ok: false, scope, reason: 'not-held' };
  }
  const requestedSet = new Set(requested);
  for (const deny of heldNegative) if (!requestedSet.has(deny)) return { ok: false, scope: deny, reason: 'deny-missing' };
  return { ok: true };
}

function patternCovers(held: string, requested: string): boolean {
  if (held === '*') return true;
  if (requested === '*') return false;
  const h = held.split('/');
  const r = requested.split('/');
  if (h.length > r.length) return false;
  // Segments beyond the held pattern are covered by its implied wildcard, which skips `__` names.
  if (r.slice(h.length).some(isHidden)) return false;
  return h.every((segment, i) => segmentCovers(segment, r[i] as string));
}

/**
 * Every name matched by `requested` is matched by `held`: treating `requested`'s `*` as a literal
 * character is enough. A held wildcard never grants a `__` name, so it covers no segment starting with `__`.
 */
function segmentCovers(held: string, requested: string): boolean {
  if (held === requested) return true;
  if (!held.includes('*') || isHidden(requested)) return false;
  return (compileSegment(held) as RegExp).test(requested);
}
