import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { AuditSink } from '../../audit';
import type { Permission } from '../../authz';
import { formatPermission, isAllowed } from '../../authz';
import { classifyWebsocket, normalizePath } from '../../authz/rest';
import type { Config } from '../../config';
import type { KeyResolver, Principal } from '../../keys';
import { KeyStoreUnavailableError, readCredential } from '../../keys';
import type { RateGuard } from '../../http/authenticate';
import type { Logger } from '../../log';
import type { ProxyMetrics } from '../../metrics';
import { formatRateLimit } from '../../ratelimit';

export interface WebsocketDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  readonly audit: AuditSink;
  readonly apiPrefix: string;
  readonly rate?: RateGuard;
  readonly metrics?: ProxyMetrics;
}

const AUTH_TIMEOUT_MS = 10_000;
const POLICY = 1008;
/** "Try Again Later": the key's rate limit refused the connection. */
const TRY_AGAIN_LATER = 1013;
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);

class Refusal extends Error {
  constructor(readonly code: number, reason: string) {
    super(reason);
  }
}

/**
 * Terminates Prefect's websockets at the proxy: authenticates the client (first `auth` message or
 * a credential on the upgrade), checks the path's permission, then opens the upstream socket with
 * the server's own credential and relays frames both ways. Refusals close with 1008 and a reason.
 */
export function attachWebsockets(server: Server, deps: WebsocketDeps): { close(graceMs: number): Promise<void> } {
  const { config, logger } = deps;
  const prefix = deps.apiPrefix.split('/').filter(Boolean);
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.bodyLimitBytes,
    handleProtocols: (protocols) => (protocols.has('prefect') ? 'prefect' : false),
  });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const normalized = normalizePath(req.url ?? '');
    const underApi = normalized.ok && prefix.every((p, i) => normalized.segments[i] === p);
    const route = normalized.ok && underApi ? classifyWebsocket(normalized.segments.slice(prefix.length)) : undefined;
    if (!normalized.ok || !route || (req.headers.host ?? '').toLowerCase().includes('ephemeral-prefect')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (client) => {
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      void session(client, req, normalized.path + normalized.query, route);
    });
  });

  async function session(client: WebSocket, req: IncomingMessage, path: string, route: { permission: Permission; route: string }): Promise<void> {
    const requestId = randomUUID();
    const started = performance.now();
    const clientAddress = req.socket.remoteAddress ?? 'unknown';
    const pending: Array<[WebSocket.RawData, boolean]> = [];
    let principal: Principal | null = null;
    const audit = (outcome: 'ALLOWED' | 'BLOCKED', status: number) => deps.audit.record({
      outcome, dialect: 'rest', operationType: 'WEBSOCKET', operationName: route.route, fields: [path.split('?')[0] ?? path],
      permissions: [formatPermission(route.permission)], time: new Date(), requestId, user: principal?.userId ?? null,
      keyId: principal?.keyId ?? null, client: clientAddress, status, latencyMs: performance.now() - started,
    });
    try {
      const handshake = client.protocol === 'prefect';
      const token = handshake ? await readAuthMessage(client, pending) : undefined;
      principal = await authenticateSocket(req, token);
      if (principal && !isAllowed(principal.scopes, route.permission)) {
        throw new Refusal(POLICY, `Forbidden: API key of user ${principal.userId} lacks permission: ${formatPermission(route.permission)}`);
      }
      if (principal && principal.rateLimit && deps.rate) {
        const verdict = await deps.rate.limiter.take(principal.keyId, principal.rateLimit);
        if (!verdict.allowed) {
          deps.rate.onRateLimited?.('websocket');
          throw new Refusal(TRY_AGAIN_LATER, `API key of user ${principal.userId} exceeded its rate limit of ${formatRateLimit(principal.rateLimit)} requests/s; retry in ${verdict.retryAfterS} s`);
        }
      }
      const upstream = await openUpstream(path);
      audit('ALLOWED', 101);
      deps.metrics?.websocketOpened();
      client.once('close', () => deps.metrics?.websocketClosed());
      if (handshake) client.send(JSON.stringify({ type: 'auth_success' }));
      relay(client, upstream, pending);
    } catch (err) {
      const refusal = err instanceof Refusal ? err : new Refusal(1011, 'proxy error');
      if (!(err instanceof Refusal)) logger.error('websocket session failed', { requestId, error: err instanceof Error ? err : String(err) });
      audit('BLOCKED', refusal.code);
      if (client.readyState === WebSocket.OPEN) client.close(refusal.code, refusal.message.slice(0, 120));
    }
  }

  async function authenticateSocket(req: IncomingMessage, token: string | null | undefined): Promise<Principal | null> {
    const fromHeader = readCredential(req.headers);
    const credential = fromHeader.kind === 'key' || token === undefined || token === null || token === ''
      ? fromHeader
      : readCredential({ authorization: `Bearer ${token}` });
    if (credential.kind === 'none') {
      if (config.allowPublicAccess) return null;
      throw new Refusal(POLICY, 'Auth required but no token provided');
    }
    if (credential.kind === 'invalid') throw new Refusal(POLICY, 'Invalid token');
    try {
      const principal = await deps.resolver.resolve(credential.key);
      if (!principal) throw new Refusal(POLICY, 'Invalid token');
      return principal;
    } catch (err) {
      if (err instanceof KeyStoreUnavailableError) throw new Refusal(1011, 'the API key store is unavailable; try again shortly');
      throw err;
    }
  }

  /** The upstream socket, authenticated with the server's credential and past its `auth_success`. */
  function openUpstream(path: string): Promise<WebSocket> {
    const url = new URL(config.apiServiceUrl.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = url.pathname.replace(/\/$/, '') + path.split('?')[0];
    url.search = path.includes('?') ? path.slice(path.indexOf('?')) : '';
    const headers: Record<string, string> = {};
    if (config.upstreamAuthString !== undefined) {
      headers.authorization = `Basic ${Buffer.from(config.upstreamAuthString, 'utf8').toString('base64')}`;
    }
    return new Promise((resolve, reject) => {
      const upstream = new WebSocket(url, ['prefect'], { headers, perMessageDeflate: false, handshakeTimeout: config.upstreamTimeoutMs });
      const fail = (reason: string) => {
        upstream.terminate();
        reject(new Refusal(1011, reason));
      };
      const timer = setTimeout(() => fail('the Prefect server did not answer'), config.upstreamTimeoutMs);
      upstream.once('error', () => fail('the Prefect server is unreachable'));
      upstream.once('close', () => fail('the Prefect server refused the connection'));
      upstream.once('open', () => upstream.send(JSON.stringify({ type: 'auth', token: config.upstreamAuthString ?? null })));
      upstream.once('message', (data) => {
        clearTimeout(timer);
        let message: { type?: unknown } | undefined;
        try {
          message = JSON.parse(data.toString()) as { type?: unknown };
        } catch {
          message = undefined;
        }
        if (message?.type !== 'auth_success') return fail('the Prefect server refused the proxy\'s credential');
        upstream.removeAllListeners('error');
        upstream.removeAllListeners('close');
        resolve(upstream);
      });
    });
  }

  return {
    /** Asks every client to go (1001: they reconnect elsewhere), waits up to `graceMs`, then cuts the rest. */
    async close(graceMs) {
      wss.close();
      const open = [...sockets];
      const gone = Promise.all(open.map((socket) => new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.once('close', () => resolve());
        socket.close(1001, 'proxy shutting down');
      })));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          for (const socket of open) socket.terminate();
          resolve();
        }, graceMs);
      });
      await Promise.race([gone, deadline]);
      clearTimeout(timer);
    },
  };
}

/** The first client message must be `{"type":"auth","token":...}`; messages after it wait in `pending`. */
function readAuthMessage(client: WebSocket, pending: Array<[WebSocket.RawData, boolean]>): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Refusal(POLICY, "Expected 'auth' message")), AUTH_TIMEOUT_MS);
    let first = true;
    client.on('message', (data, isBinary) => {
      if (!first) {
        pending.push([data, isBinary]);
        return;
      }
      first = false;
      clearTimeout(timer);
      let message: { type?: unknown; token?: unknown } | undefined;
      try {
        message = JSON.parse(data.toString()) as { type?: unknown; token?: unknown };
      } catch {
        message = undefined;
      }
      if (message?.type !== 'auth') return reject(new Refusal(POLICY, "Expected 'auth' message"));
      resolve(typeof message.token === 'string' ? message.token : null);
    });
    client.once('close', () => reject(new Refusal(1000, 'client went away')));
  });
}

function relay(client: WebSocket, upstream: WebSocket, pending: Array<[WebSocket.RawData, boolean]>): void {
  client.removeAllListeners('message');
  for (const [data, isBinary] of pending.splice(0)) upstream.send(data, { binary: isBinary });
  client.on('message', (data, isBinary) => upstream.readyState === WebSocket.OPEN && upstream.send(data, { binary: isBinary }));
  upstream.on('message', (data, isBinary) => client.readyState === WebSocket.OPEN && client.send(data, { binary: isBinary }));
  const closeOther = (other: WebSocket) => (code: number, reason: Buffer) => {
    if (other.readyState === WebSocket.OPEN || other.readyState === WebSocket.CONNECTING) {
      other.close(UNSENDABLE.has(code) ? 1000 : code, reason.toString().slice(0, 120));
    }
  };
  client.on('close', closeOther(upstream));
  upstream.on('close', closeOther(client));
  client.on('error', () => upstream.terminate());
  upstream.on('error', () => client.terminate());
}
