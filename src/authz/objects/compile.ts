import type { CompiledScopes } from '../scopes';
import { compileScopes } from '../scopes';
import { parseObjectScope } from './parse-scope';
import type { Selector } from './types';

/** A scope narrowed to objects, with its permission pattern compiled by the same code as every other scope. */
export interface NarrowedScope {
  readonly text: string;
  readonly selector: Selector;
  /** Grant reading: the pattern's wildcards skip `__` names, as in every grant. */
  readonly asGrant: CompiledScopes;
  /** Deny reading: a superuser with this one deny, so `isAllowed` is false exactly when the deny's pattern matches. */
  readonly asDeny: CompiledScopes;
}

/** A key's scopes: those without a selector compiled as always, the narrowed ones beside them. */
export interface ObjectScopes {
  readonly base: CompiledScopes;
  readonly grants: readonly NarrowedScope[];
  readonly denies: readonly NarrowedScope[];
}

/**
 * Compiles scopes that may carry selectors. Roles must already be expanded (narrowed roles with
 * narrowScopes); a `role:...@...` left here, like any malformed scope, grants nothing.
 */
export function compileObjectScopes(scopes: readonly string[]): ObjectScopes {
  const plain: string[] = [];
  const grants: NarrowedScope[] = [];
  const denies: NarrowedScope[] = [];
  for (const text of scopes) {
    const parsed = parseObjectScope(text);
    if (!parsed.ok) continue;
    const scope = parsed.scope;
    if (scope.type === 'plain') plain.push(text);
    else if (scope.type === 'narrowed') {
      const narrowed: NarrowedScope = {
        text,
        selector: scope.selector,
        // `*` alone is the superuser; narrowed, it is a pattern like any other.
        asGrant: scope.permission === '*' ? { superuser: false, patterns: compileScopes(['!*']).denied, denied: [] } : compileScopes([scope.permission]),
        asDeny: { superuser: true, patterns: [], denied: compileScopes([`!${scope.permission}`]).denied },
      };
      (scope.deny ? denies : grants).push(narrowed);
    }
  }
  return { base: compileScopes(plain), grants, denies };
}
