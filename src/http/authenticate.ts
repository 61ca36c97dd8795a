import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { KeyResolver } from '../keys';
import { KeyStoreUnavailableError, readCredential } from '../keys';
import type { Logger } from '../log';
import type { Dialect } from './errors';
import { ProxyError, sendError } from './errors';
import { scopeOf } from './request-scope';

export interface AuthenticateOptions {
  readonly resolver: KeyResolver;
  readonly logger: Logger;
  readonly dialect: Dialect;
  /** Let keyless requests through as the public principal (ALLOW_PUBLIC_ACCESS). Never for admin routes. */
  readonly allowPublic: boolean;
}

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
