import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRoleTable } from '../../../src/authz';
import type { TrustedIssuer } from '../../../src/tokens';
import { DEFAULT_ALGORITHMS, loadTrustedIssuers, parseTrustedIssuers, TrustedIssuersError } from '../../../src/tokens';

const roles = buildRoleTable({ 'ci-deployer': ['role:runner', 'write/deployments'] });

function problemsOf(text: string): readonly string[] {
  try {
    parseTrustedIssuers(text, { roles });
  } catch (err) {
    if (err instanceof TrustedIssuersError) return err.problems;
    throw err;
  }
  throw new Error('expected the file to be refused');
}

/** The parts of a parsed issuer a test compares (RegExps left out). */
function shape(issuer: TrustedIssuer) {
  return {
    ...issuer,
    rules: issuer.rules.map((r) => ({ when: Object.fromEntries(r.when.map((c) => [c.claim, c.patterns])), grant: r.grant })),
  };
}

const GITHUB_YAML = `
issuers:
  - name: github
    issuer: https://token.actions.githubusercontent.com
    audiences: https://prefect.example.com
    subjectClaim: repository
    maxLifetime: 6h
    roles:
      - when: { repository: acme/etl, ref: refs/heads/main }
        grant: ci-deployer
      - when: { repository: 'acme/*', ref: [refs/heads/main, 'refs/tags/v*'] }
        grant: [viewer, runner]
`;

const KUBERNETES_JSON = JSON.stringify({
  issuers: [{
    issuer: 'https://kubernetes.default.svc.cluster.local',
    audiences: ['prefect-auth-proxy'],
    jwksUri: 'https://kubernetes.default.svc/openid/v1/jwks',
    algorithms: ['RS256'],
    subjectClaim: 'kubernetes.io.serviceaccount.name',
    clockSkew: 0,
    roles: [{ when: { 'kubernetes.io.namespace': 'prefect', sub: 'system:serviceaccount:prefect:worker-*' }, grant: 'worker' }],
  }],
});

describe('parseTrustedIssuers: good files', () => {
  it.each<[string, string, Partial<ReturnType<typeof shape>>]>([
    ['defaults for everything optional', `
issuers:
  - issuer: https://issuer.example.com/tenant-a/
    audiences: [urn:prefect]
    roles: [{ when: { sub: ci-bot }, grant: runner }]
`, {
      name: 'issuer.example.com/tenant-a', issuer: 'https://issuer.example.com/tenant-a/', audiences: ['urn:prefect'], jwksUri: undefined, jwks: undefined,
      algorithms: [...DEFAULT_ALGORITHMS], subjectClaim: 'sub', maxLifetimeS: 86400, clockSkewS: 30, rules: [{ when: { sub: ['ci-bot'] }, grant: ['runner'] }],
    }],
    ['GitHub Actions in YAML: several conditions, lists, globs, a role from ROLES_FILE', GITHUB_YAML, {
      name: 'github', audiences: ['https://prefect.example.com'], subjectClaim: 'repository', maxLifetimeS: 21600,
      rules: [
        { when: { repository: ['acme/etl'], ref: ['refs/heads/main'] }, grant: ['ci-deployer'] },
        { when: { repository: ['acme/*'], ref: ['refs/heads/main', 'refs/tags/v*'] }, grant: ['viewer', 'runner'] },
      ],
    }],
    ['Kubernetes in JSON: a key URL, one algorithm, a dotted subject claim, no skew', KUBERNETES_JSON, {
      name: 'kubernetes.default.svc.cluster.local', jwksUri: 'https://kubernetes.default.svc/openid/v1/jwks', algorithms: ['RS256'],
      subjectClaim: 'kubernetes.io.serviceaccount.name', clockSkewS: 0,
      rules: [{ when: { 'kubernetes.io.namespace': ['prefect'], sub: ['system:serviceaccount:prefect:worker-*'] }, grant: ['worker'] }],
    }],
    ['durations in seconds, minutes and days; a loopback http issuer', `
issuers:
  - issuer: http://127.0.0.1:8080
    audiences: a
    maxLifetime: 7d
    clockSkew: 2m
    roles: [{ when: { sub: x }, grant: viewer }]
`, { issuer: 'http://127.0.0.1:8080', maxLifetimeS: 604800, clockSkewS: 120 }],
    ['numbers and booleans as claim values are compared as text', `
issuers:
  - issuer: https://i.example
    audiences: a
    roles: [{ when: { repository_id: 123456, ref_protected: true }, grant: viewer }]
`, { rules: [{ when: { repository_id: ['123456'], ref_protected: ['true'] }, grant: ['viewer'] }] }],
    ['keys written in the file', `
issuers:
  - issuer: https://i.example
    audiences: a
    jwks: { keys: [{ kty: EC, crv: P-256, x: f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU, y: x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0, kid: k1 }] }
    roles: [{ when: { sub: x }, grant: viewer }]
`, { jwksUri: undefined, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k1' }] } }],
  ])('%s', (_case, text, expected) => {
    const [issuer] = parseTrustedIssuers(text, { roles });
    expect(shape(issuer as TrustedIssuer)).toMatchObject(expected);
  });

  it('reads several issuers, and the result is frozen', () => {
    const issuers = parseTrustedIssuers(`${GITHUB_YAML}  - issuer: https://gitlab.example.com\n    audiences: prefect\n    roles: [{ when: { project_path: 'acme/*' }, grant: viewer }]\n`, { roles });
    expect(issuers.map((i) => i.name)).toEqual(['github', 'gitlab.example.com']);
    expect(Object.isFrozen(issuers)).toBe(true);
    expect(Object.isFrozen(issuers[0]?.rules[0]?.when)).toBe(true);
    expect(() => (issuers as TrustedIssuer[]).push(issuers[0] as TrustedIssuer)).toThrow();
  });
});

const base = (fields: string) => `issuers:\n  - issuer: https://i.example\n    audiences: a\n    roles: [{ when: { sub: x }, grant: viewer }]\n${fields}`;
const only = (fields: string) => `issuers:\n  - ${fields.trim().split('\n').join('\n    ')}\n`;

describe('parseTrustedIssuers: mistakes', () => {
  it.each<[string, string, RegExp]>([
    ['not YAML or JSON', 'issuers: [\n', /cannot parse the file as JSON or YAML/],
    ['an empty file', '', /must hold "issuers", a non-empty list/],
    ['issuers not a list', 'issuers: { issuer: https://i.example }', /must hold "issuers", a non-empty list/],
    ['an empty list', 'issuers: []', /must hold "issuers", a non-empty list/],
    ['an unknown top-level field', `${base('')}extra: 1\n`, /^unknown field "extra"/],
    ['an entry that is not an object', 'issuers: [https://i.example]', /^issuers\[0\]: must be an object/],
    ['no issuer', only('audiences: a\nroles: [{ when: { sub: x }, grant: viewer }]'), /^issuers\[0\]: issuer is required/],
    ['an issuer that is not a URL', only('issuer: token.actions.githubusercontent.com\naudiences: a\nroles: [{ when: { sub: x }, grant: viewer }]'), /issuer is not a URL/],
    ['a plain-http issuer off loopback', only('issuer: http://issuer.example\naudiences: a\nroles: [{ when: { sub: x }, grant: viewer }]'), /issuer must use https/],
    ['an issuer with a query', only('issuer: https://i.example/?tenant=a\naudiences: a\nroles: [{ when: { sub: x }, grant: viewer }]'), /issuer must have no query/],
    ['an issuer with credentials', only('issuer: https://u:p@i.example\naudiences: a\nroles: [{ when: { sub: x }, grant: viewer }]'), /no user name, password or fragment/],
    ['the discovery document instead of the issuer', only('issuer: https://i.example/.well-known/openid-configuration\naudiences: a\nroles: [{ when: { sub: x }, grant: viewer }]'), /not its discovery document/],
    ['no audiences', only('issuer: https://i.example\nroles: [{ when: { sub: x }, grant: viewer }]'), /\(https:\/\/i\.example\): audiences is required.*no default/],
    ['an empty audience list', only('issuer: https://i.example\naudiences: []\nroles: [{ when: { sub: x }, grant: viewer }]'), /audiences must be a string or a non-empty list/],
    ['a wildcard audience', only('issuer: https://i.example\naudiences: ["*"]\nroles: [{ when: { sub: x }, grant: viewer }]'), /"\*" is not a wildcard/],
    ['the issuer as audience (a pod\'s default Kubernetes token)', only('issuer: https://kubernetes.default.svc.cluster.local\naudiences: [https://kubernetes.default.svc.cluster.local/]\nroles: [{ when: { sub: x }, grant: viewer }]'), /audiences must not include the issuer itself/],
    ['an audience that is not a string', only('issuer: https://i.example\naudiences: [1]\nroles: [{ when: { sub: x }, grant: viewer }]'), /audiences must hold non-empty strings/],
    ['a plain-http key URL off loopback', base('    jwksUri: http://i.example/jwks\n'), /jwksUri must use https/],
    ['both a key URL and keys', base('    jwksUri: https://i.example/jwks\n    jwks: { keys: [{ kty: RSA, n: x, e: AQAB }] }\n'), /either jwksUri or jwks, not both/],
    ['a private key in the file', base('    jwks: { keys: [{ kty: EC, crv: P-256, x: a, y: b, d: secret }] }\n'), /holds a private key/],
    ['a symmetric key in the file', base('    jwks: { keys: [{ kty: oct, k: c2VjcmV0 }] }\n'), /must be a public RSA, EC or OKP key/],
    ['alg none', base('    algorithms: [RS256, none]\n'), /"none" means unsigned tokens and is never accepted/],
    ['HMAC', base('    algorithms: HS256\n'), /"HS256" is a shared-secret \(HMAC\) algorithm/],
    ['an unknown algorithm', base('    algorithms: [RS1]\n'), /"RS1" is not a known asymmetric signature algorithm/],
    ['an empty algorithm list', base('    algorithms: []\n'), /algorithms must be a string or a non-empty list/],
    ['an empty subject claim', base('    subjectClaim: ""\n'), /subjectClaim must be a claim name or dotted path/],
    ['no roles', only('issuer: https://i.example\naudiences: a'), /roles is required: a non-empty list of rules/],
    ['an empty rule list', only('issuer: https://i.example\naudiences: a\nroles: []'), /roles is required/],
    ['a rule without when', only('issuer: https://i.example\naudiences: a\nroles: [{ grant: viewer }]'), /roles\[0\]: when is required/],
    ['a rule with empty when (it would match every token)', only('issuer: https://i.example\naudiences: a\nroles: [{ when: {}, grant: viewer }]'), /roles\[0\]: when is required/],
    ['a condition with an empty value', only('issuer: https://i.example\naudiences: a\nroles: [{ when: { sub: "" }, grant: viewer }]'), /when\.sub must be a non-empty value/],
    ['a condition with an object value', only('issuer: https://i.example\naudiences: a\nroles: [{ when: { sub: { a: 1 } }, grant: viewer }]'), /when\.sub must be a non-empty value/],
    ['a condition with an empty list', only('issuer: https://i.example\naudiences: a\nroles: [{ when: { sub: [] }, grant: viewer }]'), /when\.sub must be a non-empty value/],
    ['a rule without grant', only('issuer: https://i.example\naudiences: a\nroles: [{ when: { sub: x } }]'), /roles\[0\]: grant is required/],
    ['a rule granting an unknown role', only('issuer: https://i.example\naudiences: a\nroles: [{ when: { sub: x }, grant: [viewer, runnr] }]'), /roles\[0\]: grant names unknown role "runnr" \(known: viewer, runner, developer, worker, owner, ci-deployer\)/],
    ['a rule with an unknown field', only('issuer: https://i.example\naudiences: a\nroles: [{ when: { sub: x }, grant: viewer, role: owner }]'), /roles\[0\]: unknown field "role"/],
    ['an unknown issuer field, with a guess', base('    audience: b\n'), /unknown field "audience" \(did you mean "audiences"\?\)/],
    ['a lifetime too long', base('    maxLifetime: 30d\n'), /maxLifetime must be between 60 and 604800 seconds \(got 2592000\)/],
    ['a lifetime too short', base('    maxLifetime: 10\n'), /maxLifetime must be between 60 and 604800 seconds \(got 10\)/],
    ['a lifetime in words', base('    maxLifetime: forever\n'), /maxLifetime must be whole seconds/],
    ['a clock skew too large', base('    clockSkew: 600\n'), /clockSkew must be between 0 and 300 seconds/],
    ['a negative clock skew', base('    clockSkew: -1\n'), /clockSkew must be between 0 and 300 seconds/],
    ['a bad name', base('    name: "my issuer"\n'), /name must be 1 to 64 letters/],
    ['the same issuer twice', `${base('')}  - issuer: https://i.example\n    name: again\n    audiences: b\n    roles: [{ when: { sub: y }, grant: viewer }]\n`, /issuers\[1\] \(again\): issuer "https:\/\/i\.example" is already used by issuers\[0\]/],
    ['the same name twice', `${base('    name: ci\n')}  - issuer: https://j.example\n    name: ci\n    audiences: b\n    roles: [{ when: { sub: y }, grant: viewer }]\n`, /issuers\[1\] \(ci\): name "ci" is already used by issuers\[0\]/],
  ])('%s', (_case, text, expected) => {
    const problems = problemsOf(text);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('reports every problem of every issuer at once, each with its location', () => {
    const problems = problemsOf(`
issuers:
  - name: github
    issuer: https://token.actions.githubusercontent.com
    algorithms: [HS256]
    maxLifetime: 1y
    roles:
      - when: { repository: acme/etl }
        grant: runnr
      - grant: viewer
  - issuer: http://k8s.example
    audiences: ["*"]
    roles: [{ when: { sub: x }, grant: owner }]
`);
    expect(problems).toEqual([
      'issuers[0] (github): audiences is required: the value(s) of "aud" meant for this proxy (there is no default that accepts any audience)',
      'issuers[0] (github): algorithms: "HS256" is a shared-secret (HMAC) algorithm and is never accepted: use an asymmetric one',
      'issuers[0] (github): roles[0]: grant names unknown role "runnr" (known: viewer, runner, developer, worker, owner, ci-deployer)',
      'issuers[0] (github): roles[1]: when is required: an object of claim → value or list of values (use "*" as a wildcard)',
      'issuers[0] (github): maxLifetime must be whole seconds, as a number or with a unit such as 90s, 15m, 24h or 7d (got "1y")',
      'issuers[1] (http://k8s.example): issuer must use https (plain http only on a loopback address)',
      'issuers[1] (http://k8s.example): audiences are compared exactly: "*" is not a wildcard; name this proxy\'s audience',
    ]);
  });

  it('the error message joins the problems and holds no file content beyond them', () => {
    expect(() => parseTrustedIssuers('issuers: []', { roles })).toThrow('invalid trusted issuers: the file must hold "issuers"');
  });
});

describe('loadTrustedIssuers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trusted-issuers-'));

  it('reads a YAML file', () => {
    const path = join(dir, 'issuers.yaml');
    writeFileSync(path, GITHUB_YAML);
    expect(loadTrustedIssuers(path, { roles }).map((i) => i.issuer)).toEqual(['https://token.actions.githubusercontent.com']);
  });

  it('reads a JSON file', () => {
    const path = join(dir, 'issuers.json');
    writeFileSync(path, KUBERNETES_JSON);
    expect(loadTrustedIssuers(path, { roles })[0]?.subjectClaim).toBe('kubernetes.io.serviceaccount.name');
  });

  it('a missing file is one problem naming the path', () => {
    const path = join(dir, 'missing.yaml');
    expect(() => loadTrustedIssuers(path, { roles })).toThrow(new TrustedIssuersError([`cannot read ${path}: ENOENT: no such file or directory, open '${path}'`]));
  });
});
