import type { ServerResponse } from 'node:http';

export interface PageOptions {
  readonly headers?: Readonly<Record<string, string | string[]>>;
  /** Origins a form of the page may end up at: browsers apply `form-action` to redirects too. */
  readonly formTargets?: readonly string[];
  /** Lets the page's one inline script run; nothing else may. */
  readonly scriptNonce?: string;
}

/** One of the proxy's own pages: never cached, nothing loaded from elsewhere, never framed. */
export function sendPage(res: ServerResponse, status: number, body: string, options: PageOptions = {}): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  const formAction = ["'self'", ...(options.formTargets ?? [])].join(' ');
  const script = options.scriptNonce ? `; script-src 'nonce-${options.scriptNonce}'` : '';
  res.setHeader('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'${script}`);
  res.end(body);
}

export function sendRedirect(res: ServerResponse, location: string, cookie?: string | string[]): void {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.setHeader('Cache-Control', 'no-store');
  if (cookie) res.setHeader('Set-Cookie', cookie);
  res.end();
}
