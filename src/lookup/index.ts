export { EVICTING_ROUTES, evictionsOf } from './evictions';
export type { CachedKind, Eviction } from './evictions';
export { createServerObjectLookup } from './for-server';
export { createObjectLookup } from './object-lookup';
export type { ObjectLookup, ObjectLookupOptions } from './object-lookup';
export { createPrefectReader, LOOKUP_USER_AGENT, LookupFailedError } from './prefect-api';
export type { PrefectReader, PrefectReaderOptions } from './prefect-api';
