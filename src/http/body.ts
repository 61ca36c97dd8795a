import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { fromBodyParserError, ProxyError } from './errors';

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
 * The whole body as sent, within `limitBytes`, never inflated: what is checked is what was sent.
 * Resolves to the client error to answer when it cannot be read.
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer | ProxyError> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return new ProxyError('UNSUPPORTED_MEDIA_TYPE', UNSUPPORTED_ENCODING);
  try {
    return await getRawBody(req, { limit: limitBytes, length: req.headers['content-length'] });
  } catch (err) {
    const mapped = fromBodyParserError(err);
    if (mapped) return mapped;
    throw err;
  }
}

/** A JSON body read and parsed; an empty body is `{}`, as body-parser made it. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const raw = await readBody(req, limitBytes);
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
