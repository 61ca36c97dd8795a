import { buildRoleTable, expandRoles, objectScopesCover } from '../../../src/authz';
import { lifetimeChoices, ownKeyScopes, rolesWithin } from '../../../src/signin';

const roles = buildRoleTable({ 'team-a': ['role:runner@deployment:team-a/*'] });

describe('ownKeyScopes: a key people make never has more than their roles', () => {
  it.each<[string, string[], string | undefined, string[] | undefined]>([
    ['all of a viewer\'s roles', ['viewer'], undefined, ['role:viewer']],
    ['a viewer asking for viewer', ['viewer'], 'viewer', ['role:viewer']],
    ['a viewer asking for runner', ['viewer'], 'runner', undefined],
    ['a viewer asking for owner', ['viewer'], 'owner', undefined],
    ['a developer asking for viewer: carries the developer\'s denials', ['developer'], 'viewer', ['role:viewer', '!admin', '!read/admin', '!write/admin']],
    ['a developer asking for owner: no more than a developer', ['developer'], 'owner', ['role:owner', '!admin', '!read/admin', '!write/admin']],
    ['a runner asking for a role narrowed to named deployments', ['runner'], 'team-a', ['role:team-a']],
    ['a narrowed runner asking for the whole runner role', ['team-a'], 'runner', undefined],
    ['an unknown role', ['owner'], 'nobody', undefined],
    ['someone with no roles', [], undefined, undefined],
    ['two roles at once', ['viewer', 'worker'], undefined, ['role:viewer', 'role:worker']],
  ])('%s', (_case, person, chosen, expected) => {
    const scopes = ownKeyScopes(person, chosen, roles);
    expect(scopes).toEqual(expected);
    // Whatever it gives, the person's roles cover it.
    if (scopes) {
      const held = expandRoles(person.map((r) => `role:${r}`), roles).scopes;
      expect(objectScopesCover(held, expandRoles(scopes, roles).scopes).ok).toBe(true);
    }
  });

  it('offers an owner every role, a developer all but owner, and a viewer only viewer', () => {
    expect(rolesWithin(['owner'], roles).sort()).toEqual([...roles.keys()].sort());
    expect(rolesWithin(['developer'], roles).sort()).toEqual(['developer', 'runner', 'team-a', 'viewer', 'worker']);
    expect(rolesWithin(['viewer'], roles)).toEqual(['viewer']);
  });
});

describe('lifetimeChoices', () => {
  it.each([
    [90 * 86400, [1, 7, 30, 90]],
    [30 * 86400, [1, 7, 30]],
    [10 * 86400, [1, 7, 10]],
    [3600, [1]],
    [366 * 86400, [1, 7, 30, 90, 180, 365, 366]],
  ])('up to %i s: %j days', (max, days) => {
    expect(lifetimeChoices(max)).toEqual(days);
  });
});
