export interface ParsedGroupRoles {
  readonly groupRoles: Readonly<Record<string, readonly string[]>>;
  /** Every problem found, each naming the group; empty when the mapping is valid. */
  readonly problems: readonly string[];
}

/**
 * Validates a group → roles mapping already parsed from JSON or YAML (a variable's JSON, or a
 * section of the roles file): an object whose values are a role name or a list of role names.
 * Group names are taken as they are (they may hold commas, `=` and spaces: LDAP DNs, display
 * names), which is why the variable is JSON rather than a `group=role` list. With `knownRoles`,
 * a role that does not exist is a problem too, so a typo cannot silently grant nothing.
 */
export function parseGroupRoles(value: unknown, knownRoles?: ReadonlySet<string>): ParsedGroupRoles {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { groupRoles: {}, problems: ['the group mapping must be an object of group name → role name or list of role names'] };
  }
  const problems: string[] = [];
  // A prototype-less object, so that a group called `__proto__` is just a group.
  const groupRoles: Record<string, readonly string[]> = Object.create(null) as Record<string, readonly string[]>;
  for (const [group, roles] of Object.entries(value)) {
    const list: unknown[] = typeof roles === 'string' ? [roles] : Array.isArray(roles) ? roles : [];
    if (list.length === 0 || list.some((r) => typeof r !== 'string' || r === '')) {
      problems.push(`group ${JSON.stringify(group)} must map to a role name or a non-empty list of role names`);
      continue;
    }
    const names = list as string[];
    const unknown = knownRoles ? names.filter((r) => !knownRoles.has(r)) : [];
    if (unknown.length) problems.push(`group ${JSON.stringify(group)} maps to unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
    groupRoles[group] = [...new Set(names)];
  }
  return { groupRoles, problems };
}
