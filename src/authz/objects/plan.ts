import type { InspectedBody } from '../rest';
import { classifyRest, classifyWebsocket, UNREADABLE } from '../rest';
import type { Permission } from '../scopes';
import { kindOfPermission } from './kinds';
import type { Lookup } from './lookups';
import type { Change, RouteRule } from './route-table';
import { OBJECT_ROUTES } from './route-table';
import type { ObjectFacts, ObjectKind } from './types';

/** A classified REST request (or websocket upgrade, method `WEBSOCKET`), with what it needs. */
export interface ObjectRequest {
  readonly method: string;
  /** Decoded path segments below the API mount, as classifyRest takes them. */
  readonly segments: readonly string[];
  /** Every permission the request needs (after refinePermissions and `include_secrets`). */
  readonly permissions: readonly Permission[];
  readonly body?: InspectedBody;
}

export type LookupPlan =
  /** No permission of the request acts on named objects: decide as before, no lookup. */
  | { readonly type: 'unaffected' }
  /** It acts on named objects but not on one the proxy can name: only grants without a selector cover it. */
  | { readonly type: 'untied'; readonly route: string; readonly reason: string }
  | {
    readonly type: 'objects';
    /** `PATCH /deployments/{id:uuid}`. */
    readonly route: string;
    readonly kind: ObjectKind;
    readonly change: Change;
    /** To resolve in this order, each to one ObjectFacts, then hand to objectsToCheck. */
    readonly lookups: readonly Lookup[];
    /** Objects the path names outright (work pools, block documents by name): no lookup. */
    readonly named: readonly ObjectFacts[];
  };

/** Which lookups a request needs before it can be decided. Pure. */
export function requiredLookups(request: ObjectRequest): LookupPlan {
  if (!request.permissions.some((p) => kindOfPermission(p) !== undefined)) return { type: 'unaffected' };
  const found = findRule(request.method, request.segments);
  if (!found) return { type: 'untied', route: `${request.method.toUpperCase()} /${request.segments.join('/')}`, reason: 'the proxy does not tie this route to named objects' };
  const { route, rule, params } = found;
  if (rule.readsBody && request.body === UNREADABLE) return { type: 'untied', route, reason: 'the body cannot be read' };
  const targets = rule.targets(params, asRecord(request.body));
  if (typeof targets === 'string') return { type: 'untied', route, reason: targets };
  return { type: 'objects', route, kind: rule.kind, change: rule.change, lookups: targets.lookups ?? [], named: targets.named ?? [] };
}

/** Whether deciding this route on objects needs its body (the changes it makes, or the ids it names). */
export function objectsReadBody(method: string, segments: readonly string[]): boolean {
  return findRule(method, segments)?.rule.readsBody ?? false;
}

function findRule(method: string, segments: readonly string[]): { route: string; rule: RouteRule; params: Record<string, string> } | undefined {
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  let template: string | undefined;
  if (verb === 'WEBSOCKET') template = classifyWebsocket(segments)?.route;
  else {
    const requirement = classifyRest(verb, segments, false);
    template = requirement.kind === 'permissions' && requirement.matched ? requirement.route : undefined;
  }
  if (template === undefined) return undefined;
  const route = `${verb} ${template}`;
  const rule = OBJECT_ROUTES[route];
  return rule && { route, rule, params: pathParams(template, segments) };
}

/** `{id:uuid}` → `id`, read from the segment at the same place. */
export function pathParams(template: string, segments: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  template.split('/').filter(Boolean).forEach((part, i) => {
    const m = /^\{([^}:]+)(?::[^}]*)?\}$/.exec(part);
    if (m?.[1] !== undefined && segments[i] !== undefined) params[m[1]] = segments[i] as string;
  });
  return params;
}

function asRecord(body: InspectedBody | undefined): Record<string, unknown> | undefined {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? body as Record<string, unknown> : undefined;
}
