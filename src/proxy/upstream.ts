import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { ProxyError, scopeOf, sendError } from '../http';
import type { Dialect, TrustFunction } from '../http';
import type { Logger } from '../log';
import { stripProxyCookies } from '../signin';

/**
 * Client headers the upstream must never see: the caller's key, provenance it could spoof, and
 * requests to treat the call as another method (the decision was made on the real one).
 */
export const STRIPPED_REQUEST_HEADERS = [
  'authorization', 'x-prefect-user-id', 'proxy-authorization', 'x-http-method-override', 'x-http-method', 'x-method-override',
];

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), and `expect`: Node has
 * already answered 100-continue. Never passed on, either way.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect'];
const HOP_BY_HOP_SET = new Set(HOP_BY_HOP);

export type BufferedResponseHandler = (status: number, headers: IncomingHttpHeaders, body: Buffer, req: IncomingMessage, res: ServerResponse) => void;

/**
 * Kept-alive connections to the Prefect API, shared by every upstream of one proxy. undici, Node's
 * own HTTP client, costs about half of what `http.request` with an Agent does per request.
 */
export function createUpstreamPool(target: URL, timeoutMs: number): Pool {
  return new Pool(target.origin, {
    connections: 256,
    keepAliveTimeout: 4000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
}

export interface UpstreamOptions {
  readonly pool: Dispatcher;
  readonly target: URL;
  readonly dialect: Dialect;
  readonly logger: Logger;
  /** TRUST_PROXY: only a trusted proxy's X-Forwarded-* headers are passed on (and extended). */
  readonly trust: TrustFunction;
  /** Keep the client's Host: Prefect 3 builds links and redirects from it. */
  readonly preserveHost?: boolean;
  /** Client headers removed besides the credentials. */
  readonly stripHeaders?: readonly string[];
  /** The Authorization the upstream gets in place of the client's (Prefect 3 server auth string), when a plan asks for it. */
  readonly serverAuthorization?: string;
}

/**
 * What leaves the proxy, decided before anything is sent: the decision hands this to forwarding
 * rather than leaving state on the request for a later step to find.
 */
export interface ForwardPlan {
  /** Path and query as the upstream gets them, below the target's base path. */
  readonly path: string;
  /** The checked body, as it is to be sent; null sends none. */
  readonly body: Buffer | null;
  /** `server`: the server's own credential in place of the client's; `none`: no credential at all. */
  readonly credential: 'server' | 'none';
  /** Buffer the upstream's answer and hand it here instead of streaming it to the client. */
  readonly rewrite?: BufferedResponseHandler;
}

/** Sends what the plan says and answers the client. */
export type Forward = (req: IncomingMessage, res: ServerResponse, plan: ForwardPlan) => void;

/** The one place requests leave the proxy. */
export function createUpstream(options: UpstreamOptions): Forward {
  const { pool, target, dialect, logger } = options;
  const dropped = new Set([...HOP_BY_HOP, ...STRIPPED_REQUEST_HEADERS, ...(options.stripHeaders ?? []), 'host']);
  const basePath = target.pathname;

  return (req, res, plan) => {
    const scope = scopeOf(req);
    const buffered = plan.rewrite;
    const headers = outgoingHeaders(req, dropped, options.trust(req.socket.remoteAddress ?? '', 0));
    headers.host = options.preserveHost === true && req.headers.host ? req.headers.host : target.host;
    if (plan.credential === 'server' && options.serverAuthorization) headers.authorization = options.serverAuthorization;
    headers['x-request-id'] = scope.id;
    if (buffered) delete headers['accept-encoding'];
    const forwardBody = plan.body;
    if (forwardBody) {
      delete headers['content-encoding'];
      if (dialect === 'graphql') headers['content-type'] = 'application/json';
      headers['content-length'] = String(forwardBody.length);
    } else {
      delete headers['content-length'];
      delete headers['content-encoding'];
    }
    const upstream = (scope.upstream = { startedAt: performance.now() } as NonNullable<typeof scope.upstream>);
    // A client that goes away takes its upstream request with it. undici takes an emitter of
    // 'abort' as a signal: an AbortController per request cost 5 % of the proxy's CPU.
    const abort = new EventEmitter();
    let aborted = false;
    res.once('close', () => {
      if (res.writableFinished) return;
      aborted = true;
      abort.emit('abort');
    });
    const request: Dispatcher.RequestOptions = {
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      path: joinPath(basePath, plan.path),
      headers,
      body: forwardBody,
      signal: abort,
    };
    const failed = (err: Error & { code?: string }): void => {
      upstream.endedAt = performance.now();
      if (aborted) return;
      const timedOut = err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT';
      upstream.failure = timedOut ? 'timeout' : 'unreachable';
      logger.warn('upstream request failed', { requestId: scope.id, reason: timedOut ? 'timeout' : err.code ?? err.message });
      if (res.headersSent) return void res.destroy();
      sendError(res, timedOut
        ? new ProxyError('GATEWAY_TIMEOUT', 'the Prefect API did not answer in time')
        : new ProxyError('BAD_GATEWAY', 'the Prefect API is unreachable'), dialect);
    };

    if (buffered) {
      pool.request(request).then(async ({ statusCode, headers: answerHeaders, body }) => {
        const bytes = Buffer.from(await body.arrayBuffer());
        upstream.endedAt = performance.now();
        buffered(statusCode, answerHeaders as IncomingHttpHeaders, bytes, req, res);
      }).catch(failed);
      return;
    }
    pool.stream(request, ({ statusCode, headers: answerHeaders }) => {
      res.writeHead(statusCode, responseHeaders(answerHeaders as IncomingHttpHeaders));
      return res;
    }, (err) => {
      if (err) return failed(err);
      upstream.endedAt = performance.now();
    });
  };
}

const FORWARDED = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto']);

/**
 * The client's headers minus connection-level ones, those the Connection header names, and `dropped`.
 * X-Forwarded-For/-Port/-Proto are extended with this hop and X-Forwarded-Host kept or set from Host
 * when the client is a trusted proxy; from anyone else they are replaced, since the Prefect server
 * believes them when it trusts the proxy's address.
 */
export function outgoingHeaders(req: IncomingMessage, dropped: ReadonlySet<string>, trustedClient: boolean): Record<string, string | string[]> {
  const named = connectionTokens(req.headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined || dropped.has(name) || named?.has(name)) continue;
    if (!trustedClient && FORWARDED.has(name)) continue;
    if (name === 'cookie') {
      // The proxy's own cookies (sign-in session, attempts) never reach Prefect; others pass as sent.
      const kept = stripProxyCookies(Array.isArray(value) ? value.join('; ') : value);
      if (kept !== undefined) out[name] = kept;
      continue;
    }
    out[name] = value;
  }
  const hostHeader = req.headers.host ?? '';
  const encrypted = Boolean((req.socket as { encrypted?: boolean }).encrypted);
  const portMatch = /:(\d+)$/.exec(hostHeader);
  appendForwarded(out, 'x-forwarded-for', req.socket.remoteAddress ?? '');
  appendForwarded(out, 'x-forwarded-port', portMatch ? portMatch[1] as string : encrypted ? '443' : '80');
  appendForwarded(out, 'x-forwarded-proto', encrypted ? 'https' : 'http');
  if (!out['x-forwarded-host']) out['x-forwarded-host'] = hostHeader;
  return out;
}

function appendForwarded(headers: Record<string, string | string[]>, name: string, value: string): void {
  const existing = headers[name];
  headers[name] = existing ? `${String(existing)},${value}` : value;
}

function connectionTokens(connection: string | undefined): Set<string> | undefined {
  if (!connection || /^\s*(keep-alive|close)\s*$/i.test(connection)) return undefined;
  const tokens = connection.toLowerCase().split(',').map((t) => t.trim()).filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

function responseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = connectionTokens(typeof headers.connection === 'string' ? headers.connection : undefined);
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP_SET.has(name) || named?.has(name)) continue;
    out[name] = headers[name];
  }
  return out;
}

/** The target's base path joined to the request's path, repeated slashes collapsed; the query kept as sent. */
export function joinPath(base: string, url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return `${base}/${path}`.replace(/\/+/g, '/') + (q < 0 ? '' : url.slice(q));
}
