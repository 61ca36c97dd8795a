import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { readCredential } from '../keys';
import type { Dialect } from './errors';
import { ProxyError, sendError } from './errors';
import type { IdentifyOptions, IdentityRefusal } from './identify';
import { createIdentifier } from './identify';
import { recordDecision } from './request-audit';
import { scopeOf } from './request-scope';

export type { RateGuard } from './identify';

export interface AuthenticateOptions extends IdentifyOptions {
  readonly dialect: Dialect;
  /** Audit the route label, not the path: the proxy's own paths may carry a key (`DELETE /cache/:key`). */
  readonly auditRouteOnly?: boolean;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="prefect-auth-proxy"' };

/** Answers the request itself and returns false (401 no or bad key, 429, 503 store down), or returns true with the principal set. */
export type Authenticator = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** The identity steps for an HTTP request: the scope gets the principal, or the client its refusal. */
export function createAuthenticator(options: AuthenticateOptions): Authenticator {
  const { dialect } = options;
  const identify = createIdentifier(options);
  return async (req, res) => {
    const scope = scopeOf(req);
    const admin = options.auditRouteOnly === true;
    const identified = await identify(readCredential(req.headers), {
      requestId: scope.id, client: scope.client, route: scope.route ?? (admin ? 'admin' : 'unknown'),
      dialect: admin ? 'admin' : dialect, metricsDialect: dialect,
    });
    if (identified.ok) {
      scope.principal = identified.principal;
      return true;
    }
    const { refusal } = identified;
    if (refusal.principal) scope.principal = refusal.principal;
    // A refused write is a blocked mutation: it goes to the audit trail like any other.
    if (refusal.limit && !READS.has(req.method ?? '')) {
      recordDecision(req, {
        outcome: 'BLOCKED', dialect, operationType: req.method ?? '', operationName: 'rate limit',
        fields: [admin ? (scope.route ?? 'admin') : scope.path], permissions: [refusal.limit],
      });
    }
    sendError(res, toHttpError(refusal), dialect);
    return false;
  };
}

function toHttpError(refusal: IdentityRefusal): ProxyError {
  const headers: Record<string, string> = refusal.code === 'UNAUTHENTICATED' ? { ...CHALLENGE } : {};
  if (refusal.retryAfterS !== undefined) headers['Retry-After'] = String(refusal.retryAfterS);
  return new ProxyError(refusal.code, refusal.message, headers);
}

/** The same check as Express middleware, for the proxy's own routes. */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  const check = createAuthenticator(options);
  return (req: Request, res: Response, next: NextFunction) => {
    check(req, res).then((ok) => (ok ? next() : undefined), next);
  };
}
