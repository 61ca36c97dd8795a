/** The proxy's own pages: plain server-rendered HTML, no script, nothing fetched from elsewhere. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:26rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:1rem 0 .3rem}
input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
button,.button{display:inline-block;margin-top:1rem;padding:.55rem 1.1rem;font:inherit;border:0;border-radius:6px;background:#2b59c3;color:#fff;text-decoration:none;cursor:pointer}
.error{background:#fdecea;color:#8a1c12;padding:.7rem;border-radius:6px}.muted{color:#5b6475;font-size:.9rem}hr{border:0;border-top:1px solid #e3e6eb;margin:1.5rem 0}`;

/**
 * A whole page around already-escaped body HTML. Referrer policy `same-origin`: nothing of the page's
 * address goes to other sites, and the page's own form posts still carry a real Origin (with
 * `no-referrer` Chromium sends `Origin: null`, which the origin check rightly refuses).
 */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

export interface LoginPage {
  readonly next: string;
  readonly withKey: boolean;
  readonly withProvider: boolean;
  readonly error?: string;
}

export function loginPage(options: LoginPage): string {
  const next = escapeHtml(options.next);
  const parts = ['<h1>Sign in to Prefect</h1>'];
  if (options.error) parts.push(`<p class="error" role="alert">${escapeHtml(options.error)}</p>`);
  if (options.withProvider) {
    parts.push(`<a class="button" href="/auth/oidc?next=${encodeURIComponent(options.next)}">Sign in with your identity provider</a>`);
  }
  if (options.withProvider && options.withKey) parts.push('<hr>');
  if (options.withKey) {
    parts.push(`<form method="post" action="/auth/login"><input type="hidden" name="next" value="${next}">
<label for="key">API key</label><input id="key" name="key" type="password" autocomplete="off" required>
<button type="submit">Sign in with a key</button>
<p class="muted">The key is checked by the proxy and never stored in your browser.</p></form>`);
  }
  return page('Sign in', parts.join('\n'));
}

export function messagePage(title: string, message: string, link?: { href: string; text: string }): string {
  const action = link ? `<p><a class="button" href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a></p>` : '';
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${action}`);
}

export function logoutPage(user: string): string {
  return page('Sign out', `<h1>Sign out</h1><p>Signed in as <strong>${escapeHtml(user)}</strong>.</p>
<form method="post" action="/auth/logout"><button type="submit">Sign out</button></form>`);
}
