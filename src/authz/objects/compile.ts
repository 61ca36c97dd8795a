import type { CompiledScopes } from '../scopes';
import { compileScopes } from '../scopes';
import { familiesOfPattern } from './kinds';
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

/**
 * A key's scopes in the full grammar. Read as plain CompiledScopes (`isAllowed`), they mean what
 * they mean for a request that is not tied to named objects: narrowed grants grant nothing, and
 * each narrowed deny denies its permission on every named object (it may apply to any of them).
 * So code that knows nothing of objects can never read them wider than they are. `isAllowedOn`
 * reads them object by object, from `base`, `grants` and `denies`.
 */
export interface ObjectScopes extends CompiledScopes {
  /** The scopes without a selector, compiled as always. */
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
  const base = compileScopes(plain);
  // A narrowed deny, not tied to objects, denies its pattern within the families of named objects only.
  const untied = denies.flatMap((d) => familiesOfPattern(permissionOf(d.text)).map((p) => `!${p}`));
  return { ...base, denied: [...base.denied, ...compileScopes(untied).denied], base, grants, denies };
}

function permissionOf(narrowedDeny: string): string {
  return narrowedDeny.slice(1, narrowedDeny.indexOf('@'));
}
