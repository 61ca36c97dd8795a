import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';

export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TOO_MANY_REQUESTS'
  | 'BAD_GATEWAY'
  | 'SERVICE_UNAVAILABLE'
  | 'GATEWAY_TIMEOUT'
  | 'INTERNAL_SERVER_ERROR';

const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
  INTERNAL_SERVER_ERROR: 500,
};

/** Every error a client can see. The message is shown to the client: never put a secret in it. */
export class ProxyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.code];
  }
}

/** The error formats of the clients: GraphQL `errors` or the JSON `detail` Prefect 2/3 and curl read. */
export type Dialect = 'graphql' | 'rest';

export function graphqlError(message: string, code: string): Record<string, unknown> {
  return { message, extensions: { code } };
}

export function errorBody(err: ProxyError, dialect: Dialect): unknown {
  return dialect === 'graphql' ? { errors: [graphqlError(err.message, err.code)] } : { detail: err.message };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/**
 * The Prefect 1 client shows only the HTTP reason phrase of a 4xx ("403 Client Error: Forbidden"),
 * so the reason travels there too, reduced to the printable ASCII a status line allows.
 */
function reasonPhrase(err: ProxyError): string {
  const detail = err.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return `${STATUS_TEXT[err.status] ?? 'Error'} (${detail})`;
}

export function sendError(res: ServerResponse, err: ProxyError, dialect: Dialect): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusMessage = reasonPhrase(err);
  sendJson(res, err.status, errorBody(err, dialect), err.headers);
}

/** A JSON answer written by the proxy itself, as Express's `res.json` would write it. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', payload.length);
  res.end(payload);
}

/** Maps body-parser failures (they carry `type` and `status`) to client errors. */
export function fromBodyParserError(err: unknown): ProxyError | undefined {
  const e = err as { type?: string; status?: number };
  switch (e?.type) {
    case 'entity.too.large':
      return new ProxyError('PAYLOAD_TOO_LARGE', 'request body is too large');
    case 'entity.parse.failed':
      return new ProxyError('BAD_REQUEST', 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ProxyError('UNSUPPORTED_MEDIA_TYPE', 'request body encoding is not supported: send plain UTF-8 JSON');
    case 'request.aborted':
    case 'request.size.invalid':
      return new ProxyError('BAD_REQUEST', 'request body was incomplete');
    default:
      return e?.status && e.status >= 400 && e.status < 500
        ? new ProxyError('BAD_REQUEST', 'request body could not be read')
        : undefined;
  }
}

/** The last handler of a router that parses bodies: body-parser failures become client errors in the dialect. */
export function bodyErrorHandler(dialect: Dialect): ErrorRequestHandler {
  return (err, _req, res, next) => {
    const mapped = fromBodyParserError(err);
    if (mapped) return sendError(res, mapped, dialect);
    next(err);
  };
}
