import { Pool } from 'undici';

/** Why a lookup could not be answered: the request is refused (503), never decided without it. */
export class LookupFailedError extends Error {
  constructor(readonly what: string, readonly reason: string) {
    super(`could not look up ${what}: ${reason}`);
  }
}

export const LOOKUP_USER_AGENT = 'prefect-auth-proxy object lookup';

/** GETs on the Prefect API with the server's own credential, for the object lookups. */
export interface PrefectReader {
  /** The parsed JSON answer, or undefined when the server does not know the object (404). Throws LookupFailedError. */
  get(path: string, what: string, requestId?: string): Promise<unknown>;
  close(): Promise<void>;
}

export interface PrefectReaderOptions {
  /** API_SERVICE_URL. */
  readonly target: URL;
  /** The API mount below it (`/api`). */
  readonly apiPrefix: string;
  /** The server's credential (`Basic ...` of UPSTREAM_AUTH_STRING), never a caller's. */
  readonly authorization: string | undefined;
  /** Each call's whole time, connecting included. */
  readonly timeoutMs: number;
}

/**
 * A pool of its own, so that lookups never wait behind forwarded requests (long polls, large
 * downloads) for a connection. Idle connections do not keep the process alive (undici unrefs them).
 */
export function createPrefectReader(options: PrefectReaderOptions): PrefectReader {
  const pool = new Pool(options.target.origin, { connections: 32, keepAliveTimeout: 4000 });
  const base = `${options.target.pathname}/${options.apiPrefix}`.replace(/\/+/g, '/').replace(/\/$/, '');

  return {
    async get(path, what, requestId) {
      // The user agent tells these calls apart in the server's logs from the requests the proxy forwards.
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': LOOKUP_USER_AGENT };
      if (options.authorization !== undefined) headers.authorization = options.authorization;
      if (requestId !== undefined) headers['x-request-id'] = requestId;
      let answer;
      try {
        answer = await pool.request({ method: 'GET', path: `${base}${path}`, headers, signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (err) {
        throw new LookupFailedError(what, isTimeout(err) ? 'the Prefect API did not answer in time' : 'the Prefect API is unreachable');
      }
      const { statusCode, body } = answer;
      try {
        if (statusCode === 404) {
          await body.dump();
          return undefined;
        }
        if (statusCode !== 200) {
          await body.dump();
          throw new LookupFailedError(what, `the Prefect API answered ${statusCode}`);
        }
        return await body.json();
      } catch (err) {
        if (err instanceof LookupFailedError) throw err;
        throw new LookupFailedError(what, isTimeout(err) ? 'the Prefect API did not answer in time' : 'the Prefect API sent an answer that cannot be read');
      }
    },
    close: () => pool.close(),
  };
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null;
  return e?.name === 'TimeoutError' || (typeof e?.code === 'string' && e.code.includes('TIMEOUT'));
}
