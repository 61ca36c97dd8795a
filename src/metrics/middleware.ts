import type { ServerResponse } from 'node:http';
import type { RequestScope } from '../http';
import { outcomeOf } from '../audit';
import type { MetricsDialect, ProxyMetrics } from './metrics';

export { outcomeOf };

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
