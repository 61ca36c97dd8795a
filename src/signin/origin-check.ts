/** The request facts the check needs, as Node gives them (header names lower-case). */
export interface OriginCheckInput {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export type OriginVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ALLOWED: OriginVerdict = Object.freeze({ allowed: true });

/**
 * Whether a request authenticated by the session cookie may go on: the defence against cross-site
 * request forgery and cross-site websocket hijacking, since a browser attaches the cookie to
 * requests other sites make it send.
 *
 * - GET, HEAD and OPTIONS change nothing (Prefect's read-only POSTs are POSTs), yet a same-site page
 *   (another port of the same host, a sibling subdomain) gets the cookie attached to what it fetches
 *   or frames. So only a top-level navigation may come from elsewhere (a link in a chat must work);
 *   a fetch, an image, a script or a frame from another origin is refused before Prefect sees it.
 * - Every other method needs `Origin` exactly equal to `publicOrigin` (`new URL(PUBLIC_URL).origin`:
 *   scheme, host and port, as browsers write it, no trailing slash); when the browser sent no
 *   Origin, `Sec-Fetch-Site: same-origin`. `Origin: null` (sandboxed frames, some redirects) never passes.
 * - A websocket upgrade is a GET, yet needs the exact Origin: browsers open cross-site sockets
 *   with cookies and no preflight, and always send Origin on them.
 *
 * Requests authenticated by a key never come here: a key is not sent by the browser on its own.
 */
export function checkOrigin(request: OriginCheckInput, publicOrigin: string): OriginVerdict {
  const origin = single(request.headers.origin);
  const upgrade = single(request.headers.upgrade);
  if (upgrade !== undefined) {
    if (origin === undefined) return refuse('a websocket opened with the session cookie must send Origin');
    return origin === publicOrigin ? ALLOWED : refuse(`websocket from another origin (${describe(origin)}) refused: only ${publicOrigin} may use the session`);
  }
  if (SAFE_METHODS.has(request.method.toUpperCase())) return checkSafe(request, origin, publicOrigin);
  if (origin !== undefined) {
    if (origin === publicOrigin) return ALLOWED;
    if (origin === 'null') return refuse(`${request.method} with the session cookie from an opaque origin (Origin: null) refused`);
    return refuse(`${request.method} with the session cookie from another origin (${describe(origin)}) refused: only ${publicOrigin} may send it`);
  }
  const site = single(request.headers['sec-fetch-site']);
  if (site === 'same-origin') return ALLOWED;
  if (site !== undefined) return refuse(`${request.method} with the session cookie from a ${describe(site)} request (Sec-Fetch-Site) refused: only same-origin requests may send it`);
  return refuse(`${request.method} with the session cookie needs an Origin or Sec-Fetch-Site header from the browser; use an API key for scripts`);
}

const FRAME_DESTINATIONS = new Set(['iframe', 'frame', 'embed', 'object', 'fencedframe']);

/** Fetch metadata (`Sec-Fetch-*`) tells a link from a subresource; browsers without it send neither. */
function checkSafe(request: OriginCheckInput, origin: string | undefined, publicOrigin: string): OriginVerdict {
  const site = single(request.headers['sec-fetch-site']);
  const mode = single(request.headers['sec-fetch-mode']);
  const dest = single(request.headers['sec-fetch-dest']);
  const foreignSite = site === 'same-site' || site === 'cross-site';
  if (mode === 'navigate' && !FRAME_DESTINATIONS.has(dest ?? '')) return ALLOWED;
  if (foreignSite && FRAME_DESTINATIONS.has(dest ?? '')) {
    return refuse(`a page of another origin may not frame this one with the session cookie (Sec-Fetch-Site ${describe(site ?? '')}, Sec-Fetch-Dest ${describe(dest ?? '')})`);
  }
  if (origin !== undefined && origin !== publicOrigin) {
    return refuse(`${request.method} with the session cookie from another origin (${describe(origin)}) refused: only ${publicOrigin} may send it`);
  }
  if (foreignSite) {
    return refuse(`${request.method} with the session cookie from a ${describe(site ?? '')} ${describe(mode ?? 'no-mode')} request (Sec-Fetch-Site) refused: only pages of ${publicOrigin} may make it`);
  }
  return ALLOWED;
}

/** A header sent twice is refused like a mismatch: Node joins repeats, and no browser repeats these. */
function single(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/** The header's value quoted for the reason, control characters escaped and length bounded. */
function describe(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value);
}

function refuse(reason: string): OriginVerdict {
  return { allowed: false, reason };
}
