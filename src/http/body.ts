import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { fromBodyParserError, ProxyError } from './errors';

/** nginx's lingering_time is 30 s; the byte bound keeps a fast sender from using it as a sink. */
const LINGER_MS = 30_000;
const LINGER_BYTES = 256 * 1024 * 1024;
const UNSUPPORTED_ENCODING = 'request body encoding is not supported: send plain UTF-8 JSON';

/** As type-is defines it: a body follows when the request says how long it is or that it is chunked. */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/** True for `application/json` with no charset or UTF-8; anything else the proxy does not parse. */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const [media, ...params] = header.split(';');
  if ((media as string).trim().toLowerCase() !== 'application/json') return false;
  for (const param of params) {
    const [name, value = ''] = param.split('=');
    if (name?.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') return false;
  }
  return true;
}

/**
 * The whole body as sent, within `limitBytes` and `timeoutMs`, never inflated: what is checked is
 * what was sent. Resolves to the client error to answer when it cannot be read.
 */
export async function readBody(req: IncomingMessage, limitBytes: number, timeoutMs?: number): Promise<Buffer | ProxyError> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return new ProxyError('UNSUPPORTED_MEDIA_TYPE', UNSUPPORTED_ENCODING);
  const reading = getRawBody(req, { limit: limitBytes, length: req.headers['content-length'] }).catch((err: unknown) => {
    const mapped = fromBodyParserError(err);
    if (mapped) return mapped;
    throw err;
  });
  if (timeoutMs === undefined) return reading;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ProxyError>((resolve) => {
    timer = setTimeout(() => resolve(new ProxyError('REQUEST_TIMEOUT',
      `the request body did not arrive within ${Math.round(timeoutMs / 100) / 10} s`, { Connection: 'close' })), timeoutMs);
  });
  try {
    // The losing read settles when the connection closes; race() has already handled its outcome.
    return await Promise.race([reading, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * After an answer sent before the client finished its body (413, 401, 403, 408...): keep reading
 * and discarding for a while, as nginx's lingering close does. Closing at once would reset the
 * connection under a client still writing, which then reports a connection error, not the answer.
 */
export function discardUnreadBody(req: IncomingMessage, maxBytes = LINGER_BYTES, maxMs = LINGER_MS): void {
  if (req.complete || req.destroyed || req.socket.destroyed) return;
  let seen = 0;
  const timer = setTimeout(() => req.socket.destroy(), maxMs);
  timer.unref();
  const done = (): void => clearTimeout(timer);
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > maxBytes) req.socket.destroy();
  });
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

/** A JSON body read and parsed; an empty body is `{}`, as body-parser made it. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number, timeoutMs?: number): Promise<unknown> {
  const raw = await readBody(req, limitBytes, timeoutMs);
  if (raw instanceof ProxyError) return raw;
  const bom = raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  const text = raw.toString('utf8', bom);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return new ProxyError('BAD_REQUEST', 'request body is not valid JSON');
  }
}
