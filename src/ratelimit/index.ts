export { gcra } from './gcra';
export type { GcraResult } from './gcra';
export { createMemoryLimiter, createRedisLimiter } from './limiter';
export type { RateLimiter, RateVerdict } from './limiter';
export { formatRateLimit, isRateScope, limitCovers, parseRateSpec, RATE_PREFIX, rateLimitFor } from './limits';
export type { RateLimit, RateLimitSetting } from './limits';
