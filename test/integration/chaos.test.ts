import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import knex from 'knex';
import type { Knex } from 'knex';
import { hashedKeyValue } from '../../src/keys';
import { migrateLatest } from '../../src/storage';
import type { OwnPostgres } from '../support/own-postgres';
import { startOwnPostgres } from '../support/own-postgres';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { TcpRelay } from '../support/tcp-relay';
import { startTcpRelay } from '../support/tcp-relay';
import type { RecordingUpstream } from '../support/upstream';
import { echoGraphQL, startRecordingUpstream } from '../support/upstream';

const UNCACHED_KEYS = 3000;
let uncachedNext = 0;
/** A valid key never presented before: every request with one is a cache miss. */
const freshKey = () => `chaos-uncached-${uncachedNext++ % UNCACHED_KEYS}`;

/** Each kind of caller asks something only it asks, so the upstream's log tells who got through. */
const CALLERS = {
  cached: { key: 'chaos-cached-key1', body: '{"query":"{ cachedCaller: flow { id } }"}' },
  uncached: { key: freshKey, body: '{"query":"{ uncachedCaller: flow { id } }"}' },
  readonlyWrite: { key: 'chaos-readonly-k1', body: '{"query":"mutation { readonlyCaller: delete_flow(input: {flow_id: \\"x\\"}) { success } }"}' },
  badKey: { key: 'chaos-no-such-key', body: '{"query":"{ badKeyCaller: flow { id } }"}' },
} as const;
type Caller = keyof typeof CALLERS;

interface Flow {
  readonly results: Record<Caller, number[]>;
  stop(): Promise<void>;
}

/** Requests from every caller, one after another on two workers, until stopped (bounded at 60 s). */
function flowRequests(url: string): Flow {
  const results = { cached: [], uncached: [], readonlyWrite: [], badKey: [] } as Record<Caller, number[]>;
  let running = true;
  const deadline = Date.now() + 60_000;
  const worker = async () => {
    while (running && Date.now() < deadline) {
      for (const name of Object.keys(CALLERS) as Caller[]) {
        const { key, body } = CALLERS[name];
        try {
          const bearer = typeof key === 'function' ? key() : key;
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body });
          await res.arrayBuffer();
          results[name].push(res.status);
        } catch {
          results[name].push(-1);
        }
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  };
  const workers = [worker(), worker()];
  return { results, stop: async () => { running = false; await Promise.all(workers); } };
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;
const forwarded = (upstream: RecordingUpstream, marker: string) => upstream.received.filter((r) => r.body.includes(marker)).length;

describe('chaos: the key store stops while requests flow', () => {
  let pg: OwnPostgres;
  let db: Knex;
  let upstream: RecordingUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    pg = await startOwnPostgres();
    db = knex({ client: 'pg', connection: pg.url, pool: { min: 0, max: 2 } });
    await db.raw(readFileSync(join(__dirname, '..', '..', 'data', 'postgres', 'db_init.sql'), 'utf8'));
    await migrateLatest(db, 'postgres');
    const row = (user: string, scopes: string, key: string) => ({
      user_id: user, scopes, api_key: hashedKeyValue(key), key_issu_dt: db.raw('localtimestamp'), key_expr_dt: db.raw(`localtimestamp + interval '1 day'`),
      creatd_dt: db.raw('localtimestamp'), last_updatd_dt: db.raw('localtimestamp'), creatd_by: 'test', last_updatd_by: 'test',
    });
    await db('prefect_api_keys').insert([
      row('cached', 'query/*', CALLERS.cached.key),
      row('readonly', 'query/*', CALLERS.readonlyWrite.key),
    ]);
    const fresh = Array.from({ length: UNCACHED_KEYS }, (_, i) => row(`uncached${i}`, 'query/*', `chaos-uncached-${i}`));
    for (let i = 0; i < fresh.length; i += 500) await db('prefect_api_keys').insert(fresh.slice(i, i + 500));
    await db.destroy();
    upstream = await startRecordingUpstream();
    proxy = await startTestProxy({ DATABASE_URL: pg.url, API_SERVICE_URL: upstream.url, DB_TIMEOUT: '1', KEY_CACHE_NEGATIVE_TTL: '0', AUDIT_FLUSH_INTERVAL: '100', LOG_LEVEL: 'warn' });
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await upstream?.close();
    pg?.destroy();
  });

  it('keeps cached keys working, answers 503 for the rest, lets nothing wrong through, never crashes, and recovers', async () => {
    const ask = (caller: 'cached' | 'readonlyWrite') => fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CALLERS[caller].key}` }, body: CALLERS[caller].body });
    // Warm the cache for the callers that must survive the outage.
    expect((await ask('cached')).status).toBe(200);
    expect((await ask('readonlyWrite')).status).toBe(403);
    expect(uncachedNext).toBe(0);

    const flow = flowRequests(proxy.url);
    await new Promise((r) => setTimeout(r, 300));
    pg.kill();
    const during = flowRequests(proxy.url);
    await new Promise((r) => setTimeout(r, 2500));
    await during.stop();
    expect((await fetch(`${proxy.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${proxy.url}/healthcheck`)).status).toBe(200);
    pg.start();
    // Recovery: an uncached key works again without restarting the proxy.
    await waitFor(() => flow.results.uncached.slice(-3).length === 3 && flow.results.uncached.slice(-3).every((s) => s === 200), 20_000);
    await flow.stop();
    expect(uncachedNext).toBeLessThan(UNCACHED_KEYS);

    // While the store was down: cached keys answered, others were refused with 503, nothing else.
    expect(during.results.cached.length).toBeGreaterThan(10);
    expect(during.results.cached.every((s) => s === 200)).toBe(true);
    expect(during.results.readonlyWrite.every((s) => s === 403)).toBe(true);
    expect(count(during.results.uncached, 503)).toBeGreaterThan(5);
    expect(during.results.uncached.every((s) => s === 503)).toBe(true);
    expect(during.results.badKey.every((s) => s === 503)).toBe(true);
    // Over the whole run: never a crash or a dropped connection, never a bad key or a denied write let through.
    const all = [flow, during].flatMap((f) => Object.values(f.results).flat());
    expect(all).not.toContain(-1);
    expect(all.every((s) => [200, 401, 403, 503].includes(s))).toBe(true);
    expect(forwarded(upstream, 'badKeyCaller')).toBe(0);
    expect(forwarded(upstream, 'readonlyCaller')).toBe(0);
    const uncachedOk = count(flow.results.uncached, 200) + count(during.results.uncached, 200);
    expect(forwarded(upstream, 'uncachedCaller')).toBe(uncachedOk);
    expect((await fetch(`${proxy.url}/readyz`)).status).toBe(200);

    // Denied writes were audited while the store was down and written once it came back.
    const denied = count(flow.results.readonlyWrite, 403) + count(during.results.readonlyWrite, 403) + 1;
    const check = knex({ client: 'pg', connection: pg.url });
    try {
      await waitFor(() => proxy.runtime.audit.stats?.()?.queued === 0, 10_000);
      const rows = await check('prefect_audit_log').where({ user_id: 'readonly', outcome: 'BLOCKED' }).count<{ n: string }[]>({ n: '*' });
      expect(Number(rows[0]?.n)).toBe(denied);
    } finally {
      await check.destroy();
    }
  }, 60_000);
});

describe('chaos: the upstream goes away, then hangs', () => {
  let upstream: RecordingUpstream;
  let relay: TcpRelay;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await startRecordingUpstream();
    relay = await startTcpRelay(Number(new URL(upstream.url).port));
    proxy = await startTestProxy({ ALLOW_PUBLIC_ACCESS: 'true', API_SERVICE_URL: `http://127.0.0.1:${relay.port}`, UPSTREAM_TIMEOUT: '1', LOG_LEVEL: 'error' });
  });

  afterAll(async () => {
    await proxy.stop();
    await relay.close();
    await upstream.close();
  });

  const ask = async () => {
    const started = Date.now();
    const res = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ flow { id } }"}' });
    return { status: res.status, ms: Date.now() - started, body: (await res.json()) as { errors?: Array<{ extensions: { code: string } }> } };
  };

  it('answers 502 while the upstream is gone, 504 after UPSTREAM_TIMEOUT while it hangs, and recovers each time', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ask()).status);
    relay.cut();
    for (let i = 0; i < 5; i++) {
      const r = await ask();
      statuses.push(r.status);
      expect(r.body.errors?.[0]?.extensions.code).toBe('BAD_GATEWAY');
    }
    relay.restore();
    for (let i = 0; i < 5; i++) statuses.push((await ask()).status);
    expect(statuses).toEqual([...Array(5).fill(200), ...Array(5).fill(502), ...Array(5).fill(200)]);

    upstream.respondWith(() => undefined);
    const hung = await Promise.all([ask(), ask(), ask()]);
    for (const r of hung) {
      expect(r.status).toBe(504);
      expect(r.ms).toBeGreaterThanOrEqual(900);
      expect(r.body.errors?.[0]?.extensions.code).toBe('GATEWAY_TIMEOUT');
    }
    upstream.respondWith(echoGraphQL);
    expect((await ask()).status).toBe(200);
    expect((await fetch(`${proxy.url}/healthcheck`)).status).toBe(200);
  }, 30_000);
});
