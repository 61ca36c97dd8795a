import { parseGroupRoles } from '../../../src/signin';

const known = new Set(['viewer', 'developer', 'admin']);

describe('parseGroupRoles', () => {
  it.each<[string, unknown, object, string[]]>([
    ['lists of roles', { devs: ['developer'], ops: ['developer', 'admin'] }, { devs: ['developer'], ops: ['developer', 'admin'] }, []],
    ['a single role as a string', { devs: 'developer' }, { devs: ['developer'] }, []],
    ['group names with commas, = and spaces', { 'cn=ops,ou=groups,dc=x': ['admin'], 'Prefect Viewers': 'viewer' }, { 'cn=ops,ou=groups,dc=x': ['admin'], 'Prefect Viewers': ['viewer'] }, []],
    ['duplicate roles once', { devs: ['developer', 'developer'] }, { devs: ['developer'] }, []],
    ['an empty object', {}, {}, []],
    ['an unknown role', { devs: ['developr'] }, {}, ['group "devs" maps to unknown role developr']],
    ['an empty list', { devs: [] }, {}, ['group "devs" must map to a role name or a non-empty list of role names']],
    ['a non-string role', { devs: [1] }, {}, ['group "devs" must map to a role name or a non-empty list of role names']],
    ['every problem at once', { a: [], b: ['nope'], c: 'viewer' }, { c: ['viewer'] }, ['group "a" must map to a role name or a non-empty list of role names', 'group "b" maps to unknown role nope']],
    ['an array', ['devs'], {}, ['the group mapping must be an object of group name → role name or list of role names']],
    ['null', null, {}, ['the group mapping must be an object of group name → role name or list of role names']],
  ])('%s', (_case, value, mapping, problems) => {
    const parsed = parseGroupRoles(value, known);
    expect(parsed.problems).toEqual(problems);
    expect(parsed.groupRoles).toMatchObject(mapping);
  });

  it('keeps a group called __proto__ as a plain group', () => {
    const parsed = parseGroupRoles(JSON.parse('{"__proto__": ["admin"]}'), known);
    expect(Object.hasOwn(parsed.groupRoles, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(parsed.groupRoles)).toBeNull();
  });

  it('accepts any role name without a list of known roles', () => {
    expect(parseGroupRoles({ devs: ['custom'] }).problems).toEqual([]);
  });
});
