import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { AuditDecision } from '../audit';
import type { Principal } from '../keys';

/** Everything the proxy learns about one request, in one place, from arrival to forwarding. */
export interface RequestScope {
  readonly id: string;
  readonly startedAt: number;
  /** Client address: the socket's, or the one `X-Forwarded-For` gives when TRUST_PROXY allows it. */
  readonly client: string;
  /** The request target's path without the query: as sent, then as normalized by the REST dialect. */
  path: string;
  /** Who is calling; null only for keyless requests let through by ALLOW_PUBLIC_ACCESS. */
  principal: Principal | null;
  /** Decisions to audit when the response ends. */
  readonly auditDecisions: AuditDecision[];
  /** Label for request logs (operation names, admin route); never holds a key. */
  summary?: string;
  /** The permission the admin chain granted; the admin route checks it is the one it serves under. */
  granted?: string;
  /** Bounded label for metrics: a route template or a fixed word, never a raw path. */
  route?: string;
  /** Set when the request was sent to the Prefect API (performance.now() times). */
  upstream?: { readonly startedAt: number; endedAt?: number; failure?: 'timeout' | 'unreachable' };
}

/** Which proxies in front of us may set X-Forwarded-For / -Proto / -Host (TRUST_PROXY). */
export type TrustFunction = (address: string, hop: number) => boolean;

const TRUST_NONE: TrustFunction = () => false;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SCOPE = Symbol('requestScope');

export function scopeOf(req: IncomingMessage): RequestScope {
  const scope = (req as unknown as Record<symbol, RequestScope | undefined>)[SCOPE];
  if (!scope) throw new Error('request scope missing: beginRequest() must run first');
  return scope;
}

/** TRUST_PROXY as Express reads `trust proxy`: true, a hop count, or addresses / subnets / names. */
export function compileTrust(value: boolean | number | string): TrustFunction {
  if (value === true) return () => true;
  if (value === false) return TRUST_NONE;
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return proxyAddr.compile(value.split(',').map((v) => v.trim()));
}

/** The path of an origin-form request target ("/a/b?c"); undefined for any other form. */
export function pathOfTarget(url: string | undefined): string | undefined {
  if (!url || url.charCodeAt(0) !== 47 /* / */) return undefined;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** Who is asking and under which id: the same reading for HTTP requests and websocket upgrades. */
export interface RequestOrigin {
  /** The caller's X-Request-Id when it is a safe token, else a new one. */
  readonly id: string;
  /** The socket's address, or the one X-Forwarded-For gives when TRUST_PROXY trusts the hops. */
  readonly client: string;
  readonly startedAt: number;
}

export function readOrigin(req: IncomingMessage, trust: TrustFunction): RequestOrigin {
  const offered = req.headers['x-request-id'];
  return {
    id: typeof offered === 'string' && SAFE_REQUEST_ID.test(offered) ? offered : randomUUID(),
    // Without trusted proxies the socket is the client; proxy-addr would parse X-Forwarded-For for nothing.
    client: (trust === TRUST_NONE ? req.socket.remoteAddress : proxyAddr(req, trust)) || req.socket.remoteAddress || 'unknown',
    startedAt: performance.now(),
  };
}

/**
 * First for every request and websocket upgrade: a request id (the caller's, if it is a safe
 * token), the client address, the path. An HTTP answer carries the id in X-Request-Id.
 */
export function beginRequest(req: IncomingMessage, res: ServerResponse | undefined, trust: TrustFunction, path: string): RequestScope {
  const { id, client, startedAt } = readOrigin(req, trust);
  const scope: RequestScope = {
    id,
    startedAt,
    client,
    path,
    principal: null,
    auditDecisions: [],
  };
  (req as unknown as Record<symbol, RequestScope>)[SCOPE] = scope;
  res?.setHeader('X-Request-Id', id);
  return scope;
}

/** Scheme and host the client used, for links the proxy writes: forwarded values only from trusted proxies. */
export function clientOrigin(req: IncomingMessage, trust: TrustFunction): string {
  const trusted = trust(req.socket.remoteAddress ?? '', 0);
  const encrypted = 'encrypted' in req.socket && Boolean((req.socket as { encrypted?: boolean }).encrypted);
  const forwardedProto = trusted ? firstValue(req.headers['x-forwarded-proto']) : undefined;
  const proto = forwardedProto ?? (encrypted ? 'https' : 'http');
  const host = (trusted ? firstValue(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host ?? 'localhost';
  return `${proto}://${host}`;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first ? first : undefined;
}
