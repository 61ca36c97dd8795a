import { isRateScope } from '../../ratelimit';
import type { CoverVerdict } from '../scopes';
import { scopesCover } from '../scopes';
import { parseObjectScope } from './parse-scope';
import { selectorImplies } from './selector';
import type { Selector } from './types';

interface Positive {
  readonly permission: string;
  readonly selector?: Selector;
}

/**
 * scopesCover with selectors: no key may hand out more than it holds (scopes already expanded
 * from roles). A requested scope without a selector needs a held one without a selector; a
 * requested narrowed scope is covered by a held scope without a selector, or by a held narrowed
 * one whose pattern covers its permission and whose every condition it implies. Every deny the
 * holder has, narrowed or not, must be carried over as written. Sound rather than complete.
 */
export function objectScopesCover(held: readonly string[], requested: readonly string[]): CoverVerdict {
  const heldPositive = held.flatMap(positive);
  const plainHeld = heldPositive.filter((h) => h.selector === undefined).map((h) => h.permission);
  for (const scope of requested) {
    if (scope.startsWith('!') || isRateScope(scope)) continue;
    const [wanted] = positive(scope);
    if (!wanted) return { ok: false, scope, reason: 'not-held' };
    const covered = covers(plainHeld, wanted.permission)
      || (wanted.selector !== undefined && heldPositive.some((h) => h.selector !== undefined && covers([h.permission], wanted.permission) && selectorImplies(wanted.selector as Selector, h.selector)));
    if (!covered) return { ok: false, scope, reason: 'not-held' };
  }
  const requestedSet = new Set(requested);
  for (const deny of held.filter((s) => s.startsWith('!'))) if (!requestedSet.has(deny)) return { ok: false, scope: deny, reason: 'deny-missing' };
  return { ok: true };
}

function positive(text: string): Positive[] {
  if (text.startsWith('!') || isRateScope(text)) return [];
  const parsed = parseObjectScope(text);
  if (!parsed.ok) return [];
  const scope = parsed.scope;
  if (scope.type === 'plain') return [{ permission: text }];
  if (scope.type === 'narrowed') return [{ permission: scope.permission, selector: scope.selector }];
  return [];
}

function covers(held: readonly string[], permission: string): boolean {
  return held.length > 0 && scopesCover(held, [permission]).ok;
}
