import { escapeRegExp } from './kinds';
import type { Condition, ConditionKey, Selector } from './types';

/**
 * The selector grammar (the part of a scope after `@`):
 *
 *   selector  = condition *( "+" condition )
 *   condition = key ":" pattern
 *   key       = "deployment" / "pool" / "tag" / "block" / "variable"
 *   pattern   = 1*200( ALPHA / DIGIT / "_" / "." / "-" / "/" / ":" / "=" / "*" )
 *
 * `*` matches any run of characters (`/` included); nothing else is special, the whole name must
 * match, and case matters (Prefect's names are case-sensitive). Any other character in a name is
 * matched by `*`. There is no escaping: `@`, `+`, `,` and whitespace can never be part of a
 * pattern, so a selector reads one way only.
 */
export const CONDITION_KEYS: readonly ConditionKey[] = ['deployment', 'pool', 'tag', 'block', 'variable'];

const PATTERN = /^[A-Za-z0-9_.\-/:=*]+$/;
export const MAX_PATTERN_LENGTH = 200;
export const MAX_CONDITIONS = 8;

export type SelectorResult = { readonly ok: true; readonly selector: Selector } | { readonly ok: false; readonly reason: string };

export function parseSelector(text: string): SelectorResult {
  if (text === '') return { ok: false, reason: 'nothing after @' };
  const parts = text.split('+');
  if (parts.length > MAX_CONDITIONS) return { ok: false, reason: `more than ${MAX_CONDITIONS} conditions` };
  const conditions: Condition[] = [];
  for (const part of parts) {
    const parsed = parseCondition(part);
    if (typeof parsed === 'string') return { ok: false, reason: parsed };
    conditions.push(parsed);
  }
  return { ok: true, selector: conditions };
}

function parseCondition(text: string): Condition | string {
  if (text === '') return 'empty condition (a + with nothing on one side)';
  const colon = text.indexOf(':');
  if (colon < 0) return `"${text}" is not key:pattern (keys: ${CONDITION_KEYS.join(', ')})`;
  const key = text.slice(0, colon);
  const pattern = text.slice(colon + 1);
  if (!(CONDITION_KEYS as readonly string[]).includes(key)) return `unknown selector key "${key}" (keys: ${CONDITION_KEYS.join(', ')})`;
  if (pattern === '') return `empty pattern after ${key}:`;
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern after ${key}: is longer than ${MAX_PATTERN_LENGTH} characters`;
  if (!PATTERN.test(pattern)) return `pattern after ${key}: may hold only letters, digits, _ . - / : = and * (match other characters with *)`;
  return { key: key as ConditionKey, pattern, regex: compileGlob(pattern) };
}

/** Anchored glob: `*` is any run of characters, everything else literal. */
export function compileGlob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 's');
}

export function formatSelector(selector: Selector): string {
  return selector.map((c) => `${c.key}:${c.pattern}`).join('+');
}

/** Every name `requested` matches, `held` matches too: `requested`'s `*` read as a literal character is enough. */
export function globCovers(held: Condition, requested: Condition): boolean {
  return held.key === requested.key && held.regex.test(requested.pattern);
}

/** Every object `requested` lets through, `held` lets through: each held condition is implied by a requested one. */
export function selectorImplies(requested: Selector, held: Selector): boolean {
  return held.every((h) => requested.some((r) => globCovers(h, r)));
}
