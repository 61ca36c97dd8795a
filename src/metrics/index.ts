export { createMetrics } from './metrics';
export type { FinishedRequest, MetricsDialect, ProxyMetrics, RequestOutcome } from './metrics';
export { countFinishedRequest, outcomeOf } from './middleware';
export { startMetricsServer } from './server';
