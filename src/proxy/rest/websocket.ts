import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { AuditSink, AuthFailureRecorder } from '../../audit';
import { AUDIT_OUTCOMES, outcomeOfClose } from '../../audit';
import type { Permission } from '../../authz';
import { formatPermission, isAllowed } from '../../authz';
import { classifyWebsocket, normalizePath } from '../../authz/rest';
import type { AppContext } from '../../app-context';
import type { Config } from '../../config';
import type { KeyResolver, Principal } from '../../keys';
import { readCredential } from '../../keys';
import type { Identified, IdentityRefusal, RateGuard, RequestOrigin } from '../../http';
import { createIdentifier, guardEmitter, readOrigin, refuseUpgrade } from '../../http';
import type { Logger } from '../../log';
import type { ProxyMetrics } from '../../metrics';

export interface WebsocketDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  readonly audit: AuditSink;
  readonly context: AppContext;
  readonly rate?: RateGuard;
  readonly metrics?: ProxyMetrics;
  readonly authFailures?: AuthFailureRecorder;
}

const AUTH_TIMEOUT_MS = 10_000;
const POLICY = 1008;
/** "Try Again Later": the key's rate limit refused the connection. */
const TRY_AGAIN_LATER = 1013;
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);

class Refusal extends Error {
  constructor(readonly code: number, reason: string, readonly authentication = false) {
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
  const prefix = deps.context.apiPrefixSegments;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.bodyLimitBytes,
    handleProtocols: (protocols) => (protocols.has('prefect') ? 'prefect' : false),
  });
  guardEmitter(wss, 'websocket server', logger);
  const sockets = new Set<WebSocket>();
  const { trust } = deps.context;
  const identify = createIdentifier({
    resolver: deps.resolver, logger, allowPublic: config.allowPublicAccess,
    ...(deps.rate ? { rate: deps.rate } : {}), ...(deps.authFailures ? { failures: deps.authFailures } : {}),
  });
  const origins = new WeakMap<IncomingMessage, RequestOrigin>();
  // The handshake answer carries the request id, as every HTTP answer does.
  wss.on('headers', (headers, req) => {
    const origin = origins.get(req);
    if (origin) headers.push(`X-Request-Id: ${origin.id}`);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    guardEmitter(socket, 'upgrade socket', logger);
    try {
      upgrade(req, socket, head);
    } catch (err) {
      logger.error('websocket upgrade failed', { error: err instanceof Error ? err : String(err) });
      socket.destroy();
    }
  });

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const normalized = normalizePath(req.url ?? '');
    // As for HTTP: the prefix is matched without regard to case.
    const underApi = normalized.ok && prefix.every((p, i) => normalized.segments[i]?.toLowerCase() === p.toLowerCase());
    const route = normalized.ok && underApi ? classifyWebsocket(normalized.segments.slice(prefix.length)) : undefined;
    if (!normalized.ok || !route || (req.headers.host ?? '').toLowerCase().includes('ephemeral-prefect')) {
      refuseUpgrade(socket, '404 Not Found');
      return;
    }
    const origin = readOrigin(req, trust);
    origins.set(req, origin);
    wss.handleUpgrade(req, socket, head, (client) => {
      guardEmitter(client, 'websocket client', logger);
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      session(client, req, origin, normalized.path + normalized.query, route).catch((err: unknown) => {
        logger.error('websocket session failed', { error: err instanceof Error ? err : String(err) });
        client.terminate();
      });
    });
  }

  async function session(
    client: WebSocket, req: IncomingMessage, origin: RequestOrigin, path: string, route: { permission: Permission; route: string },
  ): Promise<void> {
    const { id: requestId, startedAt: started, client: clientAddress } = origin;
    const pending: Array<[WebSocket.RawData, boolean]> = [];
    const overflow = { hit: false };
    let principal: Principal | null = null;
    const audit = (status: number) => deps.audit.record({
      outcome: AUDIT_OUTCOMES[outcomeOfClose(status)], dialect: 'rest', operationType: 'WEBSOCKET', operationName: route.route, fields: [path.split('?')[0] ?? path],
      permissions: [formatPermission(route.permission)], time: new Date(), requestId, user: principal?.userId ?? null,
      keyId: principal?.keyId ?? null, client: clientAddress, status, latencyMs: performance.now() - started,
    });
    try {
      const handshake = client.protocol === 'prefect';
      const token = await holdMessages(client, pending, config.bodyLimitBytes, overflow, handshake);
      const identified = await identifySocket(req, token, origin, route.route);
      if (!identified.ok) {
        principal = identified.refusal.principal ?? null;
        throw closeRefusal(identified.refusal);
      }
      principal = identified.principal;
      if (principal && !isAllowed(principal.scopes, route.permission)) {
        throw new Refusal(POLICY, `Forbidden: API key of user ${principal.userId} lacks permission: ${formatPermission(route.permission)}`);
      }
      const upstream = await openUpstream(path, client);
      audit(101);
      deps.metrics?.websocketOpened();
      client.once('close', () => deps.metrics?.websocketClosed());
      if (handshake) client.send(JSON.stringify({ type: 'auth_success' }));
      relay(client, upstream, pending);
    } catch (err) {
      const refusal = overflow.hit ? new Refusal(1009, 'too much sent before the Prefect server answered')
        : err instanceof Refusal ? err : new Refusal(1011, 'proxy error');
      if (!(err instanceof Refusal)) logger.error('websocket session failed', { requestId, error: err instanceof Error ? err : String(err) });
      // Refused credentials are counted per source by the failure recorder, like HTTP 401s.
      if (!refusal.authentication) audit(refusal.code);
      // A refused peer may keep sending until the close handshake ends: nothing it sends is kept.
      client.removeAllListeners('message');
      if (client.readyState === WebSocket.OPEN) client.close(refusal.code, refusal.message.slice(0, 120));
    }
  }

  /** The same identity steps as HTTP requests: credential → principal → rate limit. */
  function identifySocket(req: IncomingMessage, token: string | null | undefined, origin: RequestOrigin, routeLabel: string): Promise<Identified> {
    const fromHeader = readCredential(req.headers);
    const credential = fromHeader.kind === 'key' || token === undefined || token === null || token === ''
      ? fromHeader
      : readCredential({ authorization: `Bearer ${token}` });
    return identify(credential, {
      requestId: origin.id, client: origin.client, route: routeLabel, dialect: 'rest', metricsDialect: 'websocket',
    });
  }

  /**
   * The upstream socket, authenticated with the server's credential and past its `auth_success`.
   * Closed again if the client goes away first: Prefect answers pings, so nothing else would end it.
   */
  function openUpstream(path: string, client: WebSocket): Promise<WebSocket> {
    const url = new URL(config.apiServiceUrl.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = url.pathname.replace(/\/$/, '') + path.split('?')[0];
    url.search = path.includes('?') ? path.slice(path.indexOf('?')) : '';
    const headers: Record<string, string> = {};
    if (deps.context.serverAuthorization !== undefined) headers.authorization = deps.context.serverAuthorization;
    return new Promise((resolve, reject) => {
      if (client.readyState !== WebSocket.OPEN) return reject(new Refusal(1000, 'client went away'));
      const upstream = new WebSocket(url, ['prefect'], { headers, perMessageDeflate: false, handshakeTimeout: config.upstreamTimeoutMs });
      guardEmitter(upstream, 'websocket upstream', logger);
      const settle = (): void => {
        clearTimeout(timer);
        upstream.off('error', unreachable);
        upstream.off('close', refused);
        client.off('close', clientGone);
        client.off('error', clientFailed);
      };
      const fail = (code: number, reason: string) => {
        settle();
        upstream.terminate();
        reject(new Refusal(code, reason));
      };
      const unreachable = () => fail(1011, 'the Prefect server is unreachable');
      const refused = () => fail(1011, 'the Prefect server refused the connection');
      const clientGone = () => fail(1000, 'client went away');
      const clientFailed = (err: Error) => fail(closeCodeOf(err), 'malformed frame');
      const timer = setTimeout(() => fail(1011, 'the Prefect server did not answer'), config.upstreamTimeoutMs);
      upstream.once('error', unreachable);
      upstream.once('close', refused);
      client.once('close', clientGone);
      client.once('error', clientFailed);
      upstream.once('open', () => upstream.send(JSON.stringify({ type: 'auth', token: config.upstreamAuthString ?? null })));
      upstream.once('message', (data) => {
        let message: { type?: unknown } | undefined;
        try {
          message = JSON.parse(data.toString()) as { type?: unknown };
        } catch {
          message = undefined;
        }
        if (message?.type !== 'auth_success') return fail(1011, 'the Prefect server refused the proxy\'s credential');
        settle();
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

/** A refused identity as a close code; the reasons for bad credentials are those Prefect's own server uses. */
function closeRefusal(refusal: IdentityRefusal): Refusal {
  if (refusal.code === 'UNAUTHENTICATED') return new Refusal(POLICY, refusal.presented ? 'Invalid token' : 'Auth required but no token provided', true);
  if (refusal.code === 'TOO_MANY_REQUESTS') return new Refusal(TRY_AGAIN_LATER, refusal.message);
  return new Refusal(1011, refusal.message);
}

/** What ws closed a client with for a frame it could not accept (RFC 6455, 7.4.1). */
function closeCodeOf(err: Error): number {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  if (code.startsWith('WS_ERR_UNSUPPORTED_')) return 1009;
  return 1002;
}

/**
 * Keeps what the client sends until the upstream socket is open (at most `limitBytes`; beyond that
 * the client is closed with 1009). With Prefect's handshake the first message must be
 * `{"type":"auth","token":...}` and its token is returned; without it, a credential came on the
 * upgrade request and nothing is awaited.
 */
function holdMessages(
  client: WebSocket, pending: Array<[WebSocket.RawData, boolean]>, limitBytes: number, overflow: { hit: boolean }, expectAuth: boolean,
): Promise<string | null | undefined> {
  return new Promise((resolve, reject) => {
    const timer = expectAuth ? setTimeout(() => reject(new Refusal(POLICY, "Expected 'auth' message")), AUTH_TIMEOUT_MS) : undefined;
    if (!expectAuth) resolve(undefined);
    // ws has already answered a malformed frame with its close code; the session ends here, not at the close handshake's end.
    client.once('error', (err) => {
      clearTimeout(timer);
      reject(new Refusal(closeCodeOf(err), 'malformed frame'));
    });
    let first = expectAuth;
    let pendingBytes = 0;
    client.on('message', (data, isBinary) => {
      if (!first) {
        pendingBytes += rawLength(data);
        if (pendingBytes > limitBytes) {
          overflow.hit = true;
          pending.length = 0;
          client.removeAllListeners('message');
          client.close(1009, 'too much sent before the Prefect server answered');
          return;
        }
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
    client.once('close', () => {
      clearTimeout(timer);
      reject(new Refusal(1000, 'client went away'));
    });
  });
}

function rawLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
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
