import type { Permission } from '../scopes';
import { PREFECT_ROUTES } from './routes';

/** What a request under the API mount needs. */
export type RestRequirement =
  /** No key: health probes. */
  | { readonly kind: 'public' }
  /** Any valid key: version check and CSRF token, which every client needs. */
  | { readonly kind: 'any-key' }
  | {
    readonly kind: 'permissions';
    readonly permissions: readonly Permission[];
    /** The route template, or for a path no template matches, the path itself. */
    readonly route: string;
    /** Whether a template of the route table matched: only then is `route` a bounded label. */
    readonly matched: boolean;
  };

interface Template {
  readonly method: string;
  readonly segments: readonly (string | { readonly uuid: boolean })[];
  readonly path: string;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** POST actions that only read (the route table's R-POST class). */
const READ_ACTIONS = new Set(['filter', 'count', 'paginate', 'history', 'lateness', 'count-by', 'concurrency_status', 'validate', 'next']);
const PUBLIC = new Set(['GET /health', 'GET /ready', 'HEAD /health', 'HEAD /ready']);
/**
 * Every client needs these: the version check, CSRF tokens, the default result storage (flow runs,
 * 3.7+) and the server settings, without which the V1 web UI does not render (secret values in them
 * are obfuscated by the server).
 */
const ANY_KEY = new Set(['GET /admin/version', 'GET /csrf-token', 'HEAD /admin/version', 'GET /admin/storage', 'GET /admin/settings']);
/** Websocket endpoints and the permission each needs. */
const WEBSOCKETS: ReadonlyArray<[string, Permission]> = [
  ['/events/in', ['write', 'events']],
  ['/events/out', ['read', 'events']],
  ['/logs/out', ['read', 'logs']],
  ['/task_runs/subscriptions/scheduled', ['write', 'task_runs', 'subscribe']],
  ['/work_pools/{work_pool_name}/workers/connect', ['write', 'work_pools', 'connect']],
];

const templates: readonly Template[] = PREFECT_ROUTES.filter(([method]) => method !== 'WEBSOCKET').map(([method, path]) => ({
  method,
  path,
  segments: path.split('/').filter(Boolean).map((s) => (s.startsWith('{') ? { uuid: s.endsWith(':uuid}') } : s)),
}));
const websocketTemplates = WEBSOCKETS.map(([path, permission]) => ({ segments: path.split('/').filter(Boolean).map((s) => (s.startsWith('{') ? { uuid: false } : s)), permission, path }));

function matches(template: Template['segments'], segments: readonly string[]): boolean {
  if (template.length !== segments.length) return false;
  return template.every((t, i) => (typeof t === 'string' ? t === segments[i] : !t.uuid || UUID.test(segments[i] as string)));
}

/** Static routes win over parameterized ones, as in Starlette's ordering for these routers. */
function findTemplate(method: string, segments: readonly string[]): Template | undefined {
  const candidates = templates.filter((t) => t.method === method && matches(t.segments, segments));
  return candidates.sort((a, b) => staticCount(b) - staticCount(a))[0];
}

function staticCount(t: Template): number {
  return t.segments.filter((s) => typeof s === 'string').length;
}

/**
 * Maps a request under the API mount to what it needs. Every path maps to something: a route
 * Prefect adds later is `read/<first segment>` for GET and `write/<first>/<last>` otherwise,
 * never open by accident. `segments` are the decoded path segments below the API mount.
 */
export function classifyRest(method: string, segments: readonly string[], trailingSlash: boolean): RestRequirement {
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const key = `${method.toUpperCase()} /${segments.join('/')}`;
  if (PUBLIC.has(key) && !trailingSlash) return { kind: 'public' };
  if (ANY_KEY.has(key) && !trailingSlash) return { kind: 'any-key' };

  const template = findTemplate(verb, segments);
  const statics = template
    ? template.segments.filter((s): s is string => typeof s === 'string')
    : segments;
  const route = template?.path ?? `/${segments.join('/')}`;
  // `/v2/concurrency_limits/...` is the same resource as v1.
  const named = statics[0] === 'v2' ? statics.slice(1) : statics;
  const resource = named[0] ?? 'root';
  const actions = named.slice(1);
  const last = actions.at(-1);

  // UI helpers read the resource named after `ui/`.
  if (verb === 'GET') return needs(route, template !== undefined, ['read', resource === 'ui' ? (actions[0] ?? 'ui') : resource]);
  if (verb === 'POST' && (resource === 'ui' || (last !== undefined && READ_ACTIONS.has(last)))) {
    return needs(route, template !== undefined, ['read', resource === 'ui' ? (actions[0] ?? 'ui') : resource]);
  }
  if (!template) return needs(route, template !== undefined, ['write', resource, segments.at(-1) ?? 'root']);
  let action: string;
  if (verb === 'PATCH' || (verb === 'PUT' && actions.length + (template.segments.length - statics.length) > 0)) action = 'update';
  else if (verb === 'PUT' || (verb === 'POST' && actions.length === 0)) action = 'create';
  else if (verb === 'DELETE' || last === 'bulk_delete') action = 'delete';
  else if (last === 'bulk') action = actions.at(-2) ?? 'bulk';
  else action = last ?? verb.toLowerCase();
  return needs(route, template !== undefined, ['write', resource, action]);
}

function needs(route: string, matched: boolean, permission: Permission): RestRequirement {
  return { kind: 'permissions', permissions: [permission], route, matched };
}

/** The permission a websocket endpoint needs, or undefined for a path that is not one. */
export function classifyWebsocket(segments: readonly string[]): { permission: Permission; route: string } | undefined {
  const found = websocketTemplates.find((t) => matches(t.segments, segments));
  return found && { permission: found.permission, route: found.path };
}

const FALSE_WORDS = new Set(['false', '0', 'no', 'off', 'f', 'n', '']);

/** True when a query string asks for secret values (`include_secrets`), read as leniently as the server might. */
export function queryWantsSecrets(search: URLSearchParams): boolean {
  return search.getAll('include_secrets').some((v) => !FALSE_WORDS.has(v.trim().toLowerCase()));
}

/** True when a JSON body asks for secret values; anything but an explicit false counts. */
export function bodyWantsSecrets(body: unknown): boolean {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  if (!Object.prototype.hasOwnProperty.call(body, 'include_secrets')) return false;
  const value = (body as Record<string, unknown>).include_secrets;
  return !(value === false || value === null || value === 0 || (typeof value === 'string' && FALSE_WORDS.has(value.trim().toLowerCase())));
}

/** Block documents are where secrets live; their reads may carry `include_secrets`. */
export function secretPermission(segments: readonly string[]): Permission | undefined {
  return segments[0] === 'block_documents' || segments[0] === 'block_types' ? ['secret', 'block_documents'] : undefined;
}
