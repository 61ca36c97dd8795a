import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { KeyResolver } from '../keys';
import { KeyStoreUnavailableError, readCredential } from '../keys';
import type { Logger } from '../log';
import type { MetricsDialect } from '../metrics';
import type { RateLimiter } from '../ratelimit';
import { formatRateLimit } from '../ratelimit';
import { recordDecision } from '../audit/request-audit';
import type { Dialect } from './errors';
import { ProxyError, sendError } from './errors';
import { scopeOf } from './request-scope';

export interface AuthenticateOptions {
  readonly resolver: KeyResolver;
  readonly logger: Logger;
  readonly dialect: Dialect;
  /** Let keyless requests through as the public principal (ALLOW_PUBLIC_ACCESS). Never for admin routes. */
  readonly allowPublic: boolean;
  readonly rate?: RateGuard;
}

/** Per-key rate limits; keys without a limit skip them. */
export interface RateGuard {
  readonly limiter: RateLimiter;
  readonly onRateLimited?: (dialect: MetricsDialect) => void;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="prefect-auth-proxy"' };

/** Turns the request's credential into a principal, or answers 401 (no or bad key) / 503 (store down). */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  const { resolver, logger, dialect, allowPublic } = options;
  return async (req: Request, res: Response, next: NextFunction) => {
    const scope = scopeOf(req);
    const credential = readCredential(req.headers);
    if (credential.kind === 'none') {
      if (allowPublic) return next();
      return reject(res, 'an API key is required: send "Authorization: Bearer <key>"');
    }
    if (credential.kind === 'invalid') return reject(res, credential.reason);
    try {
      const principal = await resolver.resolve(credential.key);
      if (!principal) {
        logger.info('unknown or expired API key', { requestId: scope.id, client: scope.client });
        return reject(res, 'invalid or expired API key');
      }
      scope.principal = principal;
      if (options.rate && principal.rateLimit) {
        const verdict = await options.rate.limiter.take(principal.keyId, principal.rateLimit);
        if (!verdict.allowed) {
          options.rate.onRateLimited?.(dialect);
          // A refused write is a blocked mutation: it goes to the audit trail like any other.
          if (!READS.has(req.method)) {
            recordDecision(req, {
              outcome: 'BLOCKED', dialect, operationType: req.method, operationName: 'rate limit',
              fields: [req.path], permissions: [`rate:${formatRateLimit(principal.rateLimit)}`],
            });
          }
          return sendError(res, new ProxyError('TOO_MANY_REQUESTS',
            `API key of user ${principal.userId} exceeded its rate limit of ${formatRateLimit(principal.rateLimit)} requests/s; retry in ${verdict.retryAfterS} s`,
            { 'Retry-After': String(verdict.retryAfterS) }), dialect);
        }
      }
      next();
    } catch (err) {
      if (!(err instanceof KeyStoreUnavailableError)) return next(err);
      logger.error('key lookup failed', { requestId: scope.id, reason: err.reason });
      sendError(res, new ProxyError('SERVICE_UNAVAILABLE', 'the API key store is unavailable; try again shortly', { 'Retry-After': '5' }), dialect);
    }
  };

  function reject(res: Response, message: string): void {
    sendError(res, new ProxyError('UNAUTHENTICATED', message, CHALLENGE), dialect);
  }
}
