import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Permission } from '../../authz';
import { formatPermission, isAllowed } from '../../authz';
import type { InspectedBody } from '../../authz/rest';
import { classifyRest, normalizePath, queryWantsSecrets, refinePermissions, secretPermission, UNREADABLE } from '../../authz/rest';
import { ProxyError, recordDecision, scopeOf, sendError } from '../../http';

const READ_METHODS = new Set(['GET', 'HEAD']);

/** What the REST dialect learns about a request before and while deciding it. */
export interface RestLocals {
  requirement: ReturnType<typeof classifyRest> | { readonly kind: 'public' };
  /** The normalized path and query: what the upstream gets, so it routes exactly what was checked. */
  forwardPath: string;
  /** The path under the API prefix; undefined outside the API (the web UI's files). */
  segments?: readonly string[];
  /** The decoded path as audited, without a trailing slash. */
  auditPath?: string;
  wantsSecretByQuery?: boolean;
  /** The parsed body, when there was one: secrets, job variables and target states are read from it. */
  body?: InspectedBody;
}

/**
 * Normalizes the path and works out what the request needs, before any key is looked up or body read.
 * The request is forwarded with the normalized path (`forwardPath`), so the upstream routes exactly what was checked.
 * Answers the request itself (400, 405) and returns undefined when it cannot be classified.
 */
export function classifyRestRequest(req: IncomingMessage, res: ServerResponse, prefix: readonly string[]): RestLocals | undefined {
  const scope = scopeOf(req);
  const normalized = normalizePath(req.url ?? '');
  if (!normalized.ok) {
    sendError(res, new ProxyError('BAD_REQUEST', `unsupported path: ${normalized.reason}`), 'rest');
    return undefined;
  }
  scope.path = normalized.path;
  const underApi = prefix.every((p, i) => normalized.segments[i]?.toLowerCase() === p.toLowerCase());
  if (!underApi) {
    // The web UI's static files: public, read-only.
    if (!READ_METHODS.has(req.method ?? '')) {
      sendError(res, new ProxyError('METHOD_NOT_ALLOWED', 'only GET outside the API'), 'rest');
      return undefined;
    }
    scope.route = 'ui';
    return { requirement: { kind: 'public' }, forwardPath: normalized.path + normalized.query };
  }
  const segments = normalized.segments.slice(prefix.length);
  const requirement = classifyRest(req.method ?? '', segments, normalized.trailingSlash);
  scope.route = requirement.kind === 'permissions' ? (requirement.matched ? requirement.route : 'unmatched') : `/${segments.join('/')}`;
  return { requirement, segments, forwardPath: normalized.path + normalized.query, auditPath: `/${normalized.segments.join('/')}`, wantsSecretByQuery: queryWantsSecrets(new URLSearchParams(normalized.query)) };
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

/** Checks the key for what the request needs and audits writes; answers 403 and returns false when it lacks something. */
export function decideRest(req: IncomingMessage, res: ServerResponse, local: RestLocals): boolean {
  const requirement = local.requirement;
  if (requirement.kind !== 'permissions') return true;
  const scope = scopeOf(req);
  const method = req.method ?? '';
  const segments = local.segments ?? [];
  const needed: Permission[] = refinePermissions(method, segments, requirement.permissions, local.body);
  const secret = secretPermission(segments);
  if (secret && local.wantsSecretByQuery && !needed.some((p) => formatPermission(p) === formatPermission(secret))) needed.push(secret);
  const principal = scope.principal;
  const missing = principal ? needed.filter((p) => !isAllowed(principal.scopes, p)) : [];
  const allowed = missing.length === 0;
  scope.summary = `${method} ${requirement.route}`;
  if (!allowed || !READ_METHODS.has(method) && needed[0]?.[0] !== 'read') {
    recordDecision(req, {
      outcome: allowed ? 'ALLOWED' : 'BLOCKED',
      dialect: 'rest',
      operationType: method,
      operationName: requirement.route,
      fields: [local.auditPath ?? scope.path],
      permissions: (allowed ? needed : missing).map(formatPermission),
    });
  }
  if (allowed) return true;
  const who = principal ? `API key of user ${principal.userId}` : 'this request';
  sendError(res, new ProxyError('FORBIDDEN', `${who} lacks permission: ${missing.map(formatPermission).join(', ')}`), 'rest');
  return false;
}
