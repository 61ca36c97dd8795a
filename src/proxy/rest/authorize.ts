import type { DecidedOperation } from '../../audit';
import type { Permission } from '../../authz';
import { formatPermission } from '../../authz';
import type { Lookup, LookupPlan, ObjectFacts, ObjectVerdict } from '../../authz/objects';
import { auditObjectField, decideOnObjects, needsObjects, objectsReadBody, objectsToCheck, requiredLookups } from '../../authz/objects';
import type { InspectedBody } from '../../authz/rest';
import { classifyRest, classifyWebsocket, decisionReadsBody, normalizePath, queryWantsSecrets, refinePermissions, secretPermission, UNREADABLE } from '../../authz/rest';
import { ProxyError } from '../../http';
import type { Principal } from '../../keys';
import { describePrincipal } from '../../keys';

const READ_METHODS = new Set(['GET', 'HEAD']);

/** What the REST dialect learns about a request before and while deciding it. */
export interface RestLocals {
  requirement: ReturnType<typeof classifyRest> | { readonly kind: 'public' };
  /** The normalized path without the query, for logs. */
  path: string;
  /** Bounded label for metrics and failure records: a route template, `unmatched` or `ui`. */
  route: string;
  /** The normalized path and query: what the upstream gets, so it routes exactly what was checked. */
  forwardPath: string;
  /** The path under the API prefix; undefined outside the API (the web UI's files). */
  segments?: readonly string[];
  /** The decoded path as audited, without a trailing slash. */
  auditPath?: string;
  wantsSecretByQuery?: boolean;
  /** The parsed body, when there was one: secrets, job variables, target states and named things are read from it. */
  body?: InspectedBody;
  /** lookup: what the Prefect server said of the objects the decision needs, one per lookup of `objectPlan`, in order. */
  resolved?: readonly ObjectFacts[];
}

/**
 * Normalizes the path and works out what the request needs, before any key is looked up or body read.
 * The request is forwarded with the normalized path (`forwardPath`), so the upstream routes exactly
 * what was checked. A path that cannot be read, or a write outside the API, is refused (400, 405).
 */
export function classifyRestRequest(method: string, url: string, prefix: readonly string[]): RestLocals | ProxyError {
  const normalized = normalizePath(url);
  if (!normalized.ok) return new ProxyError('BAD_REQUEST', `unsupported path: ${normalized.reason}`);
  const forwardPath = normalized.path + normalized.query;
  const underApi = prefix.every((p, i) => normalized.segments[i]?.toLowerCase() === p.toLowerCase());
  if (!underApi) {
    // The web UI's static files: public, read-only.
    if (!READ_METHODS.has(method)) return new ProxyError('METHOD_NOT_ALLOWED', 'only GET outside the API');
    return { requirement: { kind: 'public' }, path: normalized.path, route: 'ui', forwardPath };
  }
  const segments = normalized.segments.slice(prefix.length);
  const requirement = classifyRest(method, segments, normalized.trailingSlash);
  return {
    requirement,
    path: normalized.path,
    route: requirement.kind === 'permissions' ? (requirement.matched ? requirement.route : 'unmatched') : `/${segments.join('/')}`,
    segments,
    forwardPath,
    auditPath: `/${normalized.segments.join('/')}`,
    wantsSecretByQuery: queryWantsSecrets(new URLSearchParams(normalized.query)),
  };
}

/** Parses a body read before deciding; what cannot be parsed is treated as asking for everything. */
export function inspectBody(local: RestLocals, raw: Buffer): void {
  if (raw.length === 0) return;
  const bom = raw.length >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  try {
    local.body = JSON.parse(raw.toString('utf8', bom)) as unknown;
  } catch {
    local.body = UNREADABLE;
  }
}

/**
 * Whether deciding this request needs its body (secrets, job variables, target states; and, for a
 * key with narrowed scopes, the objects a create or update names or makes).
 */
export function restReadsBody(method: string, local: RestLocals, principal: Principal | null = null): boolean {
  if (local.segments === undefined) return false;
  if (decisionReadsBody(method, local.segments)) return true;
  return principal !== null && hasNarrowedScopes(principal) && objectsReadBody(method, local.segments);
}

function hasNarrowedScopes(principal: Principal): boolean {
  return principal.scopes.grants.length > 0 || principal.scopes.denies.length > 0;
}

/** Every permission the request needs, once its body is known. */
export function neededPermissions(method: string, local: RestLocals): Permission[] {
  const requirement = local.requirement;
  if (requirement.kind !== 'permissions') return [];
  const segments = local.segments ?? [];
  const needed: Permission[] = refinePermissions(method, segments, requirement.permissions, local.body);
  const secret = secretPermission(segments);
  if (secret && local.wantsSecretByQuery && !needed.some((p) => formatPermission(p) === formatPermission(secret))) needed.push(secret);
  return needed;
}

/**
 * What the decision needs to know of named objects, for this principal: undefined when it cannot
 * depend on them (no narrowed scope concerns what the request needs, or a scope without a selector
 * settles it), so that keys without selectors never cause a lookup. Pure.
 */
export function objectPlan(method: string, local: RestLocals, principal: Principal | null): LookupPlan | undefined {
  if (principal === null || local.segments === undefined || local.requirement.kind !== 'permissions') return undefined;
  if (!hasNarrowedScopes(principal)) return undefined;
  const needed = neededPermissions(method, local);
  if (!needsObjects(principal.scopes, needed)) return undefined;
  return requiredLookups({ method, segments: local.segments, permissions: needed, ...(local.body !== undefined ? { body: local.body } : {}) });
}

/**
 * The objects to check, in every state the change involves (the update/move rule); undefined when
 * the request is not tied to objects, or its lookups were not made: then only grants without a
 * selector count, never fewer refusals.
 */
function objectsOf(plan: LookupPlan | undefined, local: RestLocals): ObjectFacts[] | undefined {
  if (plan?.type !== 'objects') return undefined;
  const resolved = local.resolved ?? [];
  if (resolved.length !== plan.lookups.length) return undefined;
  return objectsToCheck(plan, resolved, local.body);
}

/** What deciding a REST request comes to: a refusal to answer, the decided operation, a label for the logs. */
export interface RestDecision {
  readonly refusal?: ProxyError;
  readonly decided: DecidedOperation[];
  readonly summary?: string;
  /**
   * Not decided yet: the decision depends on these named objects. Resolve them (in order) into
   * `local.resolved` and decide again. Comes with a refusal (503), for a caller that does not.
   */
  readonly lookups?: readonly Lookup[];
}

/**
 * Checks the principal for what the request needs, on the named objects it touches when a narrowed
 * scope makes them count (`local.resolved` holds what the lookups found). Pure: answers nothing
 * itself, records nothing itself. A refusal names each missing grant and the object it is missing on.
 */
export function decideRest(method: string, local: RestLocals, principal: Principal | null): RestDecision {
  const requirement = local.requirement;
  if (requirement.kind !== 'permissions') return { decided: [] };
  const needed = neededPermissions(method, local);
  const plan = objectPlan(method, local, principal);
  if (plan?.type === 'objects' && plan.lookups.length > 0 && local.resolved === undefined) {
    // A caller that does not look them up refuses: never decided without them.
    return { decided: [], lookups: plan.lookups, refusal: new ProxyError('SERVICE_UNAVAILABLE', 'the objects this request acts on were not looked up') };
  }
  const objects = principal ? objectsOf(plan, local) : undefined;
  const verdict: ObjectVerdict = principal ? decideOnObjects(principal.scopes, needed, objects) : { allowed: true };
  const allowed = verdict.allowed;
  const decided: DecidedOperation[] = [{
    dialect: 'rest',
    operationType: method,
    operationName: requirement.route,
    fields: [local.auditPath ?? local.path, ...auditFields(verdict, objects)],
    allowed,
    permissions: verdict.allowed ? needed.map(formatPermission) : verdict.missing.map((m) => formatPermission(m.permission)),
    // Prefect's read-only POSTs (filters, counts) read; everything else under a write method changes state.
    changesState: !READ_METHODS.has(method) && needed[0]?.[0] !== 'read',
  }];
  const summary = `${method} ${requirement.route}`;
  if (verdict.allowed) return { summary, decided };
  const who = principal ? describePrincipal(principal) : 'this request';
  return { summary, decided, refusal: new ProxyError('FORBIDDEN', `${who} lacks permission: ${verdict.missing.map((m) => m.text).join(', ')}`) };
}

const MAX_AUDITED_OBJECTS = 5;

/** The objects a decision looked at, for the audit row: the one refused first, then the rest, a few at most. */
function auditFields(verdict: ObjectVerdict, objects: readonly ObjectFacts[] | undefined): string[] {
  if (!objects || objects.length === 0) return [];
  const refused = verdict.allowed ? [] : verdict.missing.flatMap((m) => (m.object ? [m.object] : []));
  const fields = [...new Set([...refused, ...objects].map(auditObjectField))];
  return fields.slice(0, MAX_AUDITED_OBJECTS);
}

/** A websocket upgrade under the API: the route, its permission, and the path the upstream socket opens. */
export interface SocketLocals {
  readonly route: string;
  readonly permission: Permission;
  /** Normalized path and query. */
  readonly forwardPath: string;
  /** The path without the query, as audited. */
  readonly auditPath: string;
  /** Decoded path segments below the API mount: the work pool a worker connects for. */
  readonly segments: readonly string[];
}

/** Which of Prefect's websockets an upgrade asks for; undefined for anything else (404). Pure. */
export function classifySocketRequest(url: string, prefix: readonly string[]): SocketLocals | undefined {
  const normalized = normalizePath(url);
  // As for HTTP: the prefix is matched without regard to case.
  if (!normalized.ok || !prefix.every((p, i) => normalized.segments[i]?.toLowerCase() === p.toLowerCase())) return undefined;
  const segments = normalized.segments.slice(prefix.length);
  const found = classifyWebsocket(segments);
  return found && { route: found.route, permission: found.permission, forwardPath: normalized.path + normalized.query, auditPath: normalized.path, segments };
}

/**
 * A websocket session is recorded whatever its end: one operation with the route's permission,
 * decided on the work pool the path names when a narrowed scope makes it count. Pure.
 */
export function decideSocket(local: SocketLocals, principal: Principal | null): RestDecision {
  const needed = [local.permission];
  let verdict: ObjectVerdict = { allowed: true };
  let objects: ObjectFacts[] | undefined;
  if (principal) {
    const plan = needsObjects(principal.scopes, needed) ? requiredLookups({ method: 'WEBSOCKET', segments: local.segments, permissions: needed }) : undefined;
    // Prefect's websockets name their objects in the path; none needs a lookup.
    objects = plan?.type === 'objects' && plan.lookups.length === 0 ? objectsToCheck(plan, [], undefined) : undefined;
    verdict = decideOnObjects(principal.scopes, needed, objects);
  }
  const decided: DecidedOperation[] = [{
    dialect: 'rest', operationType: 'WEBSOCKET', operationName: local.route, fields: [local.auditPath, ...auditFields(verdict, objects)],
    allowed: verdict.allowed, permissions: [formatPermission(local.permission)], changesState: true,
  }];
  const summary = `WEBSOCKET ${local.route}`;
  if (verdict.allowed || !principal) return { decided, summary };
  return {
    decided,
    summary,
    refusal: new ProxyError('FORBIDDEN', `${describePrincipal(principal)} lacks permission: ${verdict.missing.map((m) => m.text).join(', ')}`),
  };
}
