import type { ObjectFacts } from './types';

/**
 * What the proxy must ask the Prefect server (with the server's credential) to learn an object's
 * name, tags and work pool. Each lookup resolves to one ObjectFacts; LOOKUP_RECIPES says how.
 */
export type Lookup =
  | { readonly type: 'deployment-by-id'; readonly id: string }
  /** The target of `POST /deployments/`, an upsert by (flow_id, name): it may not exist yet. */
  | { readonly type: 'deployment-by-flow-and-name'; readonly flowId: string; readonly name: string }
  | { readonly type: 'flow-run-by-id'; readonly id: string }
  | { readonly type: 'work-queue-by-id'; readonly id: string }
  | { readonly type: 'block-document-by-id'; readonly id: string }
  | { readonly type: 'variable-by-id'; readonly id: string }
  | { readonly type: 'variable-by-name'; readonly name: string };

export type LookupType = Lookup['type'];

/**
 * How each lookup is answered, for whoever implements the resolver. A 404 resolves to the facts
 * the request itself gives plus `missing: true`, never to an error; any other failure or a
 * timeout refuses the request (503). Flow names never change (Prefect cannot rename a flow), so
 * flow id → name can be cached for as long as the flow exists.
 */
export const LOOKUP_RECIPES: Readonly<Record<LookupType, { readonly calls: string; readonly facts: string }>> = {
  'deployment-by-id': {
    calls: 'GET /deployments/{id}, then GET /flows/{flow_id}',
    facts: "{ kind: 'deployment', id, name: `${flow.name}/${deployment.name}`, tags, workPool: work_pool_name ?? null }",
  },
  'deployment-by-flow-and-name': {
    calls: 'GET /flows/{flowId}, then GET /deployments/name/{flow name}/{name}',
    facts: "as deployment-by-id; not found: { kind: 'deployment', name: `${flow.name}/${name}`, missing: true } (no name when the flow is missing)",
  },
  'flow-run-by-id': {
    calls: 'GET /flow_runs/{id}, then deployment-by-id for its deployment_id',
    facts: "{ kind: 'flow_run', id, name, workPool: work_pool_name ?? null, deployment: facts of deployment_id, or null when it has none }",
  },
  'work-queue-by-id': {
    calls: 'GET /work_queues/{id}',
    facts: "{ kind: 'work_pool', name: work_pool_name } (the pool holding the queue)",
  },
  'block-document-by-id': {
    calls: 'GET /block_documents/{id} (without include_secrets)',
    facts: "{ kind: 'block_document', id, name }",
  },
  'variable-by-id': {
    calls: 'GET /variables/{id}',
    facts: "{ kind: 'variable', id, name, tags }",
  },
  'variable-by-name': {
    calls: 'GET /variables/name/{name}',
    facts: "{ kind: 'variable', id, name, tags }; not found: { kind: 'variable', name, missing: true }",
  },
};

/** Facts for an object the server did not find, carrying what the request itself said. */
export function missingFacts(lookup: Lookup, flowName?: string): ObjectFacts {
  switch (lookup.type) {
    case 'deployment-by-id': return { kind: 'deployment', id: lookup.id, missing: true };
    case 'deployment-by-flow-and-name':
      return flowName === undefined ? { kind: 'deployment', missing: true } : { kind: 'deployment', name: `${flowName}/${lookup.name}`, missing: true };
    case 'flow-run-by-id': return { kind: 'flow_run', id: lookup.id, missing: true };
    case 'work-queue-by-id': return { kind: 'work_pool', missing: true };
    case 'block-document-by-id': return { kind: 'block_document', id: lookup.id, missing: true };
    case 'variable-by-id': return { kind: 'variable', id: lookup.id, missing: true };
    case 'variable-by-name': return { kind: 'variable', name: lookup.name, missing: true };
  }
}
