import type { ServerResponse } from 'node:http';
import type { RequestScope } from '../http';
import type { MetricsDialect, ProxyMetrics, RequestOutcome } from './metrics';

/**
 * allowed: the request reached the Prefect API (whatever it answered) or the proxy answered it as
 * asked; denied: the proxy refused it (4xx); error: the proxy or the Prefect API failed (5xx, or
 * the client went away before an answer).
 */
export function outcomeOf(status: number, forwarded: boolean, upstreamFailed: boolean): RequestOutcome {
  if (forwarded && !upstreamFailed && status > 0) return 'allowed';
  if (status === 0 || status >= 500) return 'error';
  return status >= 400 ? 'denied' : 'allowed';
}

/** Counts a request whose response has ended (or whose client went away). */
export function countFinishedRequest(metrics: ProxyMetrics, dialect: MetricsDialect, scope: RequestScope, res: ServerResponse): void {
  const status = res.headersSent ? res.statusCode : 0;
  const upstream = scope.upstream;
  const upstreamEnd = upstream?.endedAt ?? performance.now();
  if (upstream?.failure) metrics.upstreamError(upstream.failure);
  metrics.requestFinished({
    dialect,
    outcome: outcomeOf(status, upstream !== undefined, upstream?.failure !== undefined),
    status,
    route: scope.route ?? 'other',
    user: scope.principal?.userId ?? null,
    totalSeconds: (performance.now() - scope.startedAt) / 1000,
    ...(upstream ? { upstreamSeconds: (upstreamEnd - upstream.startedAt) / 1000 } : {}),
  });
}
