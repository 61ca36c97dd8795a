import { checkOrigin } from '../../../src/signin';

const PUBLIC = 'https://prefect.example.com';
type Headers = Record<string, string | string[]>;

describe('checkOrigin', () => {
  it.each<[string, string, Headers]>([
    ['a GET with no headers', 'GET', {}],
    ['a link from another site (top-level navigation)', 'GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    ['a link from a same-site page', 'GET', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    ['a page\'s own fetch', 'GET', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }],
    ['a page\'s own fetch naming its Origin', 'GET', { origin: PUBLIC, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' }],
    ['an address typed by the user', 'GET', { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }],
    ['its own frame', 'GET', { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }],
    ['HEAD', 'HEAD', {}],
    ['OPTIONS from its own origin', 'OPTIONS', { origin: PUBLIC }],
    ['a POST from the public origin', 'POST', { origin: PUBLIC }],
    ['a DELETE from the public origin', 'DELETE', { origin: PUBLIC, 'sec-fetch-site': 'same-origin' }],
    ['a PATCH without Origin but same-origin fetch metadata', 'PATCH', { 'sec-fetch-site': 'same-origin' }],
    ['a websocket from the public origin', 'GET', { upgrade: 'websocket', origin: PUBLIC }],
  ])('allows %s', (_case, method, headers) => {
    expect(checkOrigin({ method, headers }, PUBLIC)).toEqual({ allowed: true });
  });

  it.each<[string, string, Headers, RegExp]>([
    ['a POST from another site', 'POST', { origin: 'https://evil.example' }, /another origin \("https:\/\/evil.example"\)/],
    ['a sibling subdomain', 'POST', { origin: 'https://evil.prefect.example.com' }, /another origin/],
    ['the parent domain', 'POST', { origin: 'https://example.com' }, /another origin/],
    ['a different port', 'POST', { origin: 'https://prefect.example.com:8443' }, /another origin/],
    ['the default port written out', 'POST', { origin: 'https://prefect.example.com:443' }, /another origin/],
    ['a different scheme', 'POST', { origin: 'http://prefect.example.com' }, /another origin/],
    ['a trailing slash', 'POST', { origin: 'https://prefect.example.com/' }, /another origin/],
    ['a host in other case', 'POST', { origin: 'https://Prefect.Example.com' }, /another origin/],
    ['a prefix match', 'POST', { origin: 'https://prefect.example.com.evil.example' }, /another origin/],
    ['Origin: null', 'POST', { origin: 'null' }, /opaque origin/],
    ['Origin: null even with same-origin fetch metadata', 'POST', { origin: 'null', 'sec-fetch-site': 'same-origin' }, /opaque origin/],
    ['Origin sent twice', 'POST', { origin: [PUBLIC, PUBLIC] }, /another origin/],
    ['a wrong Origin is not saved by same-origin fetch metadata', 'PUT', { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }, /another origin/],
    ['no Origin, same-site', 'POST', { 'sec-fetch-site': 'same-site' }, /"same-site" request/],
    ['no Origin, cross-site', 'DELETE', { 'sec-fetch-site': 'cross-site' }, /"cross-site" request/],
    ['no Origin, user-initiated', 'POST', { 'sec-fetch-site': 'none' }, /"none" request/],
    ['no Origin and no fetch metadata', 'POST', {}, /needs an Origin or Sec-Fetch-Site/],
    ['an unknown method', 'PROPFIND', {}, /needs an Origin/],
    ['a GET fetch from another origin', 'GET', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }, /GET with the session cookie from another origin/],
    ['a GET fetch from a sibling subdomain', 'GET', { origin: 'https://a.prefect.example.com', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' }, /another origin/],
    ['a GET with a foreign Origin and no fetch metadata', 'GET', { origin: 'https://evil.example' }, /another origin/],
    ['an image or script from a same-site page', 'GET', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }, /"same-site" "no-cors" request/],
    ['a HEAD from another site', 'HEAD', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }, /"cross-site"/],
    ['OPTIONS with the cookie from another origin', 'OPTIONS', { origin: 'https://evil.example' }, /another origin/],
    ['a frame on a same-site page', 'GET', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' }, /may not frame/],
    ['an embed on another site', 'GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'embed' }, /may not frame/],
    ['a websocket from another site', 'GET', { upgrade: 'websocket', origin: 'https://evil.example' }, /websocket from another origin/],
    ['a websocket from a sibling subdomain', 'GET', { upgrade: 'websocket', origin: 'https://a.prefect.example.com' }, /websocket from another origin/],
    ['a websocket without Origin, even same-origin by fetch metadata', 'GET', { upgrade: 'websocket', 'sec-fetch-site': 'same-origin' }, /must send Origin/],
    ['a websocket with Origin: null', 'GET', { upgrade: 'websocket', origin: 'null' }, /websocket from another origin/],
  ])('refuses %s', (_case, method, headers, reason) => {
    const verdict = checkOrigin({ method, headers }, PUBLIC);
    expect(verdict).toEqual({ allowed: false, reason: expect.stringMatching(reason) });
  });

  it('escapes what it quotes from the request', () => {
    const verdict = checkOrigin({ method: 'POST', headers: { origin: `https://evil.example\r\nX: ${'y'.repeat(200)}` } }, PUBLIC);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) {
      expect(verdict.reason).not.toMatch(/[\r\n]/);
      expect(verdict.reason.length).toBeLessThan(250);
    }
  });

  it('matches a plain-http localhost public origin exactly', () => {
    expect(checkOrigin({ method: 'POST', headers: { origin: 'http://localhost:3000' } }, 'http://localhost:3000')).toEqual({ allowed: true });
    expect(checkOrigin({ method: 'POST', headers: { origin: 'http://127.0.0.1:3000' } }, 'http://localhost:3000').allowed).toBe(false);
  });
});
