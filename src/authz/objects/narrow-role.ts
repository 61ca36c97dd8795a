import { isRateScope } from '../../ratelimit';
import { kindsOfPattern } from './kinds';
import { parseObjectScope, someKindFits } from './parse-scope';
import { formatSelector } from './selector';
import type { Selector } from './types';

const KEPT_VERBS = new Set(['read', 'query', 'write', 'secret']);

/**
 * The scopes of a role narrowed by a selector (`role:runner@deployment:team-a/*`), one by one:
 * - denies and rate limits stay as they are (a deny stays wide);
 * - writes and secrets on named objects get the selector (ANDed with any they already carry); one
 *   the selector cannot apply to (`write/variables/create` narrowed by `pool:`) is dropped, since
 *   it could grant nothing;
 * - reads and writes on things without a name (logs, events, task runs, artifacts, concurrency
 *   slots) stay as they are: there is nothing to narrow them to;
 * - everything else (Prefect 1 mutations, admin) is dropped: Prefect 1 objects are not narrowed
 *   yet, and a narrowed role must not grant them wide.
 * `*` becomes `*@selector`: writes and secrets on matching objects only, no reads.
 */
export function narrowScopes(scopes: readonly string[], selector: Selector): string[] {
  const out: string[] = [];
  for (const text of scopes) {
    if (text.startsWith('!') || isRateScope(text)) {
      out.push(text);
      continue;
    }
    const parsed = parseObjectScope(text);
    // Malformed scopes, and narrowed roles (already expanded by the caller), grant nothing: dropped.
    if (!parsed.ok || parsed.scope.type === 'narrowed-role') continue;
    const scope = parsed.scope;
    const permission = scope.type === 'narrowed' ? scope.permission : text;
    const kinds = kindsOfPattern(permission);
    if (kinds.length === 0) {
      if (scope.type === 'plain' && KEPT_VERBS.has(permission.split('/')[0] ?? '')) out.push(text);
      continue;
    }
    const combined = scope.type === 'narrowed' ? [...scope.selector, ...selector] : selector;
    if (someKindFits(kinds, combined)) out.push(`${permission}@${formatSelector(combined)}`);
  }
  return [...new Set(out)];
}
