import type { Lookup } from './lookups';
import type { ObjectFacts, ObjectKind } from './types';

/**
 * How a request changes the object it addresses, and so which states are checked (objects-to-check.ts):
 * - none: the object as it is;
 * - create: the object as the body makes it;
 * - update: as it is, and as it will be (before + the body's changes);
 * - upsert: as it will be, and as it is when it already exists.
 */
export type Change = 'none' | 'create' | 'update' | 'upsert';

/** What a route rule takes out of the request: lookups to run, objects named outright, or why it cannot tie the request to objects. */
export type Targets = { readonly lookups?: readonly Lookup[]; readonly named?: readonly ObjectFacts[] } | string;

export interface RouteRule {
  readonly kind: ObjectKind;
  readonly change: Change;
  /** For the docs: where the object is named. */
  readonly address: string;
  /** For the docs: the lookup it needs. */
  readonly lookup: string;
  /** Whether the body must be read before deciding. */
  readonly readsBody: boolean;
  readonly targets: (params: Readonly<Record<string, string>>, body: Record<string, unknown> | undefined) => Targets;
}

/** Prefect puts a queue made through `POST /work_queues/` into this pool (models/work_queues.py). */
export const DEFAULT_AGENT_POOL = 'default-agent-pool';
/** More ids in one request than this and the request is not tied to objects (only unnarrowed grants cover it). */
export const MAX_OBJECTS = 100;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const NOT_ONE = 'acts on several objects chosen by a filter';

const param = (params: Readonly<Record<string, string>>, name: string): string => params[name] ?? '';

const deploymentById = (change: Change = 'none'): RouteRule => ({
  kind: 'deployment', change, address: 'id in path', lookup: 'deployment by id', readsBody: change !== 'none',
  targets: (p) => ({ lookups: [{ type: 'deployment-by-id', id: param(p, 'id') }] }),
});
const flowRunById: RouteRule = {
  kind: 'flow_run', change: 'none', address: 'id in path', lookup: 'flow run by id, then its deployment', readsBody: false,
  targets: (p) => ({ lookups: [{ type: 'flow-run-by-id', id: param(p, 'id') }] }),
};
const poolInPath = (name: string): RouteRule => ({
  kind: 'work_pool', change: 'none', address: 'name in path', lookup: 'none', readsBody: false,
  targets: (p) => ({ named: [{ kind: 'work_pool', name: param(p, name) }] }),
});
const queueById: RouteRule = {
  kind: 'work_pool', change: 'none', address: 'queue id in path', lookup: 'work queue by id (its pool)', readsBody: false,
  targets: (p) => ({ lookups: [{ type: 'work-queue-by-id', id: param(p, 'id') }] }),
};
const blockById: RouteRule = {
  kind: 'block_document', change: 'none', address: 'id in path', lookup: 'block document by id', readsBody: false,
  targets: (p) => ({ lookups: [{ type: 'block-document-by-id', id: param(p, 'id') }] }),
};
const variableById = (change: Change): RouteRule => ({
  kind: 'variable', change, address: 'id in path', lookup: 'variable by id', readsBody: change !== 'none',
  targets: (p) => ({ lookups: [{ type: 'variable-by-id', id: param(p, 'id') }] }),
});
const variableByName = (change: Change): RouteRule => ({
  kind: 'variable', change, address: 'name in path', lookup: 'variable by name (its tags)', readsBody: change !== 'none',
  targets: (p) => ({ lookups: [{ type: 'variable-by-name', name: param(p, 'name') }] }),
});
const createdFromBody = (kind: ObjectKind, address: string): RouteRule => ({
  kind, change: 'create', address, lookup: 'none', readsBody: true, targets: () => ({}),
});
const untied = (kind: ObjectKind, address: string): RouteRule => ({
  kind, change: 'none', address, lookup: 'none: not tied to one object', readsBody: false, targets: () => NOT_ONE,
});

/**
 * Every route that acts on a named object, keyed `METHOD template` as in rest/routes.ts. A request
 * that needs a permission on named objects on a route missing here is not tied to objects: only a
 * grant without a selector covers it.
 */
export const OBJECT_ROUTES: Readonly<Record<string, RouteRule>> = {
  'POST /deployments/': {
    kind: 'deployment', change: 'upsert', address: 'body: flow_id and name', lookup: 'deployment by flow id and name (may not exist)', readsBody: true,
    targets: (_p, body) => {
      const flowId = body?.flow_id;
      const name = body?.name;
      if (typeof flowId !== 'string' || !UUID.test(flowId) || typeof name !== 'string') return 'the body names no flow_id and name';
      return { lookups: [{ type: 'deployment-by-flow-and-name', flowId, name }] };
    },
  },
  'PATCH /deployments/{id:uuid}': deploymentById('update'),
  'DELETE /deployments/{id:uuid}': deploymentById(),
  'POST /deployments/{id:uuid}/schedule': deploymentById(),
  'POST /deployments/{id:uuid}/resume_deployment': deploymentById(),
  'POST /deployments/{id:uuid}/pause_deployment': deploymentById(),
  'POST /deployments/{id:uuid}/create_flow_run': deploymentById(),
  'POST /deployments/{id:uuid}/create_flow_run/bulk': deploymentById(),
  'POST /deployments/{id:uuid}/schedules': deploymentById(),
  'PATCH /deployments/{id:uuid}/schedules/{schedule_id:uuid}': deploymentById(),
  'DELETE /deployments/{id:uuid}/schedules/{schedule_id:uuid}': deploymentById(),
  'POST /deployments/get_scheduled_flow_runs': {
    kind: 'deployment', change: 'none', address: 'body: deployment_ids', lookup: 'deployment by id, for each', readsBody: true,
    targets: (_p, body) => {
      const ids = body?.deployment_ids;
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && UUID.test(id))) return 'the body names no deployment_ids';
      const unique = [...new Set(ids as string[])];
      if (unique.length > MAX_OBJECTS) return `more than ${MAX_OBJECTS} deployments at once`;
      return { lookups: unique.map((id) => ({ type: 'deployment-by-id', id })) };
    },
  },
  'POST /deployments/bulk_delete': untied('deployment', 'body: a filter'),

  'POST /flow_runs/': {
    kind: 'flow_run', change: 'create', address: 'body: deployment_id, work_pool_name', lookup: 'deployment by id, when the body names one', readsBody: true,
    targets: (_p, body) => {
      const id = body?.deployment_id;
      if (id === undefined || id === null) return {};
      if (typeof id !== 'string' || !UUID.test(id)) return 'deployment_id is not an id';
      return { lookups: [{ type: 'deployment-by-id', id }] };
    },
  },
  'PATCH /flow_runs/{id:uuid}': flowRunById,
  'DELETE /flow_runs/{id:uuid}': flowRunById,
  'POST /flow_runs/{id:uuid}/set_state': flowRunById,
  'POST /flow_runs/{id:uuid}/resume': flowRunById,
  'POST /flow_runs/{id:uuid}/input': flowRunById,
  'DELETE /flow_runs/{id:uuid}/input/{key}': flowRunById,
  'PATCH /flow_runs/{id:uuid}/labels': flowRunById,
  'POST /flow_runs/bulk_delete': untied('flow_run', 'body: a filter'),
  'POST /flow_runs/bulk_set_state': untied('flow_run', 'body: a filter'),

  'POST /work_pools/': createdFromBody('work_pool', 'body: name'),
  'PATCH /work_pools/{name}': poolInPath('name'),
  'DELETE /work_pools/{name}': poolInPath('name'),
  'POST /work_pools/{name}/get_scheduled_flow_runs': poolInPath('name'),
  'POST /work_pools/{work_pool_name}/queues': poolInPath('work_pool_name'),
  'PATCH /work_pools/{work_pool_name}/queues/{name}': poolInPath('work_pool_name'),
  'DELETE /work_pools/{work_pool_name}/queues/{name}': poolInPath('work_pool_name'),
  'POST /work_pools/{work_pool_name}/workers/heartbeat': poolInPath('work_pool_name'),
  'DELETE /work_pools/{work_pool_name}/workers/{name}': poolInPath('work_pool_name'),
  'WEBSOCKET /work_pools/{work_pool_name}/workers/connect': poolInPath('work_pool_name'),

  'POST /work_queues/': {
    kind: 'work_pool', change: 'none', address: `none: always pool ${DEFAULT_AGENT_POOL}`, lookup: 'none', readsBody: false,
    targets: () => ({ named: [{ kind: 'work_pool', name: DEFAULT_AGENT_POOL }] }),
  },
  'PATCH /work_queues/{id:uuid}': queueById,
  'DELETE /work_queues/{id:uuid}': queueById,
  'POST /work_queues/{id:uuid}/get_runs': queueById,

  'POST /block_documents/': createdFromBody('block_document', 'body: name'),
  'GET /block_documents/{id:uuid}': blockById,
  'PATCH /block_documents/{id:uuid}': blockById,
  'DELETE /block_documents/{id:uuid}': blockById,
  'GET /block_types/slug/{slug}/block_documents/name/{block_document_name}': {
    kind: 'block_document', change: 'none', address: 'name in path', lookup: 'none', readsBody: false,
    targets: (p) => ({ named: [{ kind: 'block_document', name: param(p, 'block_document_name') }] }),
  },
  'GET /block_types/slug/{slug}/block_documents': untied('block_document', 'all of a block type'),
  'POST /block_documents/filter': untied('block_document', 'body: a filter'),

  'POST /variables/': createdFromBody('variable', 'body: name, tags'),
  'PATCH /variables/{id:uuid}': variableById('update'),
  'PATCH /variables/name/{name:str}': variableByName('update'),
  'DELETE /variables/{id:uuid}': variableById('none'),
  'DELETE /variables/name/{name:str}': variableByName('none'),
};
