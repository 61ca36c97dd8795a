import type { JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet } from 'jose';
import { discoverJwksUri } from './discovery';
import type { TrustedIssuer } from './types';

/** The issuer's keys cannot be had right now (discovery failed, or is waiting to be retried). */
export class KeysUnavailableError extends Error {}

export interface KeySourceOptions {
  /** Per request for metadata or keys. */
  readonly timeoutMs: number;
  /** jose: after a fetch, how long a token with an unknown `kid` waits before it may trigger another. */
  readonly cooldownMs: number;
  /** jose: how long fetched keys are used before they are fetched again. */
  readonly maxAgeMs: number;
  /** After failed discovery, how long before it is tried again (requests meanwhile fail at once). */
  readonly discoveryRetryMs: number;
  readonly now: () => number;
  readonly warn: (message: string, meta: Record<string, unknown>) => void;
}

export interface KeySource {
  /** The key resolver for jwtVerify. Throws KeysUnavailableError while discovery fails. */
  keys(): Promise<JWTVerifyGetKey>;
  /** Discovers and fetches the keys now, bypassing jose's cooldown: a start-up check. */
  load(): Promise<void>;
}

/**
 * Keys written in the file, at `jwksUri`, or at the `jwks_uri` of the issuer's metadata, found
 * on first use and kept for the life of the process (an issuer's metadata rarely moves; its keys
 * do, and jose's remote key set follows them: cache, refetch on an unknown `kid` after a cooldown).
 */
export function createKeySource(issuer: TrustedIssuer, options: KeySourceOptions): KeySource {
  const remote = (uri: string) => createRemoteJWKSet(new URL(uri), {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.maxAgeMs,
  });
  if (issuer.jwks) {
    const local = createLocalJWKSet(issuer.jwks as unknown as JSONWebKeySet);
    return { keys: async () => local, load: async () => undefined };
  }
  let set = issuer.jwksUri === undefined ? undefined : remote(issuer.jwksUri);
  let pending: Promise<ReturnType<typeof remote>> | undefined;
  let failedAt: number | undefined;

  const discover = (): Promise<ReturnType<typeof remote>> => {
    if (set) return Promise.resolve(set);
    if (failedAt !== undefined && options.now() - failedAt < options.discoveryRetryMs) {
      return Promise.reject(new KeysUnavailableError('issuer discovery failed recently'));
    }
    // Concurrent first requests share one discovery.
    pending ??= discoverJwksUri(issuer.issuer, options.timeoutMs).then(
      (uri) => {
        set = remote(uri);
        failedAt = undefined;
        return set;
      },
      (err: unknown) => {
        failedAt = options.now();
        options.warn('trusted issuer discovery failed', { issuer: issuer.name, error: (err as Error).message });
        throw new KeysUnavailableError('issuer discovery failed');
      },
    ).finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return {
    keys: discover,
    async load() {
      await (await discover()).reload();
    },
  };
}
