import type { Outcome } from '../audit';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditStats } from '../audit';

/** The audit trail's vocabulary (audit/outcome.ts). */
export type RequestOutcome = Outcome;
export type MetricsDialect = 'graphql' | 'rest' | 'admin' | 'websocket';

export interface FinishedRequest {
  readonly dialect: MetricsDialect;
  readonly outcome: RequestOutcome;
  readonly status: number;
  /** A bounded label: a route template, `graphql`, or a fixed word; never a raw path. */
  readonly route: string;
  readonly user: string | null;
  readonly totalSeconds: number;
  /** Time spent waiting on the Prefect API, when the request reached it. */
  readonly upstreamSeconds?: number;
}

/** What the proxy reports to Prometheus. Every method is cheap: counters and histograms only. */
export interface ProxyMetrics {
  readonly registry: Registry;
  requestFinished(request: FinishedRequest): void;
  upstreamError(kind: 'timeout' | 'unreachable'): void;
  keyCacheHit(): void;
  keyCacheMiss(): void;
  keyLookup(seconds: number, ok: boolean): void;
  rateLimited(dialect: MetricsDialect): void;
  websocketOpened(): void;
  websocketClosed(): void;
  invalidation(origin: 'local' | 'remote', kind: string): void;
  setInvalidationConnected(connected: boolean): void;
  /** Sources read at scrape time. */
  watch(sources: { keyCacheSize?: () => number; audit?: () => AuditStats | undefined }): void;
}

const PREFIX = 'prefect_auth_proxy_';
// The proxy's own work is sub-millisecond when healthy; upstream answers take up to seconds.
const PROXY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const UPSTREAM_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

export function createMetrics(options: { perUser: boolean }): ProxyMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const sources: { keyCacheSize?: () => number; audit?: () => AuditStats | undefined } = {};
  const on = { registers: [registry] };

  const requests = new Counter({ ...on, name: `${PREFIX}requests_total`, help: 'Requests by dialect, outcome (allowed: reached the Prefect API; denied: refused by the proxy; error), status and route template.', labelNames: ['dialect', 'outcome', 'status', 'route'] as const });
  const proxyLatency = new Histogram({ ...on, name: `${PREFIX}proxy_latency_seconds`, help: 'Time a request spent in the proxy itself, upstream time excluded.', labelNames: ['dialect'] as const, buckets: PROXY_BUCKETS });
  const upstreamLatency = new Histogram({ ...on, name: `${PREFIX}upstream_latency_seconds`, help: 'Time from sending a request upstream to the end of its answer.', labelNames: ['dialect'] as const, buckets: UPSTREAM_BUCKETS });
  const upstreamErrors = new Counter({ ...on, name: `${PREFIX}upstream_errors_total`, help: 'Requests the Prefect API did not answer (unreachable: 502; timeout: 504).', labelNames: ['kind'] as const });
  const cacheHits = new Counter({ ...on, name: `${PREFIX}key_cache_hits_total`, help: 'Key lookups answered from the cache (known and unknown keys).' });
  const cacheMisses = new Counter({ ...on, name: `${PREFIX}key_cache_misses_total`, help: 'Key lookups that went to the key store.' });
  new Gauge({ ...on, name: `${PREFIX}key_cache_entries`, help: 'Keys in the cache.', collect() { this.set(sources.keyCacheSize?.() ?? 0); } });
  const lookupLatency = new Histogram({ ...on, name: `${PREFIX}key_store_lookup_seconds`, help: 'Key store lookups, successful or not.', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5] });
  const lookupErrors = new Counter({ ...on, name: `${PREFIX}key_store_errors_total`, help: 'Key store lookups that failed or timed out (requests got 503 unless the key was cached).' });
  new Gauge({ ...on, name: `${PREFIX}audit_queue_depth`, help: 'Audit events waiting to be written to the database.', collect() { this.set(sources.audit?.()?.queued ?? 0); } });
  new Counter({ ...on, name: `${PREFIX}audit_events_dropped_total`, help: 'Audit events dropped because the queue was full.', collect() { this.reset(); this.inc(sources.audit?.()?.dropped ?? 0); } });
  new Counter({ ...on, name: `${PREFIX}audit_events_written_total`, help: 'Audit events written to the database.', collect() { this.reset(); this.inc(sources.audit?.()?.written ?? 0); } });
  const websockets = new Gauge({ ...on, name: `${PREFIX}websockets_open`, help: 'Client websockets open through the proxy.' });
  const limited = new Counter({ ...on, name: `${PREFIX}rate_limited_total`, help: 'Requests refused with 429 by a key\'s rate limit.', labelNames: ['dialect'] as const });
  const invalidations = new Counter({ ...on, name: `${PREFIX}cache_invalidations_total`, help: 'Key cache evictions made here (local) or received from other instances (remote).', labelNames: ['origin', 'kind'] as const });
  const busUp = new Gauge({ ...on, name: `${PREFIX}cache_invalidation_connected`, help: '1 while this instance listens for other instances\' cache invalidations.' });
  const perUser = options.perUser
    ? new Counter({ ...on, name: `${PREFIX}user_requests_total`, help: 'Requests by user id (METRICS_PER_USER).', labelNames: ['user', 'outcome'] as const })
    : undefined;

  return {
    registry,
    requestFinished(r) {
      requests.inc({ dialect: r.dialect, outcome: r.outcome, status: String(r.status), route: r.route });
      const upstream = r.upstreamSeconds ?? 0;
      proxyLatency.observe({ dialect: r.dialect }, Math.max(0, r.totalSeconds - upstream));
      if (r.upstreamSeconds !== undefined) upstreamLatency.observe({ dialect: r.dialect }, r.upstreamSeconds);
      if (perUser && r.user !== null) perUser.inc({ user: r.user, outcome: r.outcome });
    },
    upstreamError: (kind) => upstreamErrors.inc({ kind }),
    keyCacheHit: () => cacheHits.inc(),
    keyCacheMiss: () => cacheMisses.inc(),
    keyLookup(seconds, ok) {
      lookupLatency.observe(seconds);
      if (!ok) lookupErrors.inc();
    },
    rateLimited: (dialect) => limited.inc({ dialect }),
    websocketOpened: () => websockets.inc(),
    websocketClosed: () => websockets.dec(),
    invalidation: (origin, kind) => invalidations.inc({ origin, kind }),
    setInvalidationConnected: (connected) => busUp.set(connected ? 1 : 0),
    watch(next) {
      Object.assign(sources, next);
    },
  };
}
