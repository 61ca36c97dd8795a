import type { Permission } from '../scopes';
import { formatPermission, isAllowed } from '../scopes';
import type { NarrowedScope, ObjectScopes } from './compile';
import { describeObject } from './describe';
import { kindOfPermission } from './kinds';
import { denyApplies, grantHolds } from './match';
import type { ObjectFacts } from './types';

const denyMatches = (scope: NarrowedScope, permission: Permission): boolean => !isAllowed(scope.asDeny, permission);
const grantMatches = (scope: NarrowedScope, permission: Permission): boolean => isAllowed(scope.asGrant, permission);

/**
 * Whether the scopes allow `permission` on every one of `objects`.
 *
 * - Selectors only ever concern permissions that act on named objects (kindOfPermission); every
 *   other permission is decided by the scopes without a selector, exactly as before.
 * - A deny without a selector wins, as always. A narrowed deny refuses the permission on every object
 *   it may apply to, and, when the request cannot be tied to objects (`objects` undefined or empty:
 *   bulk routes, filters), refuses it outright.
 * - A grant without a selector covers every object. Narrowed grants cover a request only object by
 *   object (each object by some grant), and never a request that is not tied to objects.
 */
export function isAllowedOn(scopes: ObjectScopes, permission: Permission, objects?: readonly ObjectFacts[]): boolean {
  if (kindOfPermission(permission) === undefined) return isAllowed(scopes.base, permission);
  if (!isAllowed({ superuser: true, patterns: [], denied: scopes.base.denied }, permission)) return false;
  const tied = objects !== undefined && objects.length > 0;
  for (const deny of scopes.denies) {
    if (!denyMatches(deny, permission)) continue;
    if (!tied || objects.some((o) => denyApplies(deny.selector, o))) return false;
  }
  if (isAllowed(scopes.base, permission)) return true;
  if (!tied) return false;
  const grants = scopes.grants.filter((g) => grantMatches(g, permission));
  return objects.every((o) => grants.some((g) => grantHolds(g.selector, o)));
}

/**
 * Whether the answer for these permissions can depend on the objects at all. When it cannot (no
 * selector concerns them, or a scope without a selector settles them), the lookups can be skipped:
 * isAllowedOn without objects gives the same answer.
 */
export function needsObjects(scopes: ObjectScopes, permissions: readonly Permission[]): boolean {
  return permissions.some((permission) => {
    if (kindOfPermission(permission) === undefined) return false;
    if (!isAllowed({ superuser: true, patterns: [], denied: scopes.base.denied }, permission)) return false;
    if (scopes.denies.some((d) => denyMatches(d, permission))) return true;
    return !isAllowed(scopes.base, permission) && scopes.grants.some((g) => grantMatches(g, permission));
  });
}

export interface MissingGrant {
  readonly permission: Permission;
  /** The first object the permission is refused on; absent when the request is not tied to objects. */
  readonly object?: ObjectFacts;
  /** `write/deployments/create_flow_run on deployment team-b/nightly`, for the 403 after "lacks permission: ". */
  readonly text: string;
}

export type ObjectVerdict = { readonly allowed: true } | { readonly allowed: false; readonly missing: readonly MissingGrant[] };

/** Every permission on every object; the refusal names each missing grant and the object it is missing on. */
export function decideOnObjects(scopes: ObjectScopes, permissions: readonly Permission[], objects?: readonly ObjectFacts[]): ObjectVerdict {
  const missing: MissingGrant[] = [];
  for (const permission of permissions) {
    if (isAllowedOn(scopes, permission, objects)) continue;
    const object = kindOfPermission(permission) === undefined ? undefined : objects?.find((o) => !isAllowedOn(scopes, permission, [o]));
    const text = object ? `${formatPermission(permission)} on ${describeObject(object)}`
      : untiedHint(scopes, permission, objects) ?? formatPermission(permission);
    missing.push(object ? { permission, object, text } : { permission, text });
  }
  return missing.length === 0 ? { allowed: true } : { allowed: false, missing };
}

/** A key with narrowed grants refused on a bulk or filter route learns why its grants did not count. */
function untiedHint(scopes: ObjectScopes, permission: Permission, objects: readonly ObjectFacts[] | undefined): string | undefined {
  if (objects !== undefined && objects.length > 0) return undefined;
  if (kindOfPermission(permission) === undefined || !scopes.grants.some((g) => grantMatches(g, permission))) return undefined;
  return `${formatPermission(permission)} (this request is not tied to one named object, so only a grant without @ covers it)`;
}
