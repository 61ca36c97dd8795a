import { isRateScope } from '../../ratelimit';
import { invalidScopes } from '../scopes';
import { CONDITION_KINDS, kindsOfPattern } from './kinds';
import { parseSelector } from './selector';
import type { ObjectKind, Selector } from './types';

/**
 * One scope as written, in the grammar shared by keys, roles and the roles file:
 *
 *   scope = [ "!" ] permission [ "@" selector ]        ; see selector.ts for the selector
 *         / "role:" name [ "@" selector ]              ; a role, narrowed as a whole (narrow-role.ts)
 *
 * A scope without `@` is read exactly as before. A scope with `@` that does not parse is malformed
 * and grants nothing: it is never read as the same scope without its selector.
 */
export type ParsedScope =
  | { readonly type: 'plain'; readonly text: string }
  | { readonly type: 'narrowed'; readonly text: string; readonly deny: boolean; readonly permission: string; readonly selector: Selector }
  | { readonly type: 'narrowed-role'; readonly text: string; readonly role: string; readonly selector: Selector };

export type ScopeResult = { readonly ok: true; readonly scope: ParsedScope } | { readonly ok: false; readonly scope: string; readonly reason: string };

const MALFORMED = 'malformed scope';
const ROLE_PREFIX = 'role:';
const ROLE_NAME = /^[a-z0-9_-]{1,64}$/;
const READ_VERBS = new Set(['read', 'query']);

export function parseObjectScope(text: string): ScopeResult {
  const fail = (reason: string): ScopeResult => ({ ok: false, scope: text, reason });
  const at = text.indexOf('@');
  if (at < 0) return invalidScopes([text]).length === 0 ? { ok: true, scope: { type: 'plain', text } } : fail(MALFORMED);
  const deny = text.startsWith('!');
  const permission = text.slice(deny ? 1 : 0, at);
  const parsed = parseSelector(text.slice(at + 1));
  if (!parsed.ok) return fail(parsed.reason);
  const selector = parsed.selector;

  if (permission.startsWith(ROLE_PREFIX)) {
    if (deny) return fail('a role cannot be denied');
    const role = permission.slice(ROLE_PREFIX.length);
    if (!ROLE_NAME.test(role)) return fail('malformed role name');
    return { ok: true, scope: { type: 'narrowed-role', text, role, selector } };
  }
  if (permission === '' || permission.startsWith('!') || isRateScope(permission) || invalidScopes([permission]).length > 0) return fail('malformed permission before @');
  const problem = selectorProblem(permission, selector);
  if (problem) return fail(problem);
  return { ok: true, scope: { type: 'narrowed', text, deny, permission, selector } };
}

/** Why a selector cannot narrow this permission, or undefined when it can. */
export function selectorProblem(permission: string, selector: Selector): string | undefined {
  const kinds = kindsOfPattern(permission);
  if (kinds.length === 0) {
    return READ_VERBS.has(permission.split('/')[0] ?? '')
      ? `${permission} is a read, and reads are not narrowed: a read permission reads every object`
      : `${permission} acts on no named object (only writes and secrets on deployments, flow runs, work pools, work queues, block documents and variables can be narrowed)`;
  }
  if (!someKindFits(kinds, selector)) {
    const keys = selector.map((c) => `${c.key}:`).join(' and ');
    return `no object ${permission} acts on (${kinds.join(', ')}) can match ${keys}`;
  }
  return undefined;
}

/** Whether some kind among `kinds` is one every condition can say something about. */
export function someKindFits(kinds: readonly ObjectKind[], selector: Selector): boolean {
  return kinds.some((kind) => selector.every((c) => CONDITION_KINDS[c.key].includes(kind)));
}

/** The scopes that are malformed, each with the reason: the replacement for invalidScopes once selectors are accepted. */
export function invalidObjectScopes(scopes: readonly string[]): { scope: string; reason: string }[] {
  return scopes.map(parseObjectScope).flatMap((r) => (r.ok ? [] : [{ scope: r.scope, reason: r.reason }]));
}

/** The malformed scopes alone, in the full grammar: `invalidScopes` of the authz face. */
export function malformedScopes(scopes: readonly string[]): string[] {
  return invalidObjectScopes(scopes).map((p) => p.scope);
}

/** `a, write/x@tag:* (reason)`: what refusals and start-up errors list; a plain scope needs no reason. */
export function formatScopeProblems(problems: readonly { scope: string; reason: string }[]): string {
  return problems.map((p) => (p.reason === MALFORMED ? p.scope : `${p.scope} (${p.reason})`)).join(', ');
}
