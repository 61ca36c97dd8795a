import { pathParams } from '../authz/objects';

/** What the lookup cache holds, one entry per object: the kinds a change can make stale. */
export type CachedKind = 'deployment' | 'flow_run' | 'work_queue' | 'block_document' | 'variable';

/** Forget one cached object (`id`), or every cached object of a kind. */
export interface Eviction {
  readonly kind: CachedKind;
  readonly id?: string;
}

type Rule = (params: Readonly<Record<string, string>>) => Eviction[];

const one = (kind: CachedKind): Rule => (p) => [{ kind, id: (p.id ?? '').toLowerCase() }];
const all = (...kinds: CachedKind[]): Rule => () => kinds.map((kind) => ({ kind }));

/**
 * Allowed requests that can change what the cache holds of an object (its name, tags, pool, or
 * whether it exists), keyed `METHOD template` as in rest/routes.ts. Where the request does not say
 * which cached object it changes (an upsert by name, a filter, a queue named within its pool),
 * every cached object of that kind goes. A flow run's deployment is read through the deployment
 * entry, so changing a deployment needs nothing more for its runs.
 */
const CHANGES: Readonly<Record<string, Rule>> = {
  'POST /deployments/': all('deployment'),
  'PATCH /deployments/{id:uuid}': one('deployment'),
  'DELETE /deployments/{id:uuid}': one('deployment'),
  'POST /deployments/bulk_delete': all('deployment'),
  // Deleting a flow deletes its deployments.
  'DELETE /flows/{id:uuid}': all('deployment'),
  'POST /flows/bulk_delete': all('deployment'),
  'PATCH /flow_runs/{id:uuid}': one('flow_run'),
  'DELETE /flow_runs/{id:uuid}': one('flow_run'),
  'POST /flow_runs/bulk_delete': all('flow_run'),
  'PATCH /work_queues/{id:uuid}': one('work_queue'),
  'DELETE /work_queues/{id:uuid}': one('work_queue'),
  'PATCH /work_pools/{work_pool_name}/queues/{name}': all('work_queue'),
  'DELETE /work_pools/{work_pool_name}/queues/{name}': all('work_queue'),
  'DELETE /work_pools/{name}': all('work_queue'),
  'PATCH /block_documents/{id:uuid}': one('block_document'),
  'DELETE /block_documents/{id:uuid}': one('block_document'),
  'PATCH /variables/{id:uuid}': one('variable'),
  'DELETE /variables/{id:uuid}': one('variable'),
  'PATCH /variables/name/{name:str}': all('variable'),
  'DELETE /variables/name/{name:str}': all('variable'),
};

/**
 * What an allowed request makes stale in the lookup cache: nothing for most. `route` is the
 * matched template of rest/routes.ts, `segments` the decoded path below the API mount. Pure.
 */
export function evictionsOf(method: string, route: string, segments: readonly string[]): Eviction[] {
  const rule = CHANGES[`${method.toUpperCase()} ${route}`];
  return rule ? rule(pathParams(route, segments)) : [];
}

/** The routes whose changes evict, for the docs and tests. */
export const EVICTING_ROUTES: readonly string[] = Object.keys(CHANGES);
