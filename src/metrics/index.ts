export { createMetrics } from './metrics';
export type { FinishedRequest, MetricsDialect, ProxyMetrics, RequestOutcome } from './metrics';
export { outcomeOf, requestMetrics } from './middleware';
export { startMetricsServer } from './server';
