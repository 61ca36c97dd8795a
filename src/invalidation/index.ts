export type { BusHandlers, InvalidationBus } from './bus';
export { CHANNEL } from './bus';
export { applyInvalidation, decodeInvalidation, encodeInvalidation } from './messages';
export type { Envelope, Invalidation } from './messages';
export { createInvalidationBus, createRedisClient, withInvalidation } from './cluster';
