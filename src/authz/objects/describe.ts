import type { ObjectFacts, ObjectKind } from './types';

const KIND_WORDS: Readonly<Record<ObjectKind, string>> = {
  deployment: 'deployment',
  flow_run: 'flow run',
  work_pool: 'work pool',
  block_document: 'block document',
  variable: 'variable',
};

const MAX_NAME = 120;
const MAX_TAGS = 5;

/**
 * `deployment team-b/nightly`, `flow run crimson-fox of deployment team-b/nightly`,
 * `deployment team-a/etl after this change (work pool pool-b; tags team-b)`: what a 403 names.
 * Names come from Prefect and are echoed to the client: control characters are replaced, length capped.
 */
export function describeObject(object: ObjectFacts): string {
  const head = `${KIND_WORDS[object.kind]} ${label(object)}`;
  if (object.kind === 'flow_run') {
    const d = object.deployment;
    const of = d === null ? ' (no deployment)' : d === undefined ? ' (deployment unknown)' : ` of deployment ${label(d)}`;
    return `${head}${of}${object.after ? ` after this change (${pool(object.workPool)})` : ''}`;
  }
  if (!object.after) return head;
  const facts: string[] = [];
  if (object.kind === 'deployment') facts.push(pool(object.workPool));
  if (object.kind === 'deployment' || object.kind === 'variable') facts.push(tags(object.tags));
  return `${head} after this change${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`;
}

function label(object: ObjectFacts): string {
  const name = object.name !== undefined ? clean(object.name) : object.id !== undefined ? clean(object.id) : '(name unknown)';
  return object.missing ? `${name} (not found)` : name;
}

function pool(value: string | null | undefined): string {
  return value === undefined ? 'work pool unknown' : value === null ? 'no work pool' : `work pool ${clean(value)}`;
}

function tags(values: readonly string[] | undefined): string {
  if (values === undefined) return 'tags unknown';
  if (values.length === 0) return 'no tags';
  const shown = values.slice(0, MAX_TAGS).map(clean).join(', ');
  return `tags ${shown}${values.length > MAX_TAGS ? ', …' : ''}`;
}

function clean(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const safe = text.replace(/[\x00-\x1f\x7f]/g, '?');
  return safe.length > MAX_NAME ? `${safe.slice(0, MAX_NAME)}…` : safe;
}

/** What the audit row records of an object. */
export function toAuditObject(object: ObjectFacts): { kind: ObjectKind; id?: string; name?: string } {
  return { kind: object.kind, ...(object.id !== undefined ? { id: object.id } : {}), ...(object.name !== undefined ? { name: object.name } : {}) };
}

/**
 * One object as an audit row's field: `deployment:<id> <flow>/<name>`, `flow_run:<id> <name> of
 * <deployment>`, `(after)` for the object as the change would leave it. Names cleaned and capped as in denials.
 */
export function auditObjectField(object: ObjectFacts): string {
  const head = `${object.kind}:${object.id !== undefined ? clean(object.id) : '-'} ${object.name !== undefined ? clean(object.name) : '-'}`;
  const d = object.deployment;
  const of = object.kind !== 'flow_run' || d === undefined ? '' : d === null ? ' of no deployment' : ` of deployment:${d.id !== undefined ? clean(d.id) : '-'} ${d.name !== undefined ? clean(d.name) : '-'}`;
  return `${head}${of}${object.missing ? ' (not found)' : ''}${object.after ? ' (after)' : ''}`;
}
