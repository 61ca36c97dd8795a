import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig, variables } from '../../../src/config';

const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
};

describe('parseConfig', () => {
  it('starts on a fresh machine with nothing set: embedded SQLite', () => {
    const { config } = parseConfig({});
    expect(config.db).toEqual({ type: 'sqlite', filename: 'data/prefect-auth-proxy.sqlite3', timeoutMs: 5000 });
    expect(config.port).toBe(3000);
    expect(config.allowPublicAccess).toBe(false);
    expect(config.log.level).toBe('warn');
    expect(config.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(Object.isFrozen(config.db)).toBe(true);
  });

  it.each([
    ['false', false], ['FALSE', false], ['0', false], ['no', false], ['off', false],
    ['true', true], ['1', true], ['yes', true], ['', false],
  ])('ALLOW_PUBLIC_ACCESS=%j is %s', (value, expected) => {
    expect(parseConfig({ ALLOW_PUBLIC_ACCESS: value }).config.allowPublicAccess).toBe(expected);
  });

  it.each([
    [{ ALLOW_PUBLIC_ACCESS: 'flase' }, 'ALLOW_PUBLIC_ACCESS'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '3e3' }, 'PORT'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ DB_TYPE: 'oracle' }, 'DB_TYPE'],
    [{ DB_TYPE: 'postgres' }, 'DB_HOST'],
    [{ API_SERVICE_URL: 'ftp://x' }, 'API_SERVICE_URL'],
    [{ API_SERVICE_URL: 'not a url' }, 'API_SERVICE_URL'],
    [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT'],
    [{ KEY_CACHE_MAX: '0' }, 'KEY_CACHE_MAX'],
    [{ DB_PASSWORD: 'a', DB_PASSWORD_FILE: '/x' }, 'DB_PASSWORD'],
    [{ DB_PASSWORD_FILE: '/nonexistent/secret' }, 'DB_PASSWORD_FILE'],
    [{ SHUTDOWN_GRACE_PERIOD: '-1' }, 'SHUTDOWN_GRACE_PERIOD'],
    [{ METRICS_PORT: 'metrics' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '3000' }, 'METRICS_PORT'],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
    [{ CACHE_INVALIDATION: 'redis' }, 'CACHE_INVALIDATION'],
    [{ CACHE_INVALIDATION: 'postgres' }, 'CACHE_INVALIDATION'],
    [{ CACHE_INVALIDATION: 'gossip' }, 'CACHE_INVALIDATION'],
    [{ RATE_LIMIT: 'fast' }, 'RATE_LIMIT'],
    [{ RATE_LIMIT: '10/0' }, 'RATE_LIMIT'],
    [{ RATE_LIMIT: '0' }, 'RATE_LIMIT'],
  ])('names the variable in the error: %j', (env, name) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${name}\\b`));
  });

  it('reports every problem at once', () => {
    expect(problems({ PORT: 'x', LOG_LEVEL: 'y', ALLOW_PUBLIC_ACCESS: 'z' })).toHaveLength(3);
  });

  it('never echoes a database URL in errors', () => {
    const found = problems({ DATABASE_URL: 'postgres://u:hunter2@db/keys', DB_TYPE: 'mysql' });
    expect(found.join()).not.toContain('hunter2');
  });

  it.each([
    [{ DB_HOST: 'db' }, 'postgres', 5432],
    [{ DB_HOST: 'db', DB_TYPE: 'mysql' }, 'mysql', 3306],
    [{ DB_HOST: 'db', DB_TYPE: 'MariaDB', DB_PORT: '3307' }, 'mysql', 3307],
    [{ DATABASE_URL: 'mysql://u:p@db/keys' }, 'mysql', undefined],
    [{ DATABASE_URL: 'postgresql://u:p@db/keys' }, 'postgres', undefined],
    [{ DB_TYPE: 'sqlite', DB_HOST: 'ignored' }, 'sqlite', undefined],
  ])('chooses the key store from %j', (env, type, port) => {
    const { db } = parseConfig(env).config;
    expect(db.type).toBe(type);
    if (port !== undefined && db.type !== 'sqlite' && typeof db.connection !== 'string') expect(db.connection.port).toBe(port);
  });

  it.each([
    [{}, 'off'],
    [{ DB_HOST: 'db' }, 'postgres'],
    [{ DB_HOST: 'db', DB_TYPE: 'mysql' }, 'off'],
    [{ DB_HOST: 'db', DB_TYPE: 'mysql', REDIS_URL: 'redis://cache:6379' }, 'redis'],
    [{ DB_HOST: 'db', REDIS_URL: 'redis://cache:6379' }, 'redis'],
    [{ DB_HOST: 'db', REDIS_URL: 'redis://cache:6379', CACHE_INVALIDATION: 'postgres' }, 'postgres'],
    [{ DB_HOST: 'db', CACHE_INVALIDATION: 'off' }, 'off'],
  ])('CACHE_INVALIDATION=auto picks the channel for %j', (env, expected) => {
    expect(parseConfig(env).config.cacheInvalidation).toBe(expected);
  });

  it.each([
    ['off', null],
    ['20', { rps: 20, burst: 20 }],
    ['0.5', { rps: 0.5, burst: 1 }],
    ['20/40', { rps: 20, burst: 40 }],
  ])('RATE_LIMIT=%s', (value, expected) => {
    expect(parseConfig({ RATE_LIMIT: value }).config.rateLimit).toEqual(expected);
  });

  it('has operations defaults: 20 s grace, metrics on PORT, no per-user series', () => {
    const { config } = parseConfig({});
    expect(config.shutdownGraceMs).toBe(20_000);
    expect(config.metrics).toEqual({ port: undefined, perUser: false });
    expect(config.redisUrl).toBeUndefined();
  });

  it('never echoes a Redis URL in errors', () => {
    expect(problems({ REDIS_URL: 'http://:hunter2@cache:6379' }).join()).not.toContain('hunter2');
  });

  it('reads secrets from *_FILE', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pap-')), 'pw');
    writeFileSync(file, 's3cret\n');
    const { db } = parseConfig({ DB_HOST: 'db', DB_PASSWORD_FILE: file }).config;
    expect(db.type !== 'sqlite' && typeof db.connection !== 'string' && db.connection.password).toBe('s3cret');
  });

});

describe('documentation', () => {
  const root = join(__dirname, '..', '..', '..');
  const documented = (text: string, pattern: RegExp) => new Set([...text.matchAll(pattern)].map((m) => m[1] as string));

  it('the configuration table (docs/configuration.md) lists exactly the variables the service reads', () => {
    const page = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
    const table = page.slice(page.indexOf('<!-- config-table:start -->'), page.indexOf('<!-- config-table:end -->'));
    const names = documented(table, /^\| `([A-Z][A-Z0-9_]+)` \|/gm);
    expect([...names].sort()).toEqual(variables.map((v) => v.name).sort());
  });

  it('.env.example names every variable', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const names = documented(example, /^#?\s*([A-Z][A-Z0-9_]+)=/gm);
    expect([...names].sort()).toEqual(variables.map((v) => v.name).sort());
  });
});
