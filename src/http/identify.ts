import type { AuthFailureRecorder } from '../audit';
import type { Credential, KeyResolver, Principal } from '../keys';
import { KeyStoreUnavailableError } from '../keys';
import type { Logger } from '../log';
import type { MetricsDialect } from '../metrics';
import type { RateLimiter } from '../ratelimit';
import { formatRateLimit } from '../ratelimit';
import type { ErrorCode } from './errors';

/** Per-key rate limits; keys without a limit skip them. */
export interface RateGuard {
  readonly limiter: RateLimiter;
  readonly onRateLimited?: (dialect: MetricsDialect) => void;
}

export interface IdentifyOptions {
  readonly resolver: KeyResolver;
  readonly logger: Logger;
  /** Let keyless callers through as the public principal (ALLOW_PUBLIC_ACCESS). Never for admin routes. */
  readonly allowPublic: boolean;
  readonly rate?: RateGuard;
  /** Where refused credentials are counted into the audit trail. */
  readonly failures?: AuthFailureRecorder;
}

/** Who asks, for the failure record and the logs: never the credential. */
export interface Asker {
  readonly requestId: string;
  readonly client: string;
  /** A route label or template, never a raw path (`/cache/:key` holds a key). */
  readonly route: string;
  readonly dialect: 'graphql' | 'rest' | 'admin';
  readonly metricsDialect: MetricsDialect;
}

/** Why the caller is turned away; each entry point renders it in its own form (HTTP body, close code). */
export interface IdentityRefusal {
  readonly code: Extract<ErrorCode, 'UNAUTHENTICATED' | 'TOO_MANY_REQUESTS' | 'SERVICE_UNAVAILABLE'>;
  readonly message: string;
  /** For UNAUTHENTICATED: whether any credential was presented. */
  readonly presented?: boolean;
  readonly retryAfterS?: number;
  /** For TOO_MANY_REQUESTS: the limit that refused it, as a permission-like label for the audit trail. */
  readonly limit?: string;
  /** The principal, when it was known before the refusal (rate limit). */
  readonly principal?: Principal;
}

export type Identified =
  | { readonly ok: true; readonly principal: Principal | null }
  | { readonly ok: false; readonly refusal: IdentityRefusal };

const LOOKUP_REPORT_MS = 10_000;

/**
 * credential → principal → rate limit: the same steps for every way in (HTTP dialects, admin
 * routes, websockets). Decides only; the entry point answers.
 */
export function createIdentifier(options: IdentifyOptions): (credential: Credential, asker: Asker) => Promise<Identified> {
  const { resolver, logger } = options;
  let lastLookupReport = 0;
  let failedLookups = 0;

  // The audit trail gets a short fixed reason; the client gets the message with what to do.
  const unauthenticated = (asker: Asker, reason: string, presented: boolean, message = reason): Identified => {
    options.failures?.record({ requestId: asker.requestId, client: asker.client, dialect: asker.dialect, reason, route: asker.route });
    return { ok: false, refusal: { code: 'UNAUTHENTICATED', message, presented } };
  };

  return async (credential, asker) => {
    if (credential.kind === 'none') {
      if (options.allowPublic) return { ok: true, principal: null };
      return unauthenticated(asker, 'an API key is required', false, 'an API key is required: send "Authorization: Bearer <key>"');
    }
    if (credential.kind === 'invalid') return unauthenticated(asker, credential.reason, true);
    let principal: Principal | null;
    try {
      principal = await resolver.resolve(credential.key);
    } catch (err) {
      if (!(err instanceof KeyStoreUnavailableError)) throw err;
      // During an outage every request fails the same way: one line per 10 s says so, with a count.
      failedLookups++;
      if (Date.now() - lastLookupReport >= LOOKUP_REPORT_MS) {
        logger.error('key lookup failed', { requestId: asker.requestId, reason: err.reason, failedSinceLastReport: failedLookups });
        lastLookupReport = Date.now();
        failedLookups = 0;
      }
      return { ok: false, refusal: { code: 'SERVICE_UNAVAILABLE', message: 'the API key store is unavailable; try again shortly', retryAfterS: 5 } };
    }
    if (!principal) return unauthenticated(asker, 'invalid or expired API key', true);
    if (options.rate && principal.rateLimit) {
      const verdict = await options.rate.limiter.take(principal.keyId, principal.rateLimit);
      if (!verdict.allowed) {
        options.rate.onRateLimited?.(asker.metricsDialect);
        const limit = formatRateLimit(principal.rateLimit);
        return {
          ok: false,
          refusal: {
            code: 'TOO_MANY_REQUESTS',
            message: `API key of user ${principal.userId} exceeded its rate limit of ${limit} requests/s; retry in ${verdict.retryAfterS} s`,
            retryAfterS: verdict.retryAfterS,
            limit: `rate:${limit}`,
            principal,
          },
        };
      }
    }
    return { ok: true, principal };
  };
}
