import { createMetrics, outcomeOf } from '../../../src/metrics';

describe('outcomeOf', () => {
  it.each([
    [200, true, false, 'allowed'],
    [500, true, false, 'allowed'],
    [404, true, false, 'allowed'],
    [502, true, true, 'error'],
    [504, true, true, 'error'],
    [401, false, false, 'denied'],
    [403, false, false, 'denied'],
    [429, false, false, 'denied'],
    [413, false, false, 'denied'],
    [503, false, false, 'error'],
    [200, false, false, 'allowed'],
    [0, true, false, 'error'],
    [0, false, false, 'error'],
  ])('status %i, forwarded %s, upstream failed %s → %s', (status, forwarded, failed, expected) => {
    expect(outcomeOf(status, forwarded, failed)).toBe(expected);
  });
});

describe('createMetrics', () => {
  it('exports bounded labels, and per-user series only when enabled', async () => {
    const request = { dialect: 'rest' as const, outcome: 'allowed' as const, status: 200, route: '/flows/{id:uuid}', user: 'alice', totalSeconds: 0.01, upstreamSeconds: 0.008 };
    const plain = createMetrics({ perUser: false });
    plain.requestFinished(request);
    const text = await plain.registry.metrics();
    expect(text).toContain('prefect_auth_proxy_requests_total{dialect="rest",outcome="allowed",status="200",route="/flows/{id:uuid}"} 1');
    expect(text).toMatch(/prefect_auth_proxy_proxy_latency_seconds_count\{dialect="rest"\} 1/);
    expect(text).toMatch(/prefect_auth_proxy_upstream_latency_seconds_count\{dialect="rest"\} 1/);
    expect(text).not.toContain('alice');

    const perUser = createMetrics({ perUser: true });
    perUser.requestFinished(request);
    expect(await perUser.registry.metrics()).toContain('prefect_auth_proxy_user_requests_total{user="alice",outcome="allowed"} 1');
  });

  it('reads the cache size and audit queue at scrape time', async () => {
    const m = createMetrics({ perUser: false });
    m.watch({ keyCacheSize: () => 42, audit: () => ({ queued: 3, written: 10, dropped: 1 }) });
    const text = await m.registry.metrics();
    expect(text).toContain('prefect_auth_proxy_key_cache_entries 42');
    expect(text).toContain('prefect_auth_proxy_audit_queue_depth 3');
    expect(text).toContain('prefect_auth_proxy_audit_events_dropped_total 1');
  });
});
