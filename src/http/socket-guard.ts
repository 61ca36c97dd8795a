import type { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log';

/**
 * The one place that gives sockets, streams and emitters on a request's path their 'error'
 * listener. Node throws an 'error' event nobody listens to, and that ends the process: a client
 * that resets mid-answer or sends one malformed websocket frame must never be able to do that.
 * Every guarded emitter keeps its own error handling (ws closes with 1002/1007/1009, streams destroy
 * themselves); the guard only makes sure an error is never unheard.
 */

const guarded = new WeakSet<EventEmitter>();

/** Errors of the connection itself: the socket's own guard has reported them already. */
const NETWORK = /^(ECONNRESET|EPIPE|ECONNABORTED|ETIMEDOUT)$/;
/** What a client can cause by itself: reported at debug level, so a flood of them is not a flood of warnings. */
const CLIENT_CAUSED = /^(ECONNRESET|EPIPE|ECONNABORTED|ETIMEDOUT|ERR_STREAM_PREMATURE_CLOSE|ERR_STREAM_DESTROYED|ERR_HTTP_REQUEST_TIMEOUT|HPE_.*|WS_ERR_.*)$/;

/** Gives `emitter` its 'error' listener, once, whatever else listens or stops listening later. */
export function guardEmitter(emitter: EventEmitter, what: string, logger: Logger): void {
  if (guarded.has(emitter)) return;
  guarded.add(emitter);
  emitter.on('error', (err: unknown) => reportError(logger, what, err));
}

/** Node's own answers to a request it could not parse, kept because a 'clientError' listener replaces them. */
const CLIENT_ERROR_ANSWERS: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * Guards everything the HTTP server hands out: each connection as it is accepted (Node removes its
 * own listener from a socket before emitting 'upgrade'), each upgrade socket, each request and
 * response, and the listening server itself (accept errors such as EMFILE).
 */
export function guardServer(server: Server, logger: Logger): void {
  guardEmitter(server, 'http server', logger);
  server.prependListener('connection', (socket: Duplex) => guardEmitter(socket, 'client connection', logger));
  server.prependListener('upgrade', (_req, socket: Duplex) => guardEmitter(socket, 'upgrade socket', logger));
  server.prependListener('request', (req, res) => {
    guardEmitter(req, 'request', logger);
    guardEmitter(res, 'response', logger);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!NETWORK.test(err.code ?? '')) reportError(logger, 'client request', err);
    guardEmitter(socket, 'client connection', logger);
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      socket.write(`HTTP/1.1 ${CLIENT_ERROR_ANSWERS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy();
  });
}

/**
 * Refuses an upgrade with a status line and closes the connection once it is written, as ws does:
 * `end()` alone would leave the socket half-open for as long as the client keeps its side.
 */
export function refuseUpgrade(socket: Duplex, status: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function reportError(logger: Logger, what: string, err: unknown): void {
  const code = (err as { code?: unknown } | null)?.code;
  // Only the code and message: a parser error carries the raw bytes it choked on (headers, keys).
  const reason = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && CLIENT_CAUSED.test(code)) logger.debug(`${what}: ${code}`, { code, reason });
  else logger.warn(`${what}: unexpected error`, { code: typeof code === 'string' ? code : undefined, reason });
}
