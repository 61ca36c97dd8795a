import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuditDecision } from '../audit/types';
import type { Principal } from '../keys';

/** Everything the proxy learns about one request, in one place, from arrival to forwarding. */
export interface RequestScope {
  readonly id: string;
  readonly startedAt: number;
  /** Client address: the socket's, or the one `X-Forwarded-For` gives when TRUST_PROXY allows it. */
  readonly client: string;
  /** Who is calling; null only for keyless requests let through by ALLOW_PUBLIC_ACCESS. */
  principal: Principal | null;
  /** What is sent upstream instead of the client's raw bytes. */
  forwardBody?: Buffer;
  /** For a batch that was partly denied: how to splice the upstream's answers back in place. */
  batchSplice?: BatchSplice;
  /** Decisions to audit when the response ends. */
  readonly auditDecisions: AuditDecision[];
  /** Label for request logs (operation names, admin route); never holds a key. */
  summary?: string;
  /** Bounded label for metrics: a route template or a fixed word, never a raw path. */
  route?: string;
  /** Set when the request was sent to the Prefect API (performance.now() times). */
  upstream?: { readonly startedAt: number; endedAt?: number; failure?: 'timeout' | 'unreachable' };
}

export interface BatchSplice {
  readonly size: number;
  /** Position in the client's batch of each forwarded item, in forwarded order. */
  readonly forwardedPositions: readonly number[];
  /** The answer for each denied position. */
  readonly denied: ReadonlyMap<number, unknown>;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SCOPE = Symbol('requestScope');

export function scopeOf(req: Request): RequestScope {
  const scope = (req as unknown as Record<symbol, RequestScope | undefined>)[SCOPE];
  if (!scope) throw new Error('request scope missing: requestContext() must run first');
  return scope;
}

/** First in the chain: a request id (the caller's, if it is a safe token) and the client address. */
export function requestContext(): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const offered = req.get('x-request-id');
    const id = offered && SAFE_REQUEST_ID.test(offered) ? offered : randomUUID();
    const scope: RequestScope = {
      id,
      startedAt: performance.now(),
      client: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      principal: null,
      auditDecisions: [],
    };
    (req as unknown as Record<symbol, RequestScope>)[SCOPE] = scope;
    res.setHeader('X-Request-Id', id);
    next();
  };
}

/** Labels every request through this handler for metrics with a fixed route name. */
export function routeLabel(route: string): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    scopeOf(req).route = route;
    next();
  };
}
