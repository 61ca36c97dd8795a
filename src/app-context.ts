import type { Config } from './config';
import type { TrustFunction } from './http';
import { compileTrust } from './http';

/** Prefect 2/3 serve their REST API under this mount; the web UI is everything else. */
export const API_PREFIX = '/api';

/** What every entry point derives from the configuration, computed once at start-up. */
export interface AppContext {
  readonly config: Config;
  /** TRUST_PROXY, compiled. */
  readonly trust: TrustFunction;
  /** `Basic base64(UPSTREAM_AUTH_STRING)`: what the Prefect server gets instead of a caller's key (REST mode). */
  readonly serverAuthorization: string | undefined;
  readonly apiPrefix: string;
  /** The API mount as path segments (`['api']`). */
  readonly apiPrefixSegments: readonly string[];
}

export function createAppContext(config: Config): AppContext {
  return Object.freeze({
    config,
    trust: compileTrust(config.trustProxy),
    serverAuthorization: config.upstreamAuthString === undefined
      ? undefined
      : `Basic ${Buffer.from(config.upstreamAuthString, 'utf8').toString('base64')}`,
    apiPrefix: API_PREFIX,
    apiPrefixSegments: Object.freeze(API_PREFIX.split('/').filter(Boolean)),
  });
}
