import type { DbKind, TestDatabase } from '../support/databases';
import { createTestDatabase, insertKey } from '../support/databases';
import type { TestProxy } from '../support/proxy';
import { startTestProxy } from '../support/proxy';
import type { RecordingUpstream } from '../support/upstream';
import { startRecordingUpstream } from '../support/upstream';

const FLOW_ID = '0c7ad9c0-5f8a-4a3e-9b7e-7f2d4c1e9a10';
const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe.each(['sqlite'] as DbKind[])('metrics (%s key store)', (kind) => {
  let db: TestDatabase;
  let upstream: RecordingUpstream;
  let proxy: TestProxy;
  let separate: TestProxy;

  beforeAll(async () => {
    db = await createTestDatabase(kind, 'metrics');
    await insertKey(db, { userId: 'scraper', scopes: 'admin/metrics', key: 'scraper-key-001', hashed: true });
    await insertKey(db, { userId: 'viewer', scopes: 'role:viewer', key: 'viewer-key-0001', hashed: true });
    upstream = await startRecordingUpstream();
    upstream.respondWith((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const env = { ...db.env, API_KIND: 'rest', API_SERVICE_URL: upstream.url };
    proxy = await startTestProxy(env);
    separate = await startTestProxy({ ...env, METRICS_PORT: '0', METRICS_PER_USER: 'true' });
  });

  afterAll(async () => {
    await proxy.stop();
    await separate.stop();
    await upstream.close();
    await db.drop();
  });

  const scrape = async (target: TestProxy = proxy) => {
    const res = await fetch(`${target.url}/metrics`, { headers: as('scraper-key-001') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('needs a key with admin/metrics on PORT', async () => {
    expect((await fetch(`${proxy.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${proxy.url}/metrics`, { headers: as('viewer-key-0001') })).status).toBe(403);
    expect(await scrape()).toContain('prefect_auth_proxy_process_resident_memory_bytes');
  });

  it('counts requests by dialect, outcome, status and route template, never by raw path or key', async () => {
    expect((await fetch(`${proxy.url}/api/flows/${FLOW_ID}`, { headers: as('viewer-key-0001') })).status).toBe(200);
    expect((await fetch(`${proxy.url}/api/flows/`, { method: 'POST', headers: { ...as('viewer-key-0001'), 'content-type': 'application/json' }, body: '{}' })).status).toBe(403);
    expect((await fetch(`${proxy.url}/api/no-such-thing-${FLOW_ID}`, { headers: as('viewer-key-0001') })).status).toBe(200);
    expect((await fetch(`${proxy.url}/api/flows/${FLOW_ID}`, { headers: as('wrong-key') })).status).toBe(401);
    const text = await scrape();
    expect(text).toContain('prefect_auth_proxy_requests_total{dialect="rest",outcome="allowed",status="200",route="/flows/{id:uuid}"} 1');
    expect(text).toContain('prefect_auth_proxy_requests_total{dialect="rest",outcome="denied",status="403",route="/flows/"} 1');
    expect(text).toContain('prefect_auth_proxy_requests_total{dialect="rest",outcome="allowed",status="200",route="unmatched"} 1');
    expect(text).toContain('prefect_auth_proxy_requests_total{dialect="rest",outcome="denied",status="401",route="/flows/{id:uuid}"} 1');
    expect(text).toMatch(/prefect_auth_proxy_upstream_latency_seconds_count\{dialect="rest"\} 2/);
    expect(text).toMatch(/prefect_auth_proxy_proxy_latency_seconds_count\{dialect="rest"\} [4-9]/);
    expect(text).toMatch(/prefect_auth_proxy_key_cache_hits_total [1-9]/);
    expect(text).toMatch(/prefect_auth_proxy_key_cache_misses_total [1-9]/);
    expect(text).toMatch(/prefect_auth_proxy_key_store_lookup_seconds_count [1-9]/);
    expect(text).toMatch(/prefect_auth_proxy_key_cache_entries [1-9]/);
    for (const leak of [FLOW_ID, 'viewer-key-0001', 'wrong-key', 'viewer"']) expect(text).not.toContain(leak);
  });

  it('counts upstream failures', async () => {
    const broken = await startTestProxy({ ...db.env, API_KIND: 'rest', API_SERVICE_URL: 'http://127.0.0.1:1' });
    try {
      expect((await fetch(`${broken.url}/api/flows/${FLOW_ID}`, { headers: as('viewer-key-0001') })).status).toBe(502);
      const text = await broken.runtime.metrics.registry.metrics();
      expect(text).toContain('prefect_auth_proxy_upstream_errors_total{kind="unreachable"} 1');
      expect(text).toContain('prefect_auth_proxy_requests_total{dialect="rest",outcome="error",status="502",route="/flows/{id:uuid}"} 1');
    } finally {
      await broken.stop();
    }
  });

  it('serves /metrics alone and without a key on METRICS_PORT, with per-user series when enabled', async () => {
    expect((await fetch(`${separate.url}/api/flows/${FLOW_ID}`, { headers: as('viewer-key-0001') })).status).toBe(200);
    const port = separate.runtime.metricsPort;
    expect(port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('prefect_auth_proxy_user_requests_total{user="viewer",outcome="allowed"} 1');
    expect((await fetch(`http://127.0.0.1:${port}/api/flows`)).status).toBe(404);
    expect((await fetch(`${separate.url}/metrics`, { headers: as('scraper-key-001') })).status).toBe(404);
  });
});
