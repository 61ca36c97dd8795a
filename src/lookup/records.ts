/**
 * What the lookups read of Prefect's answers, field by field. A field of an unexpected type is
 * left unknown (undefined), never guessed: a grant that asks about it does not hold, a deny does.
 */

export interface DeploymentRecord {
  readonly name?: string;
  readonly flowId?: string;
  readonly tags?: readonly string[];
  readonly workPool?: string | null;
}

export interface FlowRunRecord {
  readonly name?: string;
  /** null: a run without a deployment. */
  readonly deploymentId?: string | null;
  readonly workPool?: string | null;
}

export interface NamedRecord {
  readonly name?: string;
  readonly tags?: readonly string[];
}

type Json = Record<string, unknown>;

export function readDeployment(json: unknown): DeploymentRecord {
  const o = asObject(json);
  return { ...text(o, 'name'), ...text(o, 'flow_id', 'flowId'), ...tags(o), ...nullableText(o, 'work_pool_name', 'workPool') };
}

export function readFlowRun(json: unknown): FlowRunRecord {
  const o = asObject(json);
  return { ...text(o, 'name'), ...nullableText(o, 'deployment_id', 'deploymentId'), ...nullableText(o, 'work_pool_name', 'workPool') };
}

/** Flows, block documents and variables: a name, and tags where they have them. */
export function readNamed(json: unknown): NamedRecord {
  const o = asObject(json);
  return { ...text(o, 'name'), ...tags(o) };
}

/** A work queue: the pool that holds it. */
export function readQueuePool(json: unknown): string | undefined {
  const pool = asObject(json).work_pool_name;
  return typeof pool === 'string' ? pool : undefined;
}

function asObject(json: unknown): Json {
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json as Json : {};
}

function text(o: Json, field: string, as = field): Record<string, string> {
  const value = o[field];
  return typeof value === 'string' ? { [as]: value } : {};
}

function nullableText(o: Json, field: string, as: string): Record<string, string | null> {
  const value = o[field];
  return typeof value === 'string' || value === null ? { [as]: value } : {};
}

function tags(o: Json): { tags?: readonly string[] } {
  const value = o.tags;
  return Array.isArray(value) && value.every((t) => typeof t === 'string') ? { tags: value as string[] } : {};
}
