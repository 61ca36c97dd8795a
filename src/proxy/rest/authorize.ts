import type { DecidedOperation } from '../../audit';
import type { Permission } from '../../authz';
import { formatPermission, isAllowed } from '../../authz';
import type { InspectedBody } from '../../authz/rest';
import { classifyRest, classifyWebsocket, decisionReadsBody, normalizePath, queryWantsSecrets, refinePermissions, secretPermission, UNREADABLE } from '../../authz/rest';
import { ProxyError } from '../../http';
import type { Principal } from '../../keys';

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
  /** The parsed body, when there was one: secrets, job variables and target states are read from it. */
  body?: InspectedBody;
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

/** Whether deciding this request needs its body (secrets, job variables, target states). */
export function restReadsBody(method: string, local: RestLocals): boolean {
  return local.segments !== undefined && decisionReadsBody(method, local.segments);
}

/** What deciding a REST request comes to: a refusal to answer, the decided operation, a label for the logs. */
export interface RestDecision {
  readonly refusal?: ProxyError;
  readonly decided: DecidedOperation[];
  readonly summary?: string;
}

/** Checks the principal for what the request needs. Pure: answers nothing itself, records nothing itself. */
export function decideRest(method: string, local: RestLocals, principal: Principal | null): RestDecision {
  const requirement = local.requirement;
  if (requirement.kind !== 'permissions') return { decided: [] };
  const segments = local.segments ?? [];
  const needed: Permission[] = refinePermissions(method, segments, requirement.permissions, local.body);
  const secret = secretPermission(segments);
  if (secret && local.wantsSecretByQuery && !needed.some((p) => formatPermission(p) === formatPermission(secret))) needed.push(secret);
  const missing = principal ? needed.filter((p) => !isAllowed(principal.scopes, p)) : [];
  const allowed = missing.length === 0;
  const decided: DecidedOperation[] = [{
    dialect: 'rest',
    operationType: method,
    operationName: requirement.route,
    fields: [local.auditPath ?? local.path],
    allowed,
    permissions: (allowed ? needed : missing).map(formatPermission),
    // Prefect's read-only POSTs (filters, counts) read; everything else under a write method changes state.
    changesState: !READ_METHODS.has(method) && needed[0]?.[0] !== 'read',
  }];
  const summary = `${method} ${requirement.route}`;
  if (allowed) return { summary, decided };
  const who = principal ? `API key of user ${principal.userId}` : 'this request';
  return { summary, decided, refusal: new ProxyError('FORBIDDEN', `${who} lacks permission: ${missing.map(formatPermission).join(', ')}`) };
}

/** A websocket upgrade under the API: the route, its permission, and the path the upstream socket opens. */
export interface SocketLocals {
  readonly route: string;
  readonly permission: Permission;
  /** Normalized path and query. */
  readonly forwardPath: string;
  /** The path without the query, as audited. */
  readonly auditPath: string;
}

/** Which of Prefect's websockets an upgrade asks for; undefined for anything else (404). Pure. */
export function classifySocketRequest(url: string, prefix: readonly string[]): SocketLocals | undefined {
  const normalized = normalizePath(url);
  // As for HTTP: the prefix is matched without regard to case.
  if (!normalized.ok || !prefix.every((p, i) => normalized.segments[i]?.toLowerCase() === p.toLowerCase())) return undefined;
  const found = classifyWebsocket(normalized.segments.slice(prefix.length));
  return found && { route: found.route, permission: found.permission, forwardPath: normalized.path + normalized.query, auditPath: normalized.path };
}

/** A websocket session is recorded whatever its end: one operation with the route's permission. Pure. */
export function decideSocket(local: SocketLocals, principal: Principal | null): RestDecision {
  const allowed = principal === null || isAllowed(principal.scopes, local.permission);
  const decided: DecidedOperation[] = [{
    dialect: 'rest', operationType: 'WEBSOCKET', operationName: local.route, fields: [local.auditPath],
    allowed, permissions: [formatPermission(local.permission)], changesState: true,
  }];
  if (allowed) return { decided, summary: `WEBSOCKET ${local.route}` };
  return {
    decided,
    summary: `WEBSOCKET ${local.route}`,
    refusal: new ProxyError('FORBIDDEN', `API key of user ${principal.userId} lacks permission: ${formatPermission(local.permission)}`),
  };
}
