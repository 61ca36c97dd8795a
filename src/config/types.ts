export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export type DbType = 'postgres' | 'mysql' | 'sqlite';

export type DbConfig =
  | { readonly type: 'sqlite'; readonly filename: string; readonly timeoutMs: number }
  | {
      readonly type: 'postgres' | 'mysql';
      readonly connection: string | NetworkConnection;
      readonly poolMax: number;
      readonly timeoutMs: number;
    };

export interface NetworkConnection {
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
}

import type { RoleTable } from '../authz';
import type { RateLimitSetting } from '../ratelimit';
import type { TrustedIssuer } from '../tokens';
import type { SignInConfig } from './sign-in';

export interface Config {
  readonly apiKind: 'graphql' | 'rest';
  readonly apiServiceUrl: URL;
  /** REST mode: what the Prefect server expects as Basic credentials; never the client's. */
  readonly upstreamAuthString: string | undefined;
  readonly publicUrl: URL | undefined;
  readonly host: string;
  readonly port: number;
  readonly env: string;
  readonly log: {
    readonly level: LogLevel;
    readonly overrideDurationMs: number;
    readonly format: 'json' | 'pretty';
  };
  readonly allowPublicAccess: boolean;
  readonly tenant: { readonly id: string; readonly name: string; readonly slug: string };
  readonly db: DbConfig;
  /** KEY_USAGE_FLUSH_INTERVAL. */
  readonly keyUsageFlushMs: number;
  readonly keyCache: { readonly ttlMs: number; readonly negativeTtlMs: number; readonly max: number; readonly negativeMax: number };
  readonly bodyLimitBytes: number;
  /** BODY_TIMEOUT: how long a client may take to send its body. */
  readonly bodyTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  /** Lookups of named things for narrowed scopes (OBJECT_CACHE_TTL, OBJECT_LOOKUP_TIMEOUT). */
  readonly objectLookup: { readonly cacheTtlMs: number; readonly timeoutMs: number };
  readonly audit: {
    readonly logVariables: boolean;
    readonly db: 'auto' | 'true' | 'false';
    readonly retentionDays: number;
    readonly queueMax: number;
    readonly flushIntervalMs: number;
  };
  readonly roles: RoleTable;
  readonly graphql: { readonly maxBatch: number; readonly maxTokens: number };
  readonly corsOrigins: '*' | readonly string[];
  readonly trustProxy: boolean | number | string;
  readonly shutdownGraceMs: number;
  readonly metrics: { readonly port: number | undefined; readonly perUser: boolean };
  /** Holds a password when the URL does: never log it. */
  readonly redisUrl: string | undefined;
  readonly cacheInvalidation: 'redis' | 'postgres' | 'off';
  /** KEY_CHANGE_POLL_INTERVAL in ms; 0 when off. */
  readonly keyChangePollMs: number;
  /** Limit for keys that carry none of their own. */
  readonly rateLimit: RateLimitSetting;
  /** TRUSTED_ISSUERS_FILE, parsed; empty when unset. */
  readonly trustedIssuers: readonly TrustedIssuer[];
  readonly trustedIssuersTimeoutMs: number;
  /** Sessions for people (SIGN_IN); undefined when off. */
  readonly signIn: SignInConfig | undefined;
}
