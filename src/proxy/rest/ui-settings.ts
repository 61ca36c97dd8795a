import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { TrustFunction } from '../../http';
import { clientOrigin, sendJson } from '../../http';

const NOT_COPIED = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive', 'etag']);

/**
 * Rewrites the server's `/ui-settings` so the stock web UI asks for a key on its own login page
 * (`auth: "BASIC"`; `null` with sign-in on, where the session cookie authenticates the UI) and
 * sends its API calls to the proxy, whatever the server was told.
 */
export function rewriteUiSettings(publicUrl: URL | undefined, apiPrefix: string, trust: TrustFunction, auth: 'BASIC' | null = 'BASIC') {
  return (status: number, headers: IncomingHttpHeaders, body: Buffer, req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !NOT_COPIED.has(name)) res.setHeader(name, value);
    }
    let settings: unknown;
    try {
      settings = JSON.parse(body.toString('utf8'));
    } catch {
      settings = undefined;
    }
    if (status !== 200 || !settings || typeof settings !== 'object') {
      res.statusCode = status;
      res.end(body);
      return;
    }
    const base = publicUrl ? publicUrl.href.replace(/\/$/, '') : clientOrigin(req, trust);
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 200, { ...(settings as Record<string, unknown>), auth, api_url: `${base}${apiPrefix}` });
  };
}
