import type { ObjectFacts } from '../../../../src/authz/objects';

/** Objects of two teams sharing one Prefect server. */
export const deployment = (name: string, tags: string[], workPool: string | null, extra: Partial<ObjectFacts> = {}): ObjectFacts =>
  ({ kind: 'deployment', id: `id-${name}`, name, tags, workPool, ...extra });

export const A_NIGHTLY = deployment('team-a/nightly', ['team-a'], 'pool-a');
export const A_UNTAGGED = deployment('team-a/adhoc', [], 'pool-a');
export const B_NIGHTLY = deployment('team-b/nightly', ['team-b'], 'pool-b');
export const A_SERVED = deployment('team-a/served', ['team-a'], null);

export const run = (name: string, dep: ObjectFacts | null | undefined, workPool: string | null | undefined = dep?.workPool): ObjectFacts =>
  ({ kind: 'flow_run', id: `run-${name}`, name, deployment: dep, workPool });

export const pool = (name: string): ObjectFacts => ({ kind: 'work_pool', name });
export const block = (name: string): ObjectFacts => ({ kind: 'block_document', id: `block-${name}`, name });
export const variable = (name: string, tags: string[] = []): ObjectFacts => ({ kind: 'variable', id: `var-${name}`, name, tags });

export const UUID_1 = '0f0e4a1c-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
export const UUID_2 = '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d';
