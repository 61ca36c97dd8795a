import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { AppContext } from '../../app-context';
import type { Config } from '../../config';
import { guardEmitter } from '../../http';
import type { Logger } from '../../log';

export interface WebsocketRelayDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly context: AppContext;
}

const AUTH_TIMEOUT_MS = 10_000;
/**
 * Largest frame a client may send before it is authenticated: room for the `auth` message and a
 * long token, not for BODY_LIMIT per connection from anyone who can open one.
 */
export const PRE_AUTH_MAX_PAYLOAD = 64 * 1024;
const POLICY = 1008;
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);

/** How a websocket session ends before relaying: the close code and reason the client gets. */
export class SocketClose extends Error {
  constructor(readonly code: number, reason: string) {
    super(reason);
  }
}

/** A completed upgrade: the client socket, and with Prefect's handshake the `auth` message's token. */
export interface AcceptedSocket {
  readonly client: WebSocket;
  /** undefined: no `auth` message was expected (a credential may be on the upgrade request). */
  readonly token: string | null | undefined;
  readonly pending: Array<[WebSocket.RawData, boolean]>;
  readonly overflow: { hit: boolean };
}

export type Accepted = AcceptedSocket | { readonly client: WebSocket; readonly failure: SocketClose };

export interface WebsocketRelay {
  /** Completes the upgrade and, with Prefect's handshake, waits for the client's `auth` message. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, requestId: string): Promise<Accepted>;
  /** Opens the upstream socket with the server's credential and relays frames both ways; throws SocketClose. */
  relay(accepted: AcceptedSocket, path: string): Promise<void>;
  /** Ends a session the proxy refused; nothing the client still sends is kept. */
  refuse(client: WebSocket, code: number, reason: string): void;
  /** Asks every client to go (1001: they reconnect elsewhere), waits up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * Prefect's websocket handshake and the frame relay; who may connect is decided by the pipeline's
 * websocket chain. Holds what the client sends until the upstream socket is open.
 */
export function createWebsocketRelay(deps: WebsocketRelayDeps): WebsocketRelay {
  const { config, logger } = deps;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.min(PRE_AUTH_MAX_PAYLOAD, config.bodyLimitBytes),
    handleProtocols: (protocols) => (protocols.has('prefect') ? 'prefect' : false),
  });
  guardEmitter(wss, 'websocket server', logger);
  const sockets = new Set<WebSocket>();
  const requestIds = new WeakMap<IncomingMessage, string>();
  // The handshake answer carries the request id, as every HTTP answer does.
  wss.on('headers', (headers, req) => {
    const id = requestIds.get(req);
    if (id) headers.push(`X-Request-Id: ${id}`);
  });

  return {
    accept(req, socket, head, requestId) {
      requestIds.set(req, requestId);
      return new Promise((resolve) => {
        wss.handleUpgrade(req, socket, head, (client) => {
          guardEmitter(client, 'websocket client', logger);
          sockets.add(client);
          client.once('close', () => sockets.delete(client));
          const pending: Array<[WebSocket.RawData, boolean]> = [];
          const overflow = { hit: false };
          holdMessages(client, pending, config.bodyLimitBytes, overflow, client.protocol === 'prefect').then(
            (token) => resolve({ client, token, pending, overflow }),
            (err: unknown) => resolve({ client, failure: err instanceof SocketClose ? err : new SocketClose(1011, 'proxy error') }),
          );
        });
      });
    },

    async relay(accepted, path) {
      allowFullFrames(accepted.client, config.bodyLimitBytes);
      let upstream: WebSocket;
      try {
        upstream = await openUpstream(path, accepted.client);
      } catch (err) {
        throw accepted.overflow.hit ? new SocketClose(1009, 'too much sent before the Prefect server answered') : err;
      }
      if (accepted.token !== undefined) accepted.client.send(JSON.stringify({ type: 'auth_success' }));
      relayFrames(accepted.client, upstream, accepted.pending);
    },

    refuse(client, code, reason) {
      client.removeAllListeners('message');
      if (client.readyState === WebSocket.OPEN) client.close(code, reason.slice(0, 120));
    },

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
      if (client.readyState !== WebSocket.OPEN) return reject(new SocketClose(1000, 'client went away'));
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
        reject(new SocketClose(code, reason));
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
}

/**
 * Once the pipeline has allowed a session, frames up to BODY_LIMIT. `ws` reads its limit from the
 * receiver for every frame; it has no public setter, and without this field frames stay at the
 * pre-authentication limit (too strict, never too loose).
 */
function allowFullFrames(client: WebSocket, limitBytes: number): void {
  const receiver = (client as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (receiver && typeof receiver._maxPayload === 'number') receiver._maxPayload = limitBytes;
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
    const timer = expectAuth ? setTimeout(() => reject(new SocketClose(POLICY, "Expected 'auth' message")), AUTH_TIMEOUT_MS) : undefined;
    if (!expectAuth) resolve(undefined);
    // ws has already answered a malformed frame with its close code; the session ends here, not at the close handshake's end.
    client.once('error', (err) => {
      clearTimeout(timer);
      reject(new SocketClose(closeCodeOf(err), 'malformed frame'));
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
      if (message?.type !== 'auth') return reject(new SocketClose(POLICY, "Expected 'auth' message"));
      resolve(typeof message.token === 'string' ? message.token : null);
    });
    client.once('close', () => {
      clearTimeout(timer);
      reject(new SocketClose(1000, 'client went away'));
    });
  });
}

function rawLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function relayFrames(client: WebSocket, upstream: WebSocket, pending: Array<[WebSocket.RawData, boolean]>): void {
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
