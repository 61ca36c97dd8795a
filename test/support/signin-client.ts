import http from 'node:http';

/** A browser of one origin: keeps the proxy's cookies, sends Origin on writes like a real one. */
export function browser(base: string) {
  const cookies = new Map<string, string>();
  const cookieHeader = () => [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  return {
    cookies,
    async fetch(path: string, init: RequestInit & { origin?: string | null } = {}): Promise<Response> {
      const headers = new Headers(init.headers);
      if (cookies.size > 0) headers.set('cookie', cookieHeader());
      const method = init.method ?? 'GET';
      const origin = init.origin === undefined ? (method === 'GET' ? undefined : base) : init.origin;
      if (origin !== undefined && origin !== null) headers.set('origin', origin);
      const res = await fetch(new URL(path, base), { ...init, headers, redirect: 'manual' });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const [name, ...value] = (pair ?? '').split('=');
        if (!name) continue;
        if (/max-age=0/i.test(line)) cookies.delete(name.trim());
        else cookies.set(name.trim(), value.join('='));
      }
      return res;
    },
  };
}

/** A page opened the way a browser opens one. */
export function navigate(url: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    }).on('error', reject);
  });
}
