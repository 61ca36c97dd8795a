/**
 * Scope patterns and permission matching, shared by every API dialect.
 *
 * A permission is a path of segments (`mutation/create_flow_run`, `write/deployments/update`).
 * A pattern matches segment by segment; `*` inside a segment matches any run of characters;
 * a pattern shorter than the permission covers everything below it (`write/deployments` covers
 * `write/deployments/update`). `*` alone is the superuser scope.
 * Wildcards, explicit or implied, never match a segment starting with `__` (GraphQL introspection:
 * `__schema`, `__type`): those must be named, or granted by `*` alone.
 */

export type Permission = readonly string[];

/** A literal segment, or a wildcard that may match `__` names only when it starts with `__` itself. */
type SegmentMatcher = string | { readonly pattern: RegExp; readonly matchesHidden: boolean };

export interface CompiledScopes {
  readonly superuser: boolean;
  readonly patterns: readonly (readonly SegmentMatcher[])[];
}

const SEGMENT = /^[A-Za-z0-9_*.:-]+$/;

/** Splits a scopes column value: separated by commas and/or whitespace. */
export function splitScopes(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s.length > 0);
}

/** Returns the scopes that are not well-formed, so callers can log and ignore them. */
export function invalidScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => s !== '*' && !s.split('/').every((seg) => SEGMENT.test(seg)));
}

export function compileScopes(scopes: readonly string[]): CompiledScopes {
  const bad = new Set(invalidScopes(scopes));
  const patterns: SegmentMatcher[][] = [];
  let superuser = false;
  for (const scope of scopes) {
    if (scope === '*') superuser = true;
    else if (!bad.has(scope)) patterns.push(scope.split('/').map(compileSegment));
  }
  return { superuser, patterns };
}

function compileSegment(segment: string): SegmentMatcher {
  if (!segment.includes('*')) return segment;
  const body = segment.split('*').map(escapeRegExp).join('.*');
  return { pattern: new RegExp(`^${body}$`), matchesHidden: isHidden(segment) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isHidden(segment: string): boolean {
  return segment.startsWith('__');
}

function matchSegment(matcher: SegmentMatcher, segment: string): boolean {
  if (typeof matcher === 'string') return matcher === segment;
  return (matcher.matchesHidden || !isHidden(segment)) && matcher.pattern.test(segment);
}

function matchPattern(pattern: readonly SegmentMatcher[], permission: Permission): boolean {
  if (pattern.length > permission.length) return false;
  for (let i = 0; i < permission.length; i++) {
    const segment = permission[i] as string;
    const matcher = pattern[i];
    if (matcher === undefined) {
      if (isHidden(segment)) return false;
    } else if (!matchSegment(matcher, segment)) {
      return false;
    }
  }
  return true;
}

export function isAllowed(scopes: CompiledScopes, permission: Permission): boolean {
  if (scopes.superuser) return true;
  for (const pattern of scopes.patterns) {
    if (matchPattern(pattern, permission)) return true;
  }
  return false;
}

export function formatPermission(permission: Permission): string {
  return permission.join('/');
}
