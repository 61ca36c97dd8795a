import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { chromium } from 'playwright-core';
import { createTestDatabase, insertKey } from '../../support/databases';
import type { TestDatabase } from '../../support/databases';
import { useStarted } from '../../support/lifecycle';
import { closedPort } from '../../support/ports';
import type { TestProxy } from '../../support/proxy';
import { startTestProxy, waitFor } from '../../support/proxy';
import type { RecordingUpstream } from '../../support/upstream';
import { startRecordingUpstream } from '../../support/upstream';

const DEVELOPER_KEY = 'developer-key-cross-site-01';
const ID = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';

interface Stack {
  readonly upstream: RecordingUpstream;
  readonly db: TestDatabase;
  readonly proxy: TestProxy;
  readonly attacker: http.Server;
  readonly attackerPort: number;
  readonly browser: Browser;
  readonly victim: BrowserContext;
}

/** Every attack a page of another origin can make with a signed-in person's browser. */
function attackPage(target: string): string {
  return `<!doctype html><html><body>
<form id="f" method="post" action="${target}/api/deployments/${ID}/create_flow_run" enctype="text/plain">
<input name='{"parameters":{"x":"' value='"}}'></form>
<img id="img" src="${target}/api/flows/${ID}">
<script>
window.results = {};
window.attack = async () => {
  const r = window.results;
  r.post = await fetch('${target}/api/deployments/${ID}/create_flow_run', { method: 'POST', credentials: 'include', mode: 'no-cors', body: '{}' })
    .then((x) => x.type, (e) => 'error ' + e.message);
  r.read = await fetch('${target}/api/flows/${ID}', { credentials: 'include' }).then((x) => 'read ' + x.status, (e) => 'error ' + e.message);
  r.socket = await new Promise((resolve) => {
    const s = new WebSocket('${target.replace('http', 'ws')}/api/events/in');
    // Prefect's protocol opens first and authenticates in the first frame, so the proxy upgrades and
    // then decides: what matters is the close and that nothing was relayed.
    s.onopen = () => s.send(JSON.stringify({ type: 'auth', token: null }));
    s.onclose = (e) => resolve('closed ' + e.code + ' ' + e.reason);
  });
  return r;
};
</script></body></html>`;
}

/**
 * The session cookie is the one credential a browser sends on its own. A page on another port of
 * the same host is "same-site", so SameSite=Lax does not keep the cookie from it: only the proxy's
 * Origin and fetch-metadata checks stand between it and Prefect. A real Chromium makes the attacks.
 */
describe('cross-site attacks from a real browser with a signed-in person\'s session', () => {
  const stack = useStarted<Stack>(async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const upstream = await startRecordingUpstream();
    upstream.respondWith((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"id":"x"}');
    });
    const db = await createTestDatabase('sqlite', 'signin_cross_site');
    await insertKey(db, { userId: 'dev', scopes: 'role:developer', key: DEVELOPER_KEY, hashed: true });
    const proxy = await startTestProxy({
      ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url, PORT: String(port), PUBLIC_URL: url,
      SIGN_IN: 'key', SESSION_SECRET: 'a-test-secret-of-at-least-32-characters',
    });
    const attacker = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(attackPage(url));
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const attackerPort = (attacker.address() as AddressInfo).port;
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
    });
    const victim = await browser.newContext();
    const page = await victim.newPage();
    await page.goto(`${url}/auth/login`);
    await page.fill('#key', DEVELOPER_KEY);
    await page.click('button:has-text("Sign in with a key")');
    await page.waitForURL((u) => !u.pathname.startsWith('/auth/login'));
    await page.close();
    return { upstream, db, proxy, attacker, attackerPort, browser, victim };
  }, async ({ browser, attacker, proxy, upstream, db }) => {
    await browser.close();
    await new Promise<void>((resolve) => attacker.close(() => resolve()));
    await proxy.stop();
    await upstream.close();
    await db.drop();
  });

  it('lets the person\'s own pages use the session (the cookie is really there)', async () => {
    const page = await stack.victim.newPage();
    await page.goto(`${stack.proxy.url}/auth/me`);
    const before = stack.upstream.received.length;
    const result = await page.evaluate(async (id) => {
      const post = await fetch(`/api/deployments/${id}/create_flow_run`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      const read = await fetch(`/api/flows/${id}`);
      return [post.status, read.status];
    }, ID);
    expect(result).toEqual([200, 200]);
    const seen = stack.upstream.received.slice(before);
    expect(seen.map((r) => `${r.method} ${r.url}`).filter((r) => r !== 'GET /favicon.ico')).toEqual([`POST /api/deployments/${ID}/create_flow_run`, `GET /api/flows/${ID}`]);
    for (const r of seen) expect(r.headers.cookie).toBeUndefined();
    await page.close();
  });

  it.each([
    ['same-site (another port of the same host: the cookie is sent)', '127.0.0.1', true],
    ['cross-site (another host name: SameSite=Lax holds the cookie back)', 'localhost', false],
  ])('refuses a %s form POST, fetches, an image and a websocket, and Prefect receives nothing', async (_case, host, cookieSent) => {
    const receivedBefore = stack.upstream.received.length;
    const startedBefore = stack.upstream.started;
    const auditBefore = stack.proxy.auditLines().length;
    const page = await stack.victim.newPage();
    await page.goto(`http://${host}:${stack.attackerPort}/`);
    await page.waitForLoadState('load');
    const results = await page.evaluate('window.attack()') as Record<string, string>;
    expect(results.read).toMatch(/^error/);
    expect(results.socket).toMatch(cookieSent ? /^closed 1008 .*another origin/ : /^closed 1008/);
    const answered = page.waitForURL(`${stack.proxy.url}/api/deployments/${ID}/create_flow_run`);
    await page.evaluate('document.getElementById("f").submit()');
    await answered;
    expect(await page.textContent('body')).toMatch(cookieSent ? /refused a cross-site request made with the session cookie/ : /API key|sign in|session/i);
    await page.close();

    // The form's answer is a page of the proxy's own origin, whose icon the browser then fetches.
    const reached = stack.upstream.received.slice(receivedBefore).map((r) => `${r.method} ${r.url}`);
    expect(reached.filter((r) => r !== 'GET /favicon.ico')).toEqual([]);
    expect(stack.upstream.started).toBe(startedBefore + reached.length);
    if (cookieSent) {
      // The proxy saw the session on each attack and said why it refused.
      await waitFor(() => stack.proxy.auditLines().length >= auditBefore + 3, 10_000);
      const refusals = stack.proxy.auditLines().slice(auditBefore).filter((l) => l.outcome === 'BLOCKED');
      expect(refusals.length).toBeGreaterThanOrEqual(3);
      for (const line of refusals) expect(line.user).toBe('dev');
    }
  });
});
