import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { RoleTable } from '../authz';
import { buildRoleTable, RoleError } from '../authz';
import { parseRateSpec } from '../ratelimit';
import type { RateLimitSetting } from '../ratelimit';
import { EnvReader } from './env-reader';
import { readSignIn } from './sign-in';
import type { TrustedIssuer } from '../tokens';
import { loadTrustedIssuers, TrustedIssuersError } from '../tokens';
import { deepFreeze } from './freeze';
import type { Config, DbConfig, DbType } from './types';
import { LOG_LEVELS } from './types';
import { configWarnings } from './warnings';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

export interface ParsedConfig {
  readonly config: Config;
  /** Legal but risky settings, logged once at start-up. */
  readonly warnings: readonly string[];
}

const DAY_SECONDS = 86400;

/** Parses and validates the whole configuration once; throws ConfigError naming every bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv): ParsedConfig {
  const r = new EnvReader(env);

  const apiServiceUrl = r.url('API_SERVICE_URL', ['http:', 'https:']);
  const logLevel = r.oneOf('LOG_LEVEL', LOG_LEVELS) ?? 'warn';
  const logFormat = r.oneOf('LOG_FORMAT', ['json', 'pretty'] as const) ??
    (env.NODE_ENV === 'production' ? 'json' : 'pretty');
  const allowPublicAccess = r.bool('ALLOW_PUBLIC_ACCESS');
  const tenant = { id: r.string('TENANT_ID') ?? '', name: r.string('TENANT_NAME') ?? '', slug: r.string('TENANT_SLUG') ?? '' };

  const db = parseDbConfig(r);
  const redisUrl = r.url('REDIS_URL', ['redis:', 'rediss:'])?.href;
  const invalidation = r.oneOf('CACHE_INVALIDATION', ['auto', 'redis', 'postgres', 'off'] as const) ?? 'auto';
  if (invalidation === 'redis' && !redisUrl) r.errors.push('CACHE_INVALIDATION=redis needs REDIS_URL');
  if (invalidation === 'postgres' && db.type !== 'postgres') r.errors.push('CACHE_INVALIDATION=postgres needs the key store on PostgreSQL');
  const cacheInvalidation = invalidation !== 'auto' ? invalidation : redisUrl ? 'redis' : db.type === 'postgres' ? 'postgres' : 'off';

  const roles = readRoles(r);
  const publicUrl = r.url('PUBLIC_URL', ['http:', 'https:']);
  const config: Config = {
    apiKind: r.oneOf('API_KIND', ['graphql', 'rest'] as const) ?? 'graphql',
    upstreamAuthString: r.string('UPSTREAM_AUTH_STRING'),
    publicUrl,
    apiServiceUrl: apiServiceUrl ?? new URL('http://127.0.0.1:4200'),
    host: r.string('HOST') ?? '0.0.0.0',
    port: r.int('PORT', 0, 65535),
    env: r.string('ENV') ?? 'NA',
    log: {
      level: logLevel,
      overrideDurationMs: r.int('LOG_LEVEL_OVERRIDE_DURATION', 1, 7 * DAY_SECONDS) * 1000,
      format: logFormat,
    },
    allowPublicAccess,
    tenant,
    db,
    keyUsageFlushMs: r.int('KEY_USAGE_FLUSH_INTERVAL', 1, 3600) * 1000,
    keyCache: {
      ttlMs: r.int('KEY_CACHE_TTL', 0, 7 * DAY_SECONDS) * 1000,
      negativeTtlMs: r.int('KEY_CACHE_NEGATIVE_TTL', 0, 3600) * 1000,
      max: r.int('KEY_CACHE_MAX', 1, 10_000_000),
      negativeMax: r.int('KEY_CACHE_NEGATIVE_MAX', 1, 10_000_000),
    },
    bodyLimitBytes: r.size('BODY_LIMIT'),
    bodyTimeoutMs: r.int('BODY_TIMEOUT', 1, 3600) * 1000,
    upstreamTimeoutMs: r.int('UPSTREAM_TIMEOUT', 1, DAY_SECONDS) * 1000,
    objectLookup: {
      cacheTtlMs: r.int('OBJECT_CACHE_TTL', 0, 3600) * 1000,
      timeoutMs: r.int('OBJECT_LOOKUP_TIMEOUT', 1, 600) * 1000,
    },
    audit: {
      logVariables: r.bool('AUDIT_LOG_VARIABLES'),
      db: r.oneOf('AUDIT_DB', ['auto', 'true', 'false'] as const) ?? 'auto',
      retentionDays: r.int('AUDIT_RETENTION_DAYS', 0, 36500),
      queueMax: r.int('AUDIT_QUEUE_MAX', 1, 10_000_000),
      flushIntervalMs: r.int('AUDIT_FLUSH_INTERVAL', 10, 60_000),
    },
    roles,
    graphql: {
      maxBatch: r.int('GRAPHQL_MAX_BATCH', 1, 1000),
      maxTokens: r.int('GRAPHQL_MAX_TOKENS', 100, 10_000_000),
    },
    corsOrigins: parseOrigins(r.string('CORS_ORIGINS') ?? '*'),
    trustProxy: parseTrustProxy(r.string('TRUST_PROXY') ?? 'false'),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_PERIOD', 0, 3600) * 1000,
    metrics: {
      port: r.raw('METRICS_PORT') === undefined ? undefined : r.int('METRICS_PORT', 0, 65535),
      perUser: r.bool('METRICS_PER_USER'),
    },
    redisUrl,
    cacheInvalidation,
    keyChangePollMs: r.int('KEY_CHANGE_POLL_INTERVAL', 0, 60) * 1000,
    rateLimit: readRateLimit(r),
    signIn: readSignIn(r, roles, publicUrl),
    trustedIssuers: readTrustedIssuers(r, roles),
    trustedIssuersTimeoutMs: r.int('TRUSTED_ISSUERS_TIMEOUT', 1, 60) * 1000,
  };
  if (config.metrics.port !== undefined && config.metrics.port === config.port && config.port !== 0) {
    r.errors.push('METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)');
  }
  if (r.errors.length > 0) throw new ConfigError(r.errors);
  return { config: deepFreeze(config), warnings: configWarnings(config, env) };
}

const DB_TYPE_ALIASES: Record<string, DbType> = {
  postgres: 'postgres', postgresql: 'postgres', mysql: 'mysql', mariadb: 'mysql', sqlite: 'sqlite',
};

function parseDbConfig(r: EnvReader): DbConfig {
  const url = r.url('DATABASE_URL', ['postgres:', 'postgresql:', 'mysql:', 'mariadb:']);
  const host = r.string('DB_HOST');
  const named = r.oneOf('DB_TYPE', ['postgres', 'postgresql', 'mysql', 'mariadb', 'sqlite'] as const);
  let type: DbType | undefined = named && DB_TYPE_ALIASES[named];
  const timeoutMs = r.int('DB_TIMEOUT', 1, 300) * 1000;
  const poolMax = r.int('DB_POOL_MAX', 1, 1000);
  // Read even when unused, so a broken secret file is reported rather than silently ignored.
  const user = r.string('DB_USER');
  const password = r.string('DB_PASSWORD');
  const database = r.string('DB_DATABASE');
  if (type === undefined) {
    if (url) type = url.protocol.startsWith('postgres') ? 'postgres' : 'mysql';
    else type = host ? 'postgres' : 'sqlite';
  }
  if (type === 'sqlite') {
    return { type, filename: r.string('DB_FILENAME') ?? 'data/prefect-auth-proxy.sqlite3', timeoutMs };
  }
  if (url) {
    if (url.protocol.startsWith('postgres') !== (type === 'postgres')) {
      r.errors.push(`DATABASE_URL does not match DB_TYPE=${type}`);
    }
    // mysql2 does not know the mariadb: scheme; the wire protocol is the same.
    const href = url.protocol === 'mariadb:' ? url.href.replace(/^mariadb:/, 'mysql:') : url.href;
    return { type, connection: href, poolMax, timeoutMs };
  }
  if (!host) r.errors.push(`DB_HOST (or DATABASE_URL) is required when DB_TYPE=${type}`);
  const port = r.raw('DB_PORT') === undefined ? (type === 'postgres' ? 5432 : 3306) : r.int('DB_PORT', 1, 65535);
  return {
    type,
    connection: {
      host: host ?? '',
      port,
      user,
      password,
      database,
    },
    poolMax,
    timeoutMs,
  };
}

function readRoles(r: EnvReader): RoleTable {
  const file = r.string('ROLES_FILE');
  let overrides: unknown = {};
  if (file !== undefined) {
    try {
      // YAML 1.2 is a superset of JSON: one parser reads both.
      overrides = parseYaml(readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      r.errors.push(`ROLES_FILE: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
      return buildRoleTable();
    }
    if (typeof overrides !== 'object' || Array.isArray(overrides)) {
      r.errors.push('ROLES_FILE must map role names to lists of scopes');
      return buildRoleTable();
    }
  }
  try {
    return buildRoleTable(overrides as Record<string, unknown>);
  } catch (err) {
    if (!(err instanceof RoleError)) throw err;
    r.errors.push(`ROLES_FILE: ${err.message}`);
    return buildRoleTable();
  }
}

function readTrustedIssuers(r: EnvReader, roles: RoleTable): readonly TrustedIssuer[] {
  const file = r.string('TRUSTED_ISSUERS_FILE');
  if (file === undefined) return [];
  try {
    return loadTrustedIssuers(file, { roles });
  } catch (err) {
    if (!(err instanceof TrustedIssuersError)) throw err;
    for (const problem of err.problems) r.errors.push(`TRUSTED_ISSUERS_FILE: ${problem}`);
    return [];
  }
}

function readRateLimit(r: EnvReader): RateLimitSetting {
  const text = r.string('RATE_LIMIT') ?? 'off';
  const parsed = parseRateSpec(text);
  if (parsed === undefined) {
    r.errors.push(`RATE_LIMIT must be off, <requests per second> or <rps>/<burst> such as 20/40 (got "${text}")`);
    return null;
  }
  return parsed;
}

function parseOrigins(value: string): '*' | readonly string[] {
  if (value === '*') return '*';
  return value.split(',').map((o) => o.trim()).filter(Boolean);
}

function parseTrustProxy(value: string): boolean | number | string {
  const lower = value.toLowerCase();
  if (['false', '0', 'no', 'off'].includes(lower)) return false;
  if (['true', 'yes', 'on'].includes(lower)) return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
