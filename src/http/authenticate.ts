import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { KeyResolver } from '../keys';
import { KeyStoreUnavailableError, readCredential } from '../keys';
import type { Logger } from '../log';
import type { MetricsDialect } from '../metrics';
import type { RateLimiter } from '../ratelimit';
import { formatRateLimit } from '../ratelimit';
import type { AuthFailureRecorder } from '../audit';
import type { Dialect } from './errors';
import { ProxyError, sendError } from './errors';
import { recordDecision } from './request-audit';
import { scopeOf } from './request-scope';

export interface AuthenticateOptions {
  readonly resolver: KeyResolver;
  readonly logger: Logger;
  readonly dialect: Dialect;
  /** Let keyless requests through as the public principal (ALLOW_PUBLIC_ACCESS). Never for admin routes. */
  readonly allowPublic: boolean;
  readonly rate?: RateGuard;
  /** Audit the route label, not the path: the proxy's own paths may carry a key (`DELETE /cache/:key`). */
  readonly auditRouteOnly?: boolean;
  /** Where refused credentials are counted into the audit trail. */
  readonly failures?: AuthFailureRecorder;
}

/** Per-key rate limits; keys without a limit skip them. */
export interface RateGuard {
  readonly limiter: RateLimiter;
  readonly onRateLimited?: (dialect: MetricsDialect) => void;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOKUP_REPORT_MS = 10_000;

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="prefect-auth-proxy"' };

/** Answers the request itself and returns false (401 no or bad key, 429, 503 store down), or returns true with the principal set. */
export type Authenticator = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** Turns the request's credential into the scope's principal. */
export function createAuthenticator(options: AuthenticateOptions): Authenticator {
  const { resolver, logger, dialect, allowPublic } = options;
  let lastLookupReport = 0;
  let failedLookups = 0;
  return async (req, res) => {
    const scope = scopeOf(req);
    const credential = readCredential(req.headers);
    if (credential.kind === 'none') {
      if (allowPublic) return true;
      return reject(req, res, 'an API key is required: send "Authorization: Bearer <key>"');
    }
    if (credential.kind === 'invalid') return reject(req, res, credential.reason);
    try {
      const principal = await resolver.resolve(credential.key);
      if (!principal) {
        return reject(req, res, 'invalid or expired API key');
      }
      scope.principal = principal;
      if (options.rate && principal.rateLimit) {
        const verdict = await options.rate.limiter.take(principal.keyId, principal.rateLimit);
        if (!verdict.allowed) {
          options.rate.onRateLimited?.(dialect);
          // A refused write is a blocked mutation: it goes to the audit trail like any other.
          if (!READS.has(req.method ?? '')) {
            recordDecision(req, {
              outcome: 'BLOCKED', dialect, operationType: req.method ?? '', operationName: 'rate limit',
              fields: [options.auditRouteOnly ? (scope.route ?? 'admin') : scope.path], permissions: [`rate:${formatRateLimit(principal.rateLimit)}`],
            });
          }
          sendError(res, new ProxyError('TOO_MANY_REQUESTS',
            `API key of user ${principal.userId} exceeded its rate limit of ${formatRateLimit(principal.rateLimit)} requests/s; retry in ${verdict.retryAfterS} s`,
            { 'Retry-After': String(verdict.retryAfterS) }), dialect);
          return false;
        }
      }
      return true;
    } catch (err) {
      if (!(err instanceof KeyStoreUnavailableError)) throw err;
      // During an outage every request fails the same way: one line per 10 s says so, with a count.
      failedLookups++;
      if (Date.now() - lastLookupReport >= LOOKUP_REPORT_MS) {
        logger.error('key lookup failed', { requestId: scope.id, reason: err.reason, failedSinceLastReport: failedLookups });
        lastLookupReport = Date.now();
        failedLookups = 0;
      }
      sendError(res, new ProxyError('SERVICE_UNAVAILABLE', 'the API key store is unavailable; try again shortly', { 'Retry-After': '5' }), dialect);
      return false;
    }
  };

  function reject(req: IncomingMessage, res: ServerResponse, message: string): false {
    const scope = scopeOf(req);
    options.failures?.record({
      requestId: scope.id, client: scope.client, dialect: options.auditRouteOnly ? 'admin' : dialect, reason: message,
      route: scope.route ?? (options.auditRouteOnly ? 'admin' : 'unknown'),
    });
    sendError(res, new ProxyError('UNAUTHENTICATED', message, CHALLENGE), dialect);
    return false;
  }
}

/** The same check as Express middleware, for the proxy's own routes. */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  const check = createAuthenticator(options);
  return (req: Request, res: Response, next: NextFunction) => {
    check(req, res).then((ok) => (ok ? next() : undefined), next);
  };
}
