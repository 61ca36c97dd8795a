import type { Selector } from './objects';
import { formatScopeProblems, invalidObjectScopes, narrowScopes, parseObjectScope } from './objects';
import { splitScopes } from './scopes';

/**
 * Named bundles of scopes, used in a key's scopes as `role:<name>`, for both API dialects.
 * Modelled on Prefect Cloud's workspace roles; permissions a dialect does not have are inert there.
 */
export interface RoleDefinition {
  readonly description: string;
  readonly scopes: readonly string[];
}

export type RoleTable = ReadonlyMap<string, readonly string[]>;

const RUN_TIME_MUTATIONS_P1 = [
  'register_agent', 'get_runs_in_queue', 'set_flow_run_states', 'set_task_run_states', 'get_or_create_task_run',
  'get_or_create_task_run_info', 'update_flow_run_heartbeat', 'update_task_run_heartbeat', 'write_run_logs',
  'set_task_run_name', 'create_task_run_artifact', 'update_task_run_artifact',
].map((m) => `mutation/${m}`);

const RUN_TIME_WRITES_P3 = [
  'write/work_pools/get_scheduled_flow_runs', 'write/work_pools/create', 'write/work_pools/update', 'write/work_pools/heartbeat',
  'write/work_pools/connect', 'write/work_queues/create', 'write/flow_runs/set_state', 'write/flow_runs/update',
  'write/flow_runs/input', 'write/deployments/get_scheduled_flow_runs', 'write/task_runs', 'write/logs', 'write/events', 'write/artifacts',
  'write/concurrency_limits', 'write/variables/create', 'write/variables/update', 'secret/block_documents', 'secret/variables',
];

/** Cancel (cancelling, cancelled) and retry (scheduled, as the UI's "Retry" sends it): what a runner needs. */
const RUNNER_TARGET_STATES = ['cancelling', 'cancelled', 'scheduled'];

export const BUILTIN_ROLES: Readonly<Record<string, RoleDefinition>> = {
  viewer: {
    description: 'Read everything except secrets and server administration.',
    scopes: ['query/*', 'read/*', '!read/admin'],
  },
  runner: {
    description: 'Viewer, plus run deployments as they are deployed, and cancel or retry runs.',
    scopes: [
      'role:viewer',
      'mutation/create_flow_run', 'mutation/cancel_flow_run', 'mutation/set_flow_run_states',
      // Not `write/flow_runs/job_variables` (overriding what a worker runs) nor any other target state.
      'write/deployments/create_flow_run', ...RUNNER_TARGET_STATES.map((s) => `write/flow_runs/set_state/${s}`),
    ],
  },
  developer: {
    description: 'Everything except administration (of the proxy and of the Prefect server).',
    scopes: ['*', '!admin', '!read/admin', '!write/admin'],
  },
  worker: {
    description: 'What a Prefect 1 agent or a Prefect 2/3 worker and the flow runs it starts need, no more.',
    scopes: ['query/*', ...RUN_TIME_MUTATIONS_P1, 'read/*', '!read/admin', ...RUN_TIME_WRITES_P3],
  },
  owner: {
    description: 'Everything, including the admin routes.',
    scopes: ['*'],
  },
};

export class RoleError extends Error {}

const ROLE_PREFIX = 'role:';
const ROLE_NAME = /^[a-z0-9_-]{1,64}$/;

/**
 * Built-in roles, overridden or extended by `overrides` (from ROLES_FILE), flattened so that
 * expanding a key's scopes at lookup time is a map lookup. Throws RoleError naming every problem.
 */
export function buildRoleTable(overrides: Readonly<Record<string, unknown>> = {}): RoleTable {
  const raw = new Map<string, readonly string[]>(Object.entries(BUILTIN_ROLES).map(([n, r]) => [n, r.scopes]));
  const problems: string[] = [];
  for (const [name, value] of Object.entries(overrides)) {
    if (!ROLE_NAME.test(name)) problems.push(`role name "${name}" must be lowercase letters, digits, _ or -`);
    const scopes = typeof value === 'string' ? splitScopes(value)
      : Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]).flatMap(splitScopes)
      : undefined;
    if (!scopes) {
      problems.push(`role "${name}" must be a list of scopes or a string of scopes`);
      continue;
    }
    const bad = invalidObjectScopes(scopes);
    if (bad.length > 0) problems.push(`role "${name}" has malformed scopes: ${formatScopeProblems(bad)}`);
    raw.set(name, scopes);
  }

  const flat = new Map<string, readonly string[]>();
  const flatten = (name: string, path: readonly string[]): readonly string[] => {
    const done = flat.get(name);
    if (done) return done;
    const scopes = raw.get(name);
    if (!scopes) {
      problems.push(`role "${path.at(-1)}" refers to unknown role "${name}"`);
      return [];
    }
    if (path.includes(name)) {
      problems.push(`roles refer to each other in a cycle: ${[...path, name].join(' -> ')}`);
      return [];
    }
    const expanded = scopes.flatMap((s) => {
      const role = roleOf(s);
      if (!role) return [s];
      // Already reported as malformed: it grants nothing.
      if (role === 'malformed') return [];
      const scopesOfRole = flatten(role.name, [...path, name]);
      return role.selector ? narrowScopes(scopesOfRole, role.selector) : scopesOfRole;
    });
    const unique = [...new Set(expanded)];
    flat.set(name, unique);
    return unique;
  };
  for (const name of raw.keys()) flatten(name, []);
  if (problems.length > 0) throw new RoleError(problems.join('; '));
  return flat;
}

/**
 * Replaces `role:<name>` entries with the role's scopes, and `role:<name>@<selector>` with them
 * narrowed (narrowScopes); unknown roles are reported and grant nothing.
 */
export function expandRoles(scopes: readonly string[], roles: RoleTable): { scopes: string[]; unknownRoles: string[] } {
  const out: string[] = [];
  const unknownRoles: string[] = [];
  for (const scope of scopes) {
    const named = roleOf(scope);
    if (!named) {
      out.push(scope);
      continue;
    }
    const role = named === 'malformed' ? undefined : roles.get(named.name);
    if (named === 'malformed' || !role) unknownRoles.push(scope);
    else out.push(...(named.selector ? narrowScopes(role, named.selector) : role));
  }
  return { scopes: [...new Set(out)], unknownRoles };
}

/**
 * The role a `role:` entry names, and its selector when narrowed; undefined for any other scope. A
 * malformed narrowed role (`role:runner@team-a`) grants nothing, never the whole role.
 */
function roleOf(scope: string): { readonly name: string; readonly selector?: Selector } | 'malformed' | undefined {
  if (!scope.startsWith(ROLE_PREFIX)) return undefined;
  if (!scope.includes('@')) return { name: scope.slice(ROLE_PREFIX.length) };
  const parsed = parseObjectScope(scope);
  return parsed.ok && parsed.scope.type === 'narrowed-role' ? { name: parsed.scope.role, selector: parsed.scope.selector } : 'malformed';
}
