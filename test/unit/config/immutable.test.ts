import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../src/config';
import { parseConfig } from '../../../src/config';

const rolesFile = join(mkdtempSync(join(tmpdir(), 'pap-roles-')), 'roles.yaml');
writeFileSync(rolesFile, 'auditor: [read/admin]\n');

const { config } = parseConfig({
  API_KIND: 'rest',
  API_SERVICE_URL: 'http://prefect.internal:4200/base?x=1',
  PUBLIC_URL: 'https://prefect.example.com/',
  DATABASE_URL: 'postgres://proxy:pw@db:5432/keys',
  CORS_ORIGINS: 'https://a.example, https://b.example',
  RATE_LIMIT: '20/40',
  ROLES_FILE: rolesFile,
});
const before = JSON.stringify({ ...config, roles: [...config.roles] });

/** Any write: a TypeError (strict mode) or, at the least, nothing changed. */
type Mutation = (c: Config) => unknown;
const loose = (c: Config) => c as unknown as Record<string, Record<string, unknown>>;

describe('the parsed configuration cannot be changed', () => {
  it.each<[string, Mutation]>([
    ['a top-level field', (c) => { (c as { port: number }).port = 1; }],
    ['a new top-level field', (c) => { (c as unknown as Record<string, unknown>).extra = 1; }],
    ['a field, by deleting it', (c) => { delete (c as { env?: string }).env; }],
    ['a nested object', (c) => { loose(c).log!.level = 'debug'; }],
    ['a deeper nested object', (c) => { (loose(c).db!.connection as unknown as Record<string, unknown>).host = 'evil'; }],
    ['an array element', (c) => { (c.corsOrigins as string[])[0] = '*'; }],
    ['an array push', (c) => { (c.corsOrigins as string[]).push('https://evil.example'); }],
    ['the rate limit', (c) => { (c.rateLimit as { rps: number }).rps = 1e9; }],
    ['the API URL port', (c) => { c.apiServiceUrl.port = '9999'; }],
    ['the API URL host', (c) => { c.apiServiceUrl.host = 'evil.example'; }],
    ['the API URL href', (c) => { c.apiServiceUrl.href = 'http://evil.example/'; }],
    ['the API URL pathname', (c) => { c.apiServiceUrl.pathname = '/other'; }],
    ['the API URL credentials', (c) => { c.apiServiceUrl.username = 'u'; c.apiServiceUrl.password = 'p'; }],
    ['the API URL query', (c) => { c.apiServiceUrl.search = '?y=2'; }],
    ['the API URL query parameters', (c) => { c.apiServiceUrl.searchParams.set('x', '2'); }],
    ['the API URL query parameters (append)', (c) => { c.apiServiceUrl.searchParams.append('y', '2'); }],
    ['the API URL query parameters (delete)', (c) => { c.apiServiceUrl.searchParams.delete('x'); }],
    ['the API URL hash', (c) => { c.apiServiceUrl.hash = '#x'; }],
    ['the API URL protocol', (c) => { c.apiServiceUrl.protocol = 'https:'; }],
    ['the API URL, by defineProperty', (c) => { Object.defineProperty(c.apiServiceUrl, 'href', { value: 'http://evil.example/' }); }],
    ['the public URL', (c) => { c.publicUrl!.hostname = 'evil.example'; }],
    ['the roles, by set', (c) => { (c.roles as Map<string, readonly string[]>).set('viewer', ['*']); }],
    ['the roles, by delete', (c) => { (c.roles as Map<string, readonly string[]>).delete('viewer'); }],
    ['the roles, by clear', (c) => { (c.roles as Map<string, readonly string[]>).clear(); }],
    ['a role\'s scopes', (c) => { (c.roles.get('viewer') as string[]).push('*'); }],
    ['a role from the roles file', (c) => { (c.roles.get('auditor') as string[])[0] = '*'; }],
  ])('refuses a change to %s', (_name, mutate) => {
    expect(() => mutate(config)).toThrow(TypeError);
    expect(JSON.stringify({ ...config, roles: [...config.roles] })).toBe(before);
  });

  it('still reads like the URL and map it was', () => {
    expect(config.apiServiceUrl).toBeInstanceOf(URL);
    expect(config.apiServiceUrl.href).toBe('http://prefect.internal:4200/base?x=1');
    expect(new URL(config.apiServiceUrl.href).port).toBe('4200');
    expect(`${config.apiServiceUrl.origin}${config.apiServiceUrl.pathname}`).toBe('http://prefect.internal:4200/base');
    expect(config.apiServiceUrl.searchParams.get('x')).toBe('1');
    expect(JSON.stringify({ u: config.publicUrl })).toBe('{"u":"https://prefect.example.com/"}');
    expect(config.roles.get('auditor')).toEqual(['read/admin']);
    expect([...config.roles.keys()]).toContain('viewer');
    expect(config.roles.size).toBeGreaterThan(5);
  });

  it('lets a copy differ: a test builds a new config instead of changing one', () => {
    const copy = new URL(config.apiServiceUrl.href);
    copy.port = '1';
    expect(copy.port).toBe('1');
    expect(config.apiServiceUrl.port).toBe('4200');
  });
});
