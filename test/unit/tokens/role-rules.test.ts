import { buildRoleTable } from '../../../src/authz';
import type { Claims } from '../../../src/tokens';
import { parseTrustedIssuers, readClaimPath, rolesForClaims } from '../../../src/tokens';

/** Rules as an operator writes them, parsed by the real parser. */
function rulesFrom(yaml: string) {
  const roles = buildRoleTable({ deployer: ['role:runner'] });
  const [issuer] = parseTrustedIssuers(`issuers:\n  - issuer: https://i.example\n    audiences: a\n    roles:\n${yaml}`, { roles });
  return issuer?.rules ?? [];
}

const GITHUB = rulesFrom(`
      - when: { repository: acme/etl, ref: refs/heads/main }
        grant: deployer
      - when: { repository: 'acme/*' }
        grant: viewer
      - when: { repository: 'acme/*', ref: ['refs/tags/v*', refs/heads/release] }
        grant: [runner, viewer]
`);

const KUBERNETES = rulesFrom(`
      - when: { sub: 'system:serviceaccount:prefect:worker-*' }
        grant: worker
      - when: { kubernetes.io.namespace: ci, kubernetes.io.serviceaccount.name: deployer }
        grant: deployer
`);

const SCALARS = rulesFrom(`
      - when: { repository_id: 42, ref_protected: true }
        grant: runner
      - when: { aud: urn:extra }
        grant: viewer
      - when: { groups: [prefect-ops, 'team-*'] }
        grant: developer
      - when: { name: 'etl.v2' }
        grant: owner
`);

describe('rolesForClaims', () => {
  it.each<[string, typeof GITHUB, Claims, string[]]>([
    ['every condition of a rule holds: its roles, then those of other matching rules', GITHUB, { repository: 'acme/etl', ref: 'refs/heads/main' }, ['deployer', 'viewer']],
    ['one condition fails: that rule grants nothing', GITHUB, { repository: 'acme/etl', ref: 'refs/heads/feature' }, ['viewer']],
    ['any value of a list may match; duplicates once, in rule order', GITHUB, { repository: 'acme/web', ref: 'refs/tags/v1.2' }, ['viewer', 'runner']],
    ['a glob is anchored: a prefix elsewhere does not match', GITHUB, { repository: 'evil/acme/etl', ref: 'refs/heads/main' }, []],
    ['matching is case-sensitive', GITHUB, { repository: 'ACME/etl', ref: 'refs/heads/main' }, []],
    ['a missing claim matches nothing', GITHUB, { ref: 'refs/heads/main' }, []],
    ['* crosses ":" (service-account names)', KUBERNETES, { sub: 'system:serviceaccount:prefect:worker-a' }, ['worker']],
    ['* needs the literal part before it', KUBERNETES, { sub: 'system:serviceaccount:other:worker-a' }, []],
    ['nested claims under a dotted name (kubernetes.io)', KUBERNETES, { 'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'deployer', uid: 'u' } } }, ['deployer']],
    ['nested claims: one wrong value', KUBERNETES, { 'kubernetes.io': { namespace: 'ci', serviceaccount: { name: 'other' } } }, []],
    ['numbers and booleans compared as text', SCALARS, { repository_id: 42, ref_protected: true }, ['runner']],
    ['strings equal to the text of a number match too', SCALARS, { repository_id: '42', ref_protected: 'true' }, ['runner']],
    ['an array claim matches when one element does (aud)', SCALARS, { aud: ['urn:prefect', 'urn:extra'] }, ['viewer']],
    ['an array claim with globs (groups)', SCALARS, { groups: ['everyone', 'team-data'] }, ['developer']],
    ['an object never matches', SCALARS, { groups: { 'team-data': true } }, []],
    ['regex characters are literal ("." is a dot)', SCALARS, { name: 'etlXv2' }, []],
    ['regex characters are literal (exact)', SCALARS, { name: 'etl.v2' }, ['owner']],
    ['prototype names are not claims', SCALARS, JSON.parse('{"__proto__": {"name": "etl.v2"}}') as Claims, []],
  ])('%s', (_case, rules, claims, expected) => {
    expect(rolesForClaims(claims, rules)).toEqual(expected);
  });
});

describe('readClaimPath', () => {
  it.each<[string, unknown, string, unknown]>([
    ['a plain claim', { sub: 'x' }, 'sub', 'x'],
    ['a claim whose name holds dots, read whole first', { 'https://example.test/role': 'r', https: { 'example.test/role': 'no' } }, 'https://example.test/role', 'r'],
    ['a nested path', { a: { b: { c: 1 } } }, 'a.b.c', 1],
    ['Kubernetes: a dotted name, then a path', { 'kubernetes.io': { serviceaccount: { name: 'w' } } }, 'kubernetes.io.serviceaccount.name', 'w'],
    ['the longer name wins over a shorter prefix', { 'a.b': { c: 'long' }, a: { b: { c: 'short' } } }, 'a.b.c', 'long'],
    ['falls back to a shorter prefix when the longer leads nowhere', { 'a.b': { x: 1 }, a: { b: { c: 'short' } } }, 'a.b.c', 'short'],
    ['missing', { a: {} }, 'a.b', undefined],
    ['not into arrays', { a: [{ b: 1 }] }, 'a.0.b', undefined],
    ['not into strings', { a: 'text' }, 'a.length', undefined],
    ['inherited properties are not claims', {}, 'constructor', undefined],
    ['inherited properties are not claims, nested', { a: {} }, 'a.toString', undefined],
  ])('%s', (_case, claims, path, expected) => {
    expect(readClaimPath(claims, path)).toEqual(expected);
  });
});
