import type { Permission } from '../scopes';
import { bodyWantsSecrets, secretPermission } from './classify';

/** A body the proxy could not parse: it may say anything, so it is read as asking for everything. */
export const UNREADABLE = Symbol('unreadable body');
export type InspectedBody = unknown | typeof UNREADABLE;

/**
 * Overriding a run's infrastructure (job variables: command, env, image, volumes) decides what a
 * worker executes, with the worker's credentials: that is deploying, not running.
 */
export const JOB_VARIABLES_PERMISSION: Permission = ['write', 'flow_runs', 'job_variables'];
/** Prefect 2 called job variables `infra_overrides`; 2.x servers still read that name. */
const OVERRIDE_FIELDS = ['job_variables', 'infra_overrides'];
const READS = new Set(['GET', 'HEAD']);

/** Whether the decision on this request depends on its body, so the body must be read first. */
export function decisionReadsBody(method: string, segments: readonly string[]): boolean {
  if (READS.has(method.toUpperCase())) return false;
  return secretPermission(segments) !== undefined || carriesJobVariables(method, segments) || isSetState(method, segments);
}

/**
 * The permissions a request needs once its body is known: the route's own, with `set_state`
 * narrowed to the state asked for, plus the secret and job-variable permissions the body calls for.
 */
export function refinePermissions(
  method: string,
  segments: readonly string[],
  routePermissions: readonly Permission[],
  body: InspectedBody,
): Permission[] {
  const verb = method.toUpperCase();
  if (READS.has(verb)) return [...routePermissions];
  const needed = isSetState(verb, segments)
    ? routePermissions.map((p) => (isSetStatePermission(p) ? [...p, targetState(body)] : p))
    : [...routePermissions];
  const secret = secretPermission(segments);
  if (secret && (body === UNREADABLE || bodyWantsSecrets(body))) needed.push(secret);
  if (carriesJobVariables(verb, segments) && (body === UNREADABLE || overridesJobVariables(body))) needed.push(JOB_VARIABLES_PERMISSION);
  return needed;
}

/** Create a run from a deployment (one or in bulk), create a run directly, update a run. */
function carriesJobVariables(method: string, segments: readonly string[]): boolean {
  const [resource, id, action, more] = segments;
  const verb = method.toUpperCase();
  if (resource === 'deployments') {
    return verb === 'POST' && id !== undefined && action === 'create_flow_run' && (more === undefined || (more === 'bulk' && segments.length === 4));
  }
  if (resource !== 'flow_runs') return false;
  return (verb === 'POST' && segments.length === 1) || (verb === 'PATCH' && segments.length === 2);
}

function isSetState(method: string, segments: readonly string[]): boolean {
  return method.toUpperCase() === 'POST' && segments.length === 3 && segments[0] === 'flow_runs' && segments[2] === 'set_state';
}

function isSetStatePermission(p: Permission): boolean {
  return p.length === 3 && p[0] === 'write' && p[1] === 'flow_runs' && p[2] === 'set_state';
}

/** The state type asked for, lower-cased (`cancelling`); `unknown` when the body does not say, which only a full `set_state` grant covers. */
function targetState(body: InspectedBody): string {
  if (body === UNREADABLE || !isObject(body) || !isObject(body.state)) return 'unknown';
  const type = body.state.type;
  return typeof type === 'string' && /^[A-Za-z_]{1,32}$/.test(type) ? type.toLowerCase() : 'unknown';
}

/** Any override but none at all (absent, null, `{}`); a list (bulk create) overrides if one item does. */
export function overridesJobVariables(body: unknown): boolean {
  if (Array.isArray(body)) return body.some(overridesJobVariables);
  if (!isObject(body)) return false;
  return OVERRIDE_FIELDS.some((field) => {
    if (!Object.prototype.hasOwnProperty.call(body, field)) return false;
    const value = body[field];
    if (value === null || value === undefined) return false;
    return !(isObject(value) && Object.keys(value).length === 0);
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
