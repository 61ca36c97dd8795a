import http from 'node:http';
import https from 'node:https';
import type { Request, RequestHandler, Response } from 'express';
import type { Plugin } from 'http-proxy-middleware';
import { createProxyMiddleware, proxyEventsPlugin } from 'http-proxy-middleware';
import type { Dialect } from '../http/errors';
import { ProxyError, sendError } from '../http/errors';
import { scopeOf } from '../http/request-scope';
import type { Logger } from '../log';

/** Client headers the upstream must never see: the caller's key, and provenance it could spoof. */
export const STRIPPED_REQUEST_HEADERS = ['authorization', 'x-prefect-user-id', 'proxy-authorization'];

export interface UpstreamOptions {
  readonly target: URL;
  readonly timeoutMs: number;
  readonly dialect: Dialect;
  readonly logger: Logger;
  /** Buffer the upstream's answer and pass it here instead of streaming it to the client. */
  readonly onBufferedResponse?: (status: number, headers: http.IncomingHttpHeaders, body: Buffer, req: Request, res: Response) => void;
  /** Keep the client's Host: Prefect 3 builds links and redirects from it. */
  readonly preserveHost?: boolean;
  /** Client headers removed besides the credentials. */
  readonly stripHeaders?: readonly string[];
  /** The Authorization the upstream gets in place of the client's (Prefect 3 server auth string). */
  readonly upstreamAuthorization?: string;
}

export interface Upstream {
  readonly handler: RequestHandler;
  close(): void;
}

const TIMED_OUT = new WeakSet<Request>();

/**
 * The one place requests leave the proxy. Connections are kept alive and reused: opening one per
 * request would dominate the proxy's cost on small UI polls.
 */
export function createUpstream(options: UpstreamOptions): Upstream {
  const { target, timeoutMs, dialect, logger } = options;
  const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, timeout: 4000 };
  const agent = target.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const buffered = options.onBufferedResponse;
  const stripped = [...STRIPPED_REQUEST_HEADERS, ...(options.stripHeaders ?? [])];

  const proxy = createProxyMiddleware<Request, Response>({
    target: target.href,
    changeOrigin: options.preserveHost !== true,
    agent,
    xfwd: true,
    selfHandleResponse: buffered !== undefined,
    ejectPlugins: true,
    plugins: [proxyEventsPlugin as unknown as Plugin<Request, Response>],
    on: {
      proxyReq(proxyReq, req) {
        const scope = scopeOf(req);
        scope.upstream = { startedAt: performance.now() };
        for (const name of stripped) proxyReq.removeHeader(name);
        if (options.upstreamAuthorization) proxyReq.setHeader('authorization', options.upstreamAuthorization);
        proxyReq.setHeader('x-request-id', scope.id);
        if (buffered) proxyReq.removeHeader('accept-encoding');
        const body = scope.forwardBody;
        if (body) {
          proxyReq.removeHeader('transfer-encoding');
          proxyReq.removeHeader('content-encoding');
          if (dialect === 'graphql') proxyReq.setHeader('content-type', 'application/json');
          proxyReq.setHeader('content-length', body.length);
          proxyReq.write(body);
        }
        proxyReq.setTimeout(timeoutMs, () => {
          TIMED_OUT.add(req);
          proxyReq.destroy(new Error('upstream timed out'));
        });
      },
      proxyRes(proxyRes, req, res) {
        const upstream = scopeOf(req).upstream;
        if (upstream) proxyRes.once('end', () => { upstream.endedAt = performance.now(); });
        if (!buffered) return;
        const chunks: Buffer[] = [];
        proxyRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        proxyRes.on('end', () => buffered(proxyRes.statusCode ?? 502, proxyRes.headers, Buffer.concat(chunks), req, res));
      },
      error(err, req, res) {
        const timedOut = TIMED_OUT.has(req);
        const upstream = scopeOf(req).upstream;
        if (upstream) upstream.failure = timedOut ? 'timeout' : 'unreachable';
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        logger.warn('upstream request failed', { requestId: scopeOf(req).id, reason: timedOut ? 'timeout' : code });
        if (!('status' in res)) return;
        sendError(res, timedOut
          ? new ProxyError('GATEWAY_TIMEOUT', 'the Prefect API did not answer in time')
          : new ProxyError('BAD_GATEWAY', 'the Prefect API is unreachable'), dialect);
      },
    },
  });
  return { handler: proxy, close: () => agent.destroy() };
}
