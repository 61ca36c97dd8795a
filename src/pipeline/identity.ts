import type { IncomingHttpHeaders } from 'node:http';
import type { MetricsDialect } from '../metrics';
import { ProxyError } from '../http';
import type { KeyResolver, Principal } from '../keys';
import { KeyStoreUnavailableError, readCredential } from '../keys';
import type { Logger } from '../log';
import type { RateLimiter } from '../ratelimit';
import { formatRateLimit } from '../ratelimit';
import type { Exchange, Verdict } from './chain';

/** Per-key rate limits; keys without a limit skip them. */
export interface RateGuard {
  readonly limiter: RateLimiter;
  readonly onRateLimited?: (dialect: MetricsDialect) => void;
}

export interface IdentityOptions {
  readonly resolver: KeyResolver;
  readonly logger: Logger;
  readonly rate?: RateGuard;
}

export interface IdentitySteps {
  /** Reads the credential from the headers (or the websocket's `auth` message); refuses a malformed one. */
  credential(allowPublic: boolean): (x: Exchange<unknown>, headers?: IncomingHttpHeaders) => Verdict | undefined;
  /** The key's principal; unknown keys get 401, a key store outage 503. */
  principal(x: Exchange<unknown>): Promise<Verdict | undefined>;
  rateLimit(metricsDialect: MetricsDialect): (x: Exchange<unknown>) => Promise<Verdict | undefined>;
}

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="prefect-auth-proxy"' };
const LOOKUP_REPORT_MS = 10_000;

/** The audit trail gets a short fixed reason; the client gets the message with what to do. */
function unauthenticated(reason: string, message = reason): Verdict {
  return { kind: 'refuse', error: new ProxyError('UNAUTHENTICATED', message, CHALLENGE), early: { kind: 'unauthenticated', reason } };
}

/** credential → principal → rate limit: the same three steps for every way in. */
export function createIdentitySteps(options: IdentityOptions): IdentitySteps {
  const { resolver, logger } = options;
  let lastLookupReport = 0;
  let failedLookups = 0;

  return {
    credential: (allowPublic) => (x, headers = x.req.headers) => {
      const credential = readCredential(headers);
      x.credential = credential;
      if (credential.kind === 'invalid') return unauthenticated(credential.reason);
      if (credential.kind === 'none' && !allowPublic) {
        return unauthenticated('an API key is required', 'an API key is required: send "Authorization: Bearer <key>"');
      }
      return undefined;
    },

    async principal(x) {
      // Only ALLOW_PUBLIC_ACCESS lets a request without a credential this far: it has no principal.
      if (x.credential.kind !== 'key') return undefined;
      let principal: Principal | null;
      try {
        principal = await resolver.resolve(x.credential.key);
      } catch (err) {
        if (!(err instanceof KeyStoreUnavailableError)) throw err;
        // During an outage every request fails the same way: one line per 10 s says so, with a count.
        failedLookups++;
        if (Date.now() - lastLookupReport >= LOOKUP_REPORT_MS) {
          logger.error('key lookup failed', { requestId: x.scope.id, reason: err.reason, failedSinceLastReport: failedLookups });
          lastLookupReport = Date.now();
          failedLookups = 0;
        }
        return { kind: 'refuse', error: new ProxyError('SERVICE_UNAVAILABLE', 'the API key store is unavailable; try again shortly', { 'Retry-After': '5' }) };
      }
      if (!principal) return unauthenticated('invalid or expired API key');
      x.scope.principal = principal;
      return undefined;
    },

    rateLimit: (metricsDialect) => async (x) => {
      const principal = x.scope.principal;
      if (!options.rate || !principal?.rateLimit) return undefined;
      const verdict = await options.rate.limiter.take(principal.keyId, principal.rateLimit);
      if (verdict.allowed) return undefined;
      options.rate.onRateLimited?.(metricsDialect);
      const limit = formatRateLimit(principal.rateLimit);
      return {
        kind: 'refuse',
        error: new ProxyError(
          'TOO_MANY_REQUESTS',
          `API key of user ${principal.userId} exceeded its rate limit of ${limit} requests/s; retry in ${verdict.retryAfterS} s`,
          { 'Retry-After': String(verdict.retryAfterS) },
        ),
        early: { kind: 'rate-limited', limit: `rate:${limit}` },
      };
    },
  };
}
