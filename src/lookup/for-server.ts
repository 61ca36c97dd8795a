import type { AppContext } from '../app-context';
import type { ObjectLookup } from './object-lookup';
import { createObjectLookup } from './object-lookup';
import { createPrefectReader } from './prefect-api';

/** Lookups at the Prefect server the proxy forwards to, with the server's credential (REST mode). */
export function createServerObjectLookup(context: AppContext): ObjectLookup {
  const { config } = context;
  const reader = createPrefectReader({
    target: config.apiServiceUrl,
    apiPrefix: context.apiPrefix,
    authorization: context.serverAuthorization,
    timeoutMs: config.objectLookup.timeoutMs,
  });
  return createObjectLookup({ reader, ttlMs: config.objectLookup.cacheTtlMs });
}
