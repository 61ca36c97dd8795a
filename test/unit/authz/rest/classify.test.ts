import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyWantsSecrets, classifyRest, classifyWebsocket, normalizePath, queryWantsSecrets } from '../../../../src/authz/rest';
import { PREFECT_ROUTES } from '../../../../src/authz/rest/routes';

const describeRequirement = (method: string, url: string): string => {
  const n = normalizePath(url);
  if (!n.ok) return `refused: ${n.reason}`;
  const r = classifyRest(method, n.segments, n.trailingSlash);
  return r.kind === 'permissions' ? r.permissions.map((p) => p.join('/')).join(',') : r.kind;
};

const concrete = (template: string) =>
  template.replace(/\{[^}]*:uuid\}/g, '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b').replace(/\{[^}]*\}/g, 'x');

/** Every route of Prefect 3.8 (src/authz/rest/routes.ts, from shared/prefect/prefect3-routes.tsv), with the permission it needs, reviewed by hand. */
const expected = readFileSync(join(__dirname, 'expected-permissions.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t') as [string, string, string]);

describe('every Prefect 3 route maps to one permission', () => {
  it('covers the whole route table', () => {
    const routes = PREFECT_ROUTES.filter(([method]) => method !== 'WEBSOCKET').map(([method, path]) => `${method} ${path}`);
    expect(expected.map(([m, p]) => `${m} ${p}`).sort()).toEqual([...new Set(routes)].sort());
  });

  it.each(expected)('%s %s → %s', (method, template, permission) => {
    expect(describeRequirement(method, concrete(template))).toBe(permission);
  });
});

describe('classifyRest: the rules', () => {
  it.each([
    ['GET', '/health', 'public'],
    ['GET', '/ready', 'public'],
    ['POST', '/health', 'write/health/health'],
    ['GET', '/health/', 'read/health'],
    ['GET', '/admin/version', 'any-key'],
    ['GET', '/csrf-token?client=abc', 'any-key'],
    ['HEAD', '/flows/0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b', 'read/flows'],
    // Unknown routes are never open: GET reads its first segment, anything else writes.
    ['GET', '/brand_new_thing/123', 'read/brand_new_thing'],
    ['POST', '/brand_new_thing/123/launch', 'write/brand_new_thing/launch'],
    ['POST', '/admin/database/clear', 'write/admin/clear'],
    ['POST', '/admin/database/drop', 'write/admin/drop'],
    ['GET', '/admin/settings', 'any-key'],
    ['GET', '/admin/unknown_thing', 'read/admin'],
    // The old 3.2–3.6 server auth bypass shape: a name ending in "health" is just a name.
    ['GET', '/variables/name/x-health', 'read/variables'],
    ['DELETE', '/variables/name/x-ready', 'write/variables/delete'],
    // A non-UUID where the route wants one is not that route.
    ['PATCH', '/flows/filter', 'write/flows/filter'],
    ['POST', '/', 'write/root/root'],
  ])('%s %s → %s', (method, url, permission) => {
    expect(describeRequirement(method, url)).toBe(permission);
  });
});

describe('normalizePath: one reading for the check and the upstream', () => {
  it.each([
    ['/api/flows/', ['api', 'flows'], true, '/api/flows/'],
    ['/api/flow%5Fruns/filter', ['api', 'flow_runs', 'filter'], false, '/api/flow_runs/filter'],
    ['/api/variables/name/a%20b', ['api', 'variables', 'name', 'a b'], false, '/api/variables/name/a%20b'],
    ['/api/flows?x=1', ['api', 'flows'], false, '/api/flows'],
    ['/', [], false, '/'],
  ])('%s', (url, segments, trailingSlash, path) => {
    expect(normalizePath(url)).toMatchObject({ ok: true, segments, trailingSlash, path });
  });

  it.each([
    '/api/../admin/settings',
    '/api/flows/..',
    '/api/%2e%2e/admin/settings',
    '/api/%2E/flows',
    '/api//flows',
    '/api/flows%2Ffilter',
    '/api/flows%5cfilter',
    '/api/flows/%00',
    '/api/flows/%zz',
    '/api/flows/%252e%252e',
    'api/flows',
  ])('refuses %s', (url) => {
    expect(normalizePath(url).ok).toBe(false);
  });
});

describe('websockets', () => {
  it.each([
    ['/events/in', 'write/events'],
    ['/events/out', 'read/events'],
    ['/logs/out', 'read/logs'],
    ['/task_runs/subscriptions/scheduled', 'write/task_runs/subscribe'],
    ['/work_pools/my-pool/workers/connect', 'write/work_pools/connect'],
  ])('%s needs %s', (path, permission) => {
    expect(classifyWebsocket(path.split('/').filter(Boolean))?.permission.join('/')).toBe(permission);
  });

  it('knows no other websocket', () => {
    expect(classifyWebsocket(['flows'])).toBeUndefined();
  });
});

describe('secrets', () => {
  it.each([
    ['include_secrets=true', true], ['include_secrets=True', true], ['include_secrets=1', true], ['include_secrets=yes', true],
    ['include_secrets=false', false], ['include_secrets=0', false], ['include_secrets=', false], ['other=1', false],
    ['include_secrets=false&include_secrets=true', true],
  ])('query %s → %s', (query, expected) => {
    expect(queryWantsSecrets(new URLSearchParams(query))).toBe(expected);
  });

  it.each([
    [{ include_secrets: true }, true], [{ include_secrets: 'true' }, true], [{ include_secrets: 1 }, true], [{ include_secrets: {} }, true],
    [{ include_secrets: false }, false], [{ include_secrets: null }, false], [{ include_secrets: 'false' }, false], [{}, false], [[{ include_secrets: true }], false],
  ])('body %j → %s', (body, expected) => {
    expect(bodyWantsSecrets(body)).toBe(expected);
  });
});
