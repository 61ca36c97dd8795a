import type { InspectedBody } from '../rest';
import type { LookupPlan } from './plan';
import type { ObjectFacts, ObjectKind } from './types';

type ObjectsPlan = Extract<LookupPlan, { type: 'objects' }>;
type Body = Readonly<Record<string, unknown>>;

/**
 * The update/move rule: which states of which objects the request is checked against.
 * - none: the objects as they are (looked up, or named in the path);
 * - create: the object as the body makes it;
 * - update: as it is and as it will be (before + the body's changes), so that no change moves an
 *   object into a name, tag or pool the key may not use;
 * - upsert (`POST /deployments/`): as it will be, and as it is when it already exists.
 * A body that cannot be read, or a field of a type Prefect would not take, makes the facts it
 * would set unknown: grants asking about them do not hold, denies do.
 * `resolved` holds one ObjectFacts per `plan.lookups`, in order.
 */
export function objectsToCheck(plan: ObjectsPlan, resolved: readonly ObjectFacts[], body: InspectedBody | undefined): ObjectFacts[] {
  if (resolved.length !== plan.lookups.length) throw new Error(`objectsToCheck: ${plan.lookups.length} lookups, ${resolved.length} results`);
  const changes = readBody(body);
  const first = resolved[0];
  switch (plan.change) {
    case 'none':
      return [...plan.named, ...resolved];
    case 'create':
      return [created(plan.kind, changes, first)];
    case 'update':
      if (!first) throw new Error('objectsToCheck: an update needs the object as it is');
      return distinct(first, updated(first, changes));
    case 'upsert': {
      if (!first) throw new Error('objectsToCheck: an upsert needs its lookup');
      const before = first.missing ? undefined : first;
      const base: ObjectFacts = before ?? { kind: 'deployment', ...(first.name !== undefined ? { name: first.name } : {}), tags: [], workPool: null };
      const after = upserted(base, changes);
      return before ? distinct(before, after) : [after];
    }
  }
}

/** `undefined` when the body cannot be read or is not an object: everything it could change is unknown. */
function readBody(body: InspectedBody | undefined): Body | undefined {
  if (body === undefined || body === null) return {};
  return typeof body === 'object' && !Array.isArray(body) ? body as Body : undefined;
}

function created(kind: ObjectKind, body: Body | undefined, deployment: ObjectFacts | undefined): ObjectFacts {
  const name = body ? optionalName(body.name) : undefined;
  const base = { kind, after: true, ...(name !== undefined ? { name } : {}) };
  if (!body) return kind === 'flow_run' ? { ...base, deployment: undefined, workPool: undefined } : base;
  switch (kind) {
    case 'flow_run':
      // Prefect queues a new run only when the body names a pool; `deployment_id` alone queues nothing.
      return { ...base, deployment: deployment ?? null, workPool: body.work_pool_name === undefined || body.work_pool_name === null || body.work_pool_name === '' ? null : poolName(body.work_pool_name) };
    case 'variable':
      return { ...base, tags: 'tags' in body ? stringList(body.tags) : [] };
    default:
      return base;
  }
}

function updated(before: ObjectFacts, body: Body | undefined): ObjectFacts {
  const after: ObjectFacts = { ...before, after: true };
  if (!body) return { kind: before.kind, after: true, ...(before.id !== undefined ? { id: before.id } : {}) };
  const name = 'name' in body ? renamed(before, body.name) : before.name;
  const tags = 'tags' in body ? stringList(body.tags) : before.tags;
  const workPool = before.kind === 'deployment' ? poolAfterPatch(before.workPool, body) : before.workPool;
  return withFacts(after, name, tags, workPool);
}

function upserted(base: ObjectFacts, body: Body | undefined): ObjectFacts {
  if (!body) return { kind: 'deployment', after: true, ...(base.id !== undefined ? { id: base.id } : {}) };
  const tags = 'tags' in body ? stringList(body.tags) : base.tags;
  return withFacts({ ...base, after: true }, base.name, tags, poolAfterPost(base.workPool, body));
}

/**
 * POST /deployments/ reads a null or empty work_pool_name as not given (deployments.py,
 * create_deployment), so the pool stays as it was (or none, for a new deployment) unless a queue
 * name alone sends it wherever Prefect finds a queue of that name.
 */
function poolAfterPost(before: string | null | undefined, body: Body): string | null | undefined {
  const pool = body.work_pool_name;
  if (typeof pool === 'string' && pool !== '') return pool;
  if (isGiven(pool)) return undefined;
  return isGiven(body.work_queue_name) ? undefined : before;
}

/**
 * PATCH /deployments: a pool name moves the deployment there; an explicit null takes it out of
 * any pool; a queue name alone lands it wherever Prefect finds a queue of that name, which the proxy
 * cannot know; anything else is unknown too.
 */
function poolAfterPatch(before: string | null | undefined, body: Body): string | null | undefined {
  if ('work_pool_name' in body) {
    const pool = body.work_pool_name;
    if (pool === null) return null;
    return typeof pool === 'string' && pool !== '' ? pool : undefined;
  }
  return isGiven(body.work_queue_name) ? undefined : before;
}

function renamed(before: ObjectFacts, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (before.kind !== 'deployment') return value;
  // A deployment's name is `<flow>/<name>`; flow names cannot hold `/`.
  const slash = before.name?.indexOf('/') ?? -1;
  return before.name !== undefined && slash >= 0 ? `${before.name.slice(0, slash)}/${value}` : undefined;
}

function withFacts(object: ObjectFacts, name: string | undefined, tags: readonly string[] | undefined, workPool: string | null | undefined): ObjectFacts {
  const { name: _n, tags: _t, workPool: _w, ...rest } = object;
  return {
    ...rest,
    ...(name !== undefined ? { name } : {}),
    ...(tags !== undefined ? { tags } : {}),
    ...(workPool !== undefined ? { workPool } : {}),
  };
}

/** Both states, unless the change leaves every matched fact as it was. */
function distinct(before: ObjectFacts, after: ObjectFacts): ObjectFacts[] {
  const same = before.name === after.name && before.workPool === after.workPool && sameList(before.tags, after.tags);
  return same ? [before] : [before, after];
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isGiven(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function optionalName(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function poolName(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringList(value: unknown): readonly string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value as string[] : undefined;
}
