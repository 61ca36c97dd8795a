import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';

/** One websocket the proxy opened to the stand-in, as the stand-in saw it. */
export interface UpstreamSocket {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The auth message's token, once it arrived. */
  authToken: string | null | undefined;
  /** Messages relayed after the auth exchange. */
  readonly received: string[];
  /** The stand-in's side of the connection closed (by the proxy, or by a reset). */
  closed: boolean;
}

export interface WebsocketUpstream {
  /** An `http://` URL for API_SERVICE_URL: plain HTTP requests get 404, upgrades are Prefect streams. */
  readonly url: string;
  readonly sockets: UpstreamSocket[];
  /** Leaves auth messages unanswered until `release()`: the proxy then waits while its client may leave. */
  hold(): void;
  /** Answers every held auth message (on sockets still open) and stops holding. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A stand-in for Prefect's websocket endpoints that records every socket the proxy opens: the auth
 * message with `token` gets `auth_success` (any other token: close 1008), later messages are
 * recorded and echoed.
 */
export async function startWebsocketUpstream(token: string | null): Promise<WebsocketUpstream> {
  const sockets: UpstreamSocket[] = [];
  const held: WebSocket[] = [];
  let holding = false;
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('prefect') ? 'prefect' : false) });
  wss.on('connection', (socket, req) => {
    const record: UpstreamSocket = { path: req.url ?? '', headers: req.headers, authToken: undefined, received: [], closed: false };
    sockets.push(record);
    socket.on('error', () => undefined);
    socket.on('close', () => (record.closed = true));
    socket.on('message', (data) => {
      const text = data.toString();
      if (record.authToken !== undefined) {
        record.received.push(text);
        socket.send(`echo:${text}`);
        return;
      }
      const message = JSON.parse(text) as { type?: string; token?: string | null };
      record.authToken = message.token ?? null;
      if (message.type !== 'auth' || message.token !== token) return socket.close(1008, 'Invalid token');
      if (holding) held.push(socket);
      else socket.send(JSON.stringify({ type: 'auth_success' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sockets,
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const socket of held.splice(0)) socket.send(JSON.stringify({ type: 'auth_success' }));
    },
    close: () => new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
