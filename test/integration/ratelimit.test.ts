import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy, waitFor } from '../support/proxy';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const MUTATION = '{"query":"mutation { create_project(input: {name: \\"x\\"}) { id } }"}';
const QUERY = '{"query":"{ flow { id } }"}';
/** Fresh per run: buckets in Redis outlive a test run. */
const newKey = () => `rl-${randomBytes(12).toString('hex')}`;

async function send(proxy: TestProxy, key: string, body = QUERY): Promise<Response> {
  return fetch(`${proxy.url}/`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
}

async function statuses(proxies: TestProxy[], key: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await send(proxies[i % proxies.length] as TestProxy, key);
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

describe('rate limits', () => {
  let db: TestDatabase;
  let upstream: RecordingUpstream;
  const keys = { limited: newKey(), unlimited: newKey(), byDefault: newKey(), exempt: newKey(), byRole: newKey(), shared: newKey(), writer: newKey(), cacheAdmin: newKey() };

  beforeAll(async () => {
    db = await createTestDatabase('postgres', 'ratelimit');
    await insertKey(db, { userId: 'limited', scopes: 'query/*, rate:0.2/2', key: keys.limited, hashed: true });
    await insertKey(db, { userId: 'unlimited', scopes: 'query/*', key: keys.unlimited, hashed: true });
    await insertKey(db, { userId: 'bydefault', scopes: 'query/*', key: keys.byDefault, hashed: true });
    await insertKey(db, { userId: 'exempt', scopes: 'query/*, rate:off', key: keys.exempt, hashed: true });
    await insertKey(db, { userId: 'byrole', scopes: 'role:ci', key: keys.byRole, hashed: true });
    await insertKey(db, { userId: 'shared', scopes: 'query/*, rate:0.2/3', key: keys.shared, hashed: true });
    await insertKey(db, { userId: 'writer', scopes: 'query/*, mutation/*, rate:0.2/1', key: keys.writer, hashed: true });
    await insertKey(db, { userId: 'cacheadmin', scopes: 'admin/cache, rate:0.2/1', key: keys.cacheAdmin, hashed: true });
    upstream = await startRecordingUpstream();
  });

  afterAll(async () => {
    await upstream.close();
    await db.drop();
  });

  describe('in memory (one instance)', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      const roles = join(mkdtempSync(join(tmpdir(), 'pap-roles-')), 'roles.yaml');
      writeFileSync(roles, 'ci: [query/*, "rate:0.2/1"]\n');
      proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: upstream.url, CACHE_INVALIDATION: 'off', RATE_LIMIT: '0.2/3', ROLES_FILE: roles });
    });
    afterAll(() => proxy.stop());

    it('lets the burst through, then answers 429 with Retry-After in GraphQL form; the upstream sees only the burst', async () => {
      const before = upstream.received.length;
      expect(await statuses([proxy], keys.limited, 2)).toEqual([200, 200]);
      const refused = await send(proxy, keys.limited);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await refused.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('TOO_MANY_REQUESTS');
      expect(body.errors[0]?.message).toContain('rate limit of 0.2/2');
      expect(upstream.received.length - before).toBe(2);
    });

    it('applies the default to keys without a limit, a role\'s limit to its holders, and none to rate:off', async () => {
      expect(await statuses([proxy], keys.byDefault, 4)).toEqual([200, 200, 200, 429]);
      expect(await statuses([proxy], keys.byRole, 2)).toEqual([200, 429]);
      expect(await statuses([proxy], keys.exempt, 10)).toEqual(Array(10).fill(200));
    });

    it('audits a refused mutation as blocked', async () => {
      expect((await send(proxy, keys.writer, MUTATION)).status).toBe(200);
      const refused = await send(proxy, keys.writer, MUTATION);
      expect(refused.status).toBe(429);
      await waitFor(() => proxy.auditLines().some((l) => l.user === 'writer' && l.outcome === 'BLOCKED'));
      const line = proxy.auditLines().find((l) => l.user === 'writer' && l.outcome === 'BLOCKED');
      expect(line).toMatchObject({ status: 429, operationName: 'rate limit', permissions: ['rate:0.2/1'] });
    });

    it('audits a refused DELETE /cache/:key by its route, never by its path: the path holds a key', async () => {
      const victim = newKey();
      const evict = () => fetch(`${proxy.url}/cache/${victim}`, { method: 'DELETE', headers: { authorization: `Bearer ${keys.cacheAdmin}` } });
      expect((await evict()).status).toBe(200);
      expect((await evict()).status).toBe(429);
      await waitFor(() => proxy.auditLines().some((l) => l.user === 'cacheadmin' && l.operationName === 'rate limit'));
      const line = proxy.auditLines().find((l) => l.user === 'cacheadmin' && l.operationName === 'rate limit');
      expect(line).toMatchObject({ outcome: 'BLOCKED', status: 429, fields: ['/cache'] });
      expect(proxy.rawLogs()).not.toContain(victim);
    });

    it('counts refusals in the metrics', async () => {
      const text = await proxy.runtime.metrics.registry.metrics();
      expect(text).toMatch(/prefect_auth_proxy_rate_limited_total\{dialect="graphql"\} [1-9]/);
      expect(text).toMatch(/prefect_auth_proxy_requests_total\{dialect="graphql",outcome="denied",status="429",route="graphql"\} [1-9]/);
    });
  });

  describe('shared through Redis (two instances)', () => {
    let a: TestProxy;
    let b: TestProxy;
    beforeAll(async () => {
      const env = { ...db.env, API_SERVICE_URL: upstream.url, REDIS_URL, CACHE_INVALIDATION: 'off' };
      [a, b] = await Promise.all([startTestProxy(env), startTestProxy(env)]);
    });
    afterAll(async () => {
      await a.stop();
      await b.stop();
    });

    it('one bucket for both: the burst is spent across instances, not per instance', async () => {
      expect(await statuses([a, b], keys.shared, 6)).toEqual([200, 200, 200, 429, 429, 429]);
    });
  });

  describe('when Redis does not answer', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await startTestProxy({ ...db.env, API_SERVICE_URL: upstream.url, REDIS_URL: 'redis://127.0.0.1:1/0', CACHE_INVALIDATION: 'off' });
    });
    afterAll(() => proxy.stop());

    it('keeps serving, limiting per instance, and says so in the log', async () => {
      const key = newKey();
      await insertKey(db, { userId: 'noredis', scopes: 'query/*, rate:0.2/2', key, hashed: true });
      expect(await statuses([proxy], key, 3)).toEqual([200, 200, 429]);
      expect(await statuses([proxy], keys.unlimited, 3)).toEqual([200, 200, 200]);
      expect(proxy.rawLogs()).toContain('rate limits decided per instance');
    });
  });
});
