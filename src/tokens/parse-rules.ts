import type { RoleTable } from '../authz';
import { claimText } from './claim-path';
import type { Problems } from './parse-fields';
import { isObject, readStringList, reportUnknownFields } from './parse-fields';
import { compileClaimPattern } from './role-rules';
import type { ClaimCondition, RoleRule } from './types';

const RULE_FIELDS = ['when', 'grant'];

/**
 * An issuer's `roles`: a non-empty list of `{ when: { claim: pattern | [patterns] }, grant: role | [roles] }`.
 * Every granted role must exist in the role table (built-in roles and ROLES_FILE), so a typo is an
 * error at start-up rather than a machine that silently gets nothing.
 */
export function parseRoleRules(value: unknown, where: string, roles: RoleTable, problems: Problems): RoleRule[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${where}roles is required: a non-empty list of rules such as { when: { sub: "system:serviceaccount:prefect:worker" }, grant: worker }`);
    return [];
  }
  const rules: RoleRule[] = [];
  value.forEach((entry: unknown, index) => {
    const at = `${where}roles[${index}]: `;
    if (!isObject(entry)) {
      problems.push(`${at}must be an object with "when" and "grant"`);
      return;
    }
    reportUnknownFields(entry, RULE_FIELDS, at, problems);
    const when = parseConditions(entry.when, at, problems);
    const grant = parseGrant(entry.grant, at, roles, problems);
    if (when && grant) rules.push({ when, grant });
  });
  return rules;
}

function parseConditions(value: unknown, at: string, problems: Problems): ClaimCondition[] | undefined {
  // A rule without conditions would give its roles to every token of the issuer; say `sub: "*"` to mean that.
  if (!isObject(value) || Object.keys(value).length === 0) {
    problems.push(`${at}when is required: an object of claim → value or list of values (use "*" as a wildcard)`);
    return undefined;
  }
  const conditions: ClaimCondition[] = [];
  let ok = true;
  for (const [claim, patterns] of Object.entries(value)) {
    const list = Array.isArray(patterns) ? patterns : [patterns];
    const texts = list.map((p) => (typeof p === 'string' ? p : claimText(p)));
    if (claim.trim() === '' || list.length === 0 || texts.some((t) => t === undefined || t === '')) {
      problems.push(`${at}when.${claim || '""'} must be a non-empty value or a non-empty list of values (strings, numbers or booleans)`);
      ok = false;
      continue;
    }
    const written = [...new Set(texts as string[])];
    conditions.push({ claim, patterns: written, matchers: written.map(compileClaimPattern) });
  }
  return ok ? conditions : undefined;
}

function parseGrant(value: unknown, at: string, roles: RoleTable, problems: Problems): string[] | undefined {
  if (value === undefined) {
    problems.push(`${at}grant is required: a role name or a list of role names`);
    return undefined;
  }
  const names = readStringList(value, `${at}grant`, problems);
  if (!names) return undefined;
  const unknown = names.filter((name) => !roles.has(name));
  if (unknown.length > 0) {
    problems.push(`${at}grant names unknown role${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => JSON.stringify(r)).join(', ')} (known: ${[...roles.keys()].join(', ')})`);
    return undefined;
  }
  return names;
}
