import { LRUCache } from 'lru-cache';
import type { Lookup, ObjectFacts } from '../authz/objects';
import { missingFacts } from '../authz/objects';
import type { CachedKind, Eviction } from './evictions';
import type { PrefectReader } from './prefect-api';
import type { DeploymentRecord, FlowRunRecord, NamedRecord } from './records';
import { readDeployment, readFlowRun, readNamed, readQueuePool } from './records';

/** Resolves objects addressed by id (or name) to what selectors match: name, tags, work pool. */
export interface ObjectLookup {
  /** One ObjectFacts per lookup, in order. Throws LookupFailedError: the request is then refused, never allowed. */
  resolve(lookups: readonly Lookup[], requestId?: string): Promise<ObjectFacts[]>;
  /** A change passed through the proxy: what it may have made stale is asked again next time. */
  forget(evictions: readonly Eviction[]): void;
  /** Cache hits and calls to the server, since start. */
  readonly counts: { readonly hits: number; readonly calls: number };
  close(): Promise<void>;
}

export interface ObjectLookupOptions {
  readonly reader: PrefectReader;
  /** OBJECT_CACHE_TTL: how long an answer is trusted; 0 asks the server every time. */
  readonly ttlMs: number;
  /** Most cached objects. */
  readonly max?: number;
}

/** Flow names never change (Prefect cannot rename a flow), and a flow id is never reused. */
const FLOW_TTL_MS = 3_600_000;
const enc = encodeURIComponent;

/**
 * Lookups with a short cache. Cached: deployments, flow runs, work queues, block documents and
 * variables by id (what workers and flows touch again and again), and flow names. Asked every
 * time: the lookups by name (`POST /deployments/` upserts, variables by name), which change
 * objects rarely and where a stale "not found" would skip the check of the object as it was.
 * A flow run's deployment is read through the deployment's own entry, so a change to a
 * deployment is seen by its runs at once. Nothing that was not found is cached.
 */
export function createObjectLookup(options: ObjectLookupOptions): ObjectLookup {
  const { reader, ttlMs } = options;
  const cache = new LRUCache<string, object>({ max: options.max ?? 10_000, ttlAutopurge: false });
  const inFlight = new Map<string, Promise<object | undefined>>();
  // Bumped by every change: an answer read while a change passed may predate it, so it is not kept.
  let generation = 0;
  const counts = { hits: 0, calls: 0 };

  const ask = (path: string, what: string, requestId: string | undefined): Promise<unknown> => {
    counts.calls++;
    return reader.get(path, what, requestId);
  };

  const cached = async <T extends object>(key: string, ttl: number, load: () => Promise<T | undefined>): Promise<T | undefined> => {
    if (ttl <= 0) return load();
    const hit = cache.get(key);
    if (hit !== undefined) {
      counts.hits++;
      return hit as T;
    }
    // Concurrent requests for one object share one call to the server.
    let pending = inFlight.get(key);
    if (!pending) {
      const started = generation;
      pending = load().then((value) => {
        if (value !== undefined && started === generation) cache.set(key, value, { ttl });
        return value;
      }).finally(() => {
        if (inFlight.get(key) === pending) inFlight.delete(key);
      });
      inFlight.set(key, pending);
    }
    return pending as Promise<T | undefined>;
  };

  const flowName = async (id: string, rid?: string): Promise<string | undefined> =>
    (await cached(`flow:${id}`, ttlMs > 0 ? Math.max(ttlMs, FLOW_TTL_MS) : 0, async () => {
      const json = await ask(`/flows/${enc(id)}`, `flow ${id}`, rid);
      return json === undefined ? undefined : readNamed(json);
    }))?.name;

  const record = <T extends object>(kind: CachedKind, path: string, id: string, read: (json: unknown) => T, rid?: string) =>
    cached(`${kind}:${id.toLowerCase()}`, ttlMs, async () => {
      const json = await ask(`${path}/${enc(id)}`, `${kind.replace('_', ' ')} ${id}`, rid);
      return json === undefined ? undefined : read(json);
    });

  const deploymentFacts = async (id: string, rid?: string): Promise<ObjectFacts> => {
    const found = await record<DeploymentRecord>('deployment', '/deployments', id, readDeployment, rid);
    if (!found) return missingFacts({ type: 'deployment-by-id', id });
    return { kind: 'deployment', id, ...await deploymentFields(found, rid) };
  };

  const deploymentFields = async (found: DeploymentRecord, rid?: string): Promise<Pick<ObjectFacts, 'name' | 'tags' | 'workPool'>> => {
    // A deployment's name, as selectors match it, is `<flow name>/<deployment name>`.
    const flow = found.flowId === undefined ? undefined : await flowName(found.flowId, rid);
    return {
      ...(flow !== undefined && found.name !== undefined ? { name: `${flow}/${found.name}` } : {}),
      ...(found.tags !== undefined ? { tags: found.tags } : {}),
      ...(found.workPool !== undefined ? { workPool: found.workPool } : {}),
    };
  };

  const resolveOne = async (lookup: Lookup, rid?: string): Promise<ObjectFacts> => {
    switch (lookup.type) {
      case 'deployment-by-id':
        return deploymentFacts(lookup.id, rid);
      case 'deployment-by-flow-and-name': {
        const flow = await flowName(lookup.flowId, rid);
        if (flow === undefined) return missingFacts(lookup);
        const json = await ask(`/deployments/name/${enc(flow)}/${enc(lookup.name)}`, `deployment ${flow}/${lookup.name}`, rid);
        if (json === undefined) return missingFacts(lookup, flow);
        const found = readDeployment(json);
        const id = (json as { id?: unknown }).id;
        return { kind: 'deployment', ...(typeof id === 'string' ? { id } : {}), ...await deploymentFields(found, rid) };
      }
      case 'flow-run-by-id': {
        const found = await record<FlowRunRecord>('flow_run', '/flow_runs', lookup.id, readFlowRun, rid);
        if (!found) return missingFacts(lookup);
        const deployment = found.deploymentId === undefined ? undefined : found.deploymentId === null ? null : await deploymentFacts(found.deploymentId, rid);
        return {
          kind: 'flow_run', id: lookup.id,
          ...(found.name !== undefined ? { name: found.name } : {}),
          ...(found.workPool !== undefined ? { workPool: found.workPool } : {}),
          ...(deployment !== undefined ? { deployment } : {}),
        };
      }
      case 'work-queue-by-id': {
        const found = await record('work_queue', '/work_queues', lookup.id, (json) => ({ pool: readQueuePool(json) }), rid);
        if (!found) return missingFacts(lookup);
        return { kind: 'work_pool', ...(found.pool !== undefined ? { name: found.pool } : {}) };
      }
      case 'block-document-by-id': {
        const found = await record<NamedRecord>('block_document', '/block_documents', lookup.id, readNamed, rid);
        if (!found) return missingFacts(lookup);
        return { kind: 'block_document', id: lookup.id, ...(found.name !== undefined ? { name: found.name } : {}) };
      }
      case 'variable-by-id': {
        const found = await record<NamedRecord>('variable', '/variables', lookup.id, readNamed, rid);
        if (!found) return missingFacts(lookup);
        return variableFacts(found, lookup.id);
      }
      case 'variable-by-name': {
        const json = await ask(`/variables/name/${enc(lookup.name)}`, `variable ${lookup.name}`, rid);
        if (json === undefined) return missingFacts(lookup);
        const id = (json as { id?: unknown }).id;
        return variableFacts(readNamed(json), typeof id === 'string' ? id : undefined);
      }
    }
  };

  return {
    resolve: (lookups, requestId) => Promise.all(lookups.map((l) => resolveOne(l, requestId))),
    forget(evictions) {
      if (evictions.length === 0) return;
      generation++;
      inFlight.clear();
      for (const { kind, id } of evictions) {
        if (id !== undefined) cache.delete(`${kind}:${id}`);
        else for (const key of [...cache.keys()]) if (key.startsWith(`${kind}:`)) cache.delete(key);
      }
    },
    counts,
    close: () => reader.close(),
  };
}

function variableFacts(found: NamedRecord, id: string | undefined): ObjectFacts {
  return {
    kind: 'variable',
    ...(id !== undefined ? { id } : {}),
    ...(found.name !== undefined ? { name: found.name } : {}),
    ...(found.tags !== undefined ? { tags: found.tags } : {}),
  };
}
