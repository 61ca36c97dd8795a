import type { IncomingHttpHeaders } from 'node:http';
import type { MetricsDialect } from '../metrics';
import { compileScopes } from '../authz';
import { ProxyError } from '../http';
import type { KeyResolver, Principal } from '../keys';
import { describePrincipal, KeyStoreUnavailableError, readCredential } from '../keys';
import type { Logger } from '../log';
import type { RateLimiter } from '../ratelimit';
import type { RateLimitSetting } from '../ratelimit';
import { formatRateLimit, rateLimitFor } from '../ratelimit';
import type { MachineIdentity, TokenVerifier, VerifyResult } from '../tokens';
import type { SignIn } from '../signin';
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
  /** SIGN_IN: a session cookie is a credential when no key came in a header. */
  readonly signIn?: SignIn;
  /** TRUSTED_ISSUERS_FILE: a signed token from one of them stands in for a key. */
  readonly tokens?: TokenVerifier;
  /** RATE_LIMIT, for machine identities whose roles carry none. */
  readonly defaultRateLimit?: RateLimitSetting;
}

export interface IdentitySteps {
  /** Reads the credential from the headers (or the websocket's `auth` message); refuses a malformed one. */
  credential(allowPublic: boolean): (x: Exchange<unknown>, headers?: IncomingHttpHeaders) => Verdict | undefined;
  /** The key's principal; unknown keys get 401, a key store outage 503. */
  principal(x: Exchange<unknown>): Promise<Verdict | undefined>;
  rateLimit(metricsDialect: MetricsDialect): (x: Exchange<unknown>) => Promise<Verdict | undefined>;
  /** A request authenticated by the session cookie that changes something must come from the proxy's own origin. */
  sameOrigin(x: Exchange<unknown>): Verdict | undefined;
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

  // One principal per verified identity: the verifier caches identities until their tokens expire.
  const machines = new WeakMap<MachineIdentity, Principal>();
  const machine = async (x: Exchange<unknown>, verifying: Promise<VerifyResult>): Promise<Verdict | undefined> => {
    const verified = await verifying;
    if (!verified.ok) {
      if (verified.code === 'SERVICE_UNAVAILABLE') {
        return { kind: 'refuse', error: new ProxyError('SERVICE_UNAVAILABLE', verified.reason, { 'Retry-After': '5' }) };
      }
      return unauthenticated(verified.reason);
    }
    const identity = verified.identity;
    let principal: Principal | undefined = machines.get(identity);
    if (!principal) {
      principal = {
        userId: `${identity.issuerName}:${identity.subject}`, scopeList: identity.scopeList, effectiveScopes: identity.effectiveScopes,
        scopes: compileScopes(identity.effectiveScopes), keyId: `machine:${identity.machineId}`,
        rateLimit: rateLimitFor(identity.scopeList, identity.effectiveScopes, options.defaultRateLimit ?? null),
      };
      machines.set(identity, principal);
    }
    x.scope.principal = principal;
    return undefined;
  };

  return {
    credential: (allowPublic) => (x, headers = x.req.headers) => {
      let credential = readCredential(headers);
      const sessionId = credential.kind === 'none' ? options.signIn?.sessionIdOf(x.req) : undefined;
      if (sessionId !== undefined) credential = { kind: 'session', id: sessionId };
      x.credential = credential;
      if (credential.kind === 'invalid') return unauthenticated(credential.reason);
      if (credential.kind === 'none' && !allowPublic) {
        return unauthenticated('an API key is required', 'an API key is required: send "Authorization: Bearer <key>"');
      }
      return undefined;
    },

    async principal(x) {
      // Only ALLOW_PUBLIC_ACCESS lets a request without a credential this far: it has no principal.
      const credential = x.credential;
      if (credential.kind !== 'key' && credential.kind !== 'session') return undefined;
      let principal: Principal | null;
      const verifying = credential.kind === 'key' ? options.tokens?.verifyIfToken(credential.key) : undefined;
      if (verifying) return machine(x, verifying);
      try {
        principal = credential.kind === 'key'
          ? await resolver.resolve(credential.key)
          : (await options.signIn?.sessions.resolve(credential.id, { requestId: x.scope.id, client: x.scope.client }))?.principal ?? null;
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
      if (!principal) {
        return credential.kind === 'key'
          ? unauthenticated('invalid or expired API key')
          : unauthenticated('ended or unknown session', 'your session has ended: sign in again');
      }
      x.scope.principal = principal;
      return undefined;
    },

    sameOrigin(x) {
      if (x.credential.kind !== 'session' || !options.signIn) return undefined;
      const verdict = options.signIn.checkSameOrigin(x.req);
      if (verdict.allowed) return undefined;
      return {
        kind: 'refuse',
        error: new ProxyError('FORBIDDEN', `refused a cross-site request made with the session cookie: ${verdict.reason}`),
        early: { kind: 'cross-site', reason: verdict.reason },
      };
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
          `${describePrincipal(principal)} exceeded its rate limit of ${limit} requests/s; retry in ${verdict.retryAfterS} s`,
          { 'Retry-After': String(verdict.retryAfterS) },
        ),
        early: { kind: 'rate-limited', limit: `rate:${limit}` },
      };
    },
  };
}
