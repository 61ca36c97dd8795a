import type { Permission } from '../scopes';
import type { ConditionKey, ObjectKind } from './types';

/**
 * The permission families that act on named objects, by their first two segments. Everything else
 * (reads, logs, events, task runs, artifacts, flows, automations, Prefect 1 mutations) acts on no
 * named object and cannot be narrowed.
 */
const FAMILIES: ReadonlyArray<readonly [string, string, ObjectKind]> = [
  ['write', 'deployments', 'deployment'],
  ['write', 'flow_runs', 'flow_run'],
  ['write', 'work_pools', 'work_pool'],
  // Legacy queues by id are resolved to the pool that holds them.
  ['write', 'work_queues', 'work_pool'],
  ['write', 'block_documents', 'block_document'],
  ['write', 'variables', 'variable'],
  ['secret', 'block_documents', 'block_document'],
  ['secret', 'variables', 'variable'],
];

/** Which kinds of object each condition can say something about. */
export const CONDITION_KINDS: Readonly<Record<ConditionKey, readonly ObjectKind[]>> = {
  deployment: ['deployment', 'flow_run'],
  pool: ['deployment', 'flow_run', 'work_pool'],
  tag: ['deployment', 'flow_run', 'variable'],
  block: ['block_document'],
  variable: ['variable'],
};

/** The kind of object a concrete permission acts on, or undefined when it acts on no named object. */
export function kindOfPermission(permission: Permission): ObjectKind | undefined {
  return FAMILIES.find(([verb, resource]) => permission[0] === verb && permission[1] === resource)?.[2];
}

/**
 * Every kind of object a scope pattern (`write/*`, `write/deployments/create_flow_run`, `*`) may act
 * on: a family counts when the pattern's first two segments can match it (a shorter pattern covers
 * everything below it).
 */
export function kindsOfPattern(pattern: string): ObjectKind[] {
  if (pattern === '*') return [...new Set(FAMILIES.map(([, , kind]) => kind))];
  const segments = pattern.split('/');
  const kinds = FAMILIES.filter(([verb, resource]) => segmentMayMatch(segments[0], verb) && segmentMayMatch(segments[1], resource));
  return [...new Set(kinds.map(([, , kind]) => kind))];
}

/**
 * A pattern cut down to the families of named objects: `write` gives `write/deployments`,
 * `write/flow_runs`, ... (every family with the verb `write`); a pattern naming the family
 * keeps its further segments. Together they
 * match exactly the permissions on named objects the pattern matches.
 */
export function familiesOfPattern(pattern: string): string[] {
  const segments = pattern === '*' ? [] : pattern.split('/');
  const families = FAMILIES.filter(([verb, resource]) => segmentMayMatch(segments[0], verb) && segmentMayMatch(segments[1], resource));
  return [...new Set(families.map(([verb, resource]) => [verb, resource, ...segments.slice(2)].join('/')))];
}

function segmentMayMatch(segment: string | undefined, name: string): boolean {
  if (segment === undefined) return true;
  if (!segment.includes('*')) return segment === name;
  return new RegExp(`^${segment.split('*').map(escapeRegExp).join('.*')}$`).test(name);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
