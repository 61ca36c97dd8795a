import type { ClaimRules, Claims } from '../../../src/signin';
import { decideSignIn, mapGroupsToRoles, pickUserId, readGroups } from '../../../src/signin';

describe('pickUserId', () => {
  it.each<[string, Claims, string | undefined, string | undefined]>([
    // [case, claims, configured claim, expected]
    ['email by default', { email: 'alice@example.test', preferred_username: 'alice', sub: 's1' }, undefined, 'alice@example.test'],
    ['preferred_username when email is absent', { preferred_username: 'alice', sub: 's1' }, undefined, 'alice'],
    ['sub when both are absent', { sub: 's1' }, undefined, 's1'],
    ['a configured claim first', { upn: 'alice@corp', email: 'a@x' }, 'upn', 'alice@corp'],
    ['fallbacks after a configured claim that is absent', { email: 'a@x', preferred_username: 'alice', sub: 's1' }, 'upn', 'alice'],
    ['a namespaced claim with dots, read literally', { 'https://example.test/user': 'alice' }, 'https://example.test/user', 'alice'],
    ['a nested claim by dotted path', { ext: { login: 'alice' } }, 'ext.login', 'alice'],
    ['an unverified email is skipped', { email: 'boss@example.test', email_verified: false, sub: 's1' }, undefined, 's1'],
    ['an unverified email sent as a string is skipped', { email: 'boss@example.test', email_verified: 'false', preferred_username: 'alice' }, undefined, 'alice'],
    ['a verified email is used', { email: 'a@x', email_verified: true, sub: 's1' }, undefined, 'a@x'],
    ['an empty email is skipped', { email: '', sub: 's1' }, undefined, 's1'],
    ['a blank name is skipped', { email: '   ', sub: 's1' }, undefined, 's1'],
    ['a name with a newline is skipped (log injection)', { email: 'a@x\nuser=admin', sub: 's1' }, undefined, 's1'],
    ['a padded name is skipped', { email: ' a@x', sub: 's1' }, undefined, 's1'],
    ['a non-string is skipped', { email: ['a@x'], preferred_username: 42, sub: 's1' }, undefined, 's1'],
    ['an overlong name is skipped', { email: `${'a'.repeat(300)}@x`, sub: 's1' }, undefined, 's1'],
    ['nothing usable', { email: 7 }, undefined, undefined],
    ['inherited properties are not claims', {}, 'constructor', undefined],
  ])('%s', (_case, claims, claim, expected) => {
    expect(pickUserId(claims, claim)).toBe(expected);
  });
});

describe('readGroups', () => {
  it.each<[string, Claims, string | undefined, string[]]>([
    ['an array', { groups: ['a', 'b'] }, undefined, ['a', 'b']],
    ['a space-separated string', { groups: 'a b  c' }, undefined, ['a', 'b', 'c']],
    ['a comma-separated string', { groups: 'a,b, c' }, undefined, ['a', 'b', 'c']],
    ['absent', { sub: 's' }, undefined, []],
    ['null', { groups: null }, undefined, []],
    ['an object is not groups', { groups: { a: true } }, undefined, []],
    ['duplicates removed, order kept', { groups: ['b', 'a', 'b'] }, undefined, ['b', 'a']],
    ['non-strings dropped, numbers kept as text', { groups: ['a', 3, null, {}, ''] }, undefined, ['a', '3']],
    ['case kept', { groups: ['Admins', 'admins'] }, undefined, ['Admins', 'admins']],
    ['a configured claim', { roles: ['x'], groups: ['y'] }, 'roles', ['x']],
    ['a nested claim (Keycloak realm roles)', { realm_access: { roles: ['r1', 'r2'] } }, 'realm_access.roles', ['r1', 'r2']],
    ['a DN with commas in an array stays whole', { groups: ['cn=ops,ou=groups'] }, undefined, ['cn=ops,ou=groups']],
  ])('%s', (_case, claims, claim, expected) => {
    expect(readGroups(claims, claim)).toEqual(expected);
  });
});

describe('mapGroupsToRoles', () => {
  const mapping = { devs: ['developer'], ops: ['developer', 'admin'], viewers: ['viewer'] };
  it.each<[string, string[], string[]]>([
    ['one group', ['devs'], ['developer']],
    ['roles of several groups, without duplicates', ['devs', 'ops'], ['developer', 'admin']],
    ['unmapped groups add nothing', ['devs', 'marketing'], ['developer']],
    ['no groups, no roles', [], []],
    ['matching is exact (case)', ['DEVS'], []],
    ['prototype names are not groups', ['constructor', '__proto__', 'toString'], []],
  ])('%s', (_case, groups, expected) => {
    expect(mapGroupsToRoles(groups, mapping)).toEqual(expected);
  });
});

describe('decideSignIn', () => {
  const rules: ClaimRules = { groupRoles: { devs: ['developer'], viewers: ['viewer'] } };
  const allowList: ClaimRules = { ...rules, allowedGroups: ['devs', 'viewers', 'staff'] };
  it.each<[string, Claims, ClaimRules, object]>([
    ['a mapped user', { email: 'a@x', groups: ['devs'] }, rules, { allowed: true, user: 'a@x', groups: ['devs'], roles: ['developer'] }],
    ['no user claim at all', { groups: ['devs'] }, rules, { allowed: false, code: 'no_user', reason: expect.stringContaining('email, preferred_username, sub') }],
    ['groups that map to no role', { email: 'a@x', groups: ['marketing'] }, rules, { allowed: false, code: 'no_role', user: 'a@x', reason: expect.stringContaining('"marketing"') }],
    ['no groups sent', { email: 'a@x' }, rules, { allowed: false, code: 'no_role', reason: expect.stringContaining('no groups were sent') }],
    ['in an allowed group', { email: 'a@x', groups: ['viewers'] }, allowList, { allowed: true, roles: ['viewer'] }],
    ['outside every allowed group', { email: 'a@x', groups: ['marketing'] }, allowList, { allowed: false, code: 'not_allowed', reason: 'a@x is in none of the groups allowed to sign in' }],
    ['an empty allow-list lets nobody in', { email: 'a@x', groups: ['devs'] }, { ...rules, allowedGroups: [] }, { allowed: false, code: 'not_allowed' }],
    ['allowed but with no role', { email: 'a@x', groups: ['staff'] }, allowList, { allowed: false, code: 'no_role' }],
    ['configured claims', { upn: 'u@corp', roles: 'devs' }, { ...rules, userClaim: 'upn', groupsClaim: 'roles' }, { allowed: true, user: 'u@corp', roles: ['developer'] }],
  ])('%s', (_case, claims, ruleSet, expected) => {
    expect(decideSignIn(claims, ruleSet)).toMatchObject(expected);
  });

  it('names at most ten groups in a refusal', () => {
    const groups = Array.from({ length: 25 }, (_, i) => `g${i}`);
    const decision = decideSignIn({ email: 'a@x', groups }, rules);
    expect(decision).toMatchObject({ allowed: false, reason: expect.stringContaining('and 15 more') });
    expect(decision.allowed || decision.reason).not.toContain('g10');
  });
});
