import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { recordDecision } from '../../audit';
import type { Permission } from '../../authz';
import { formatPermission, isAllowed } from '../../authz';
import { bodyWantsSecrets, classifyRest, normalizePath, queryWantsSecrets, secretPermission } from '../../authz/rest';
import { authenticate } from '../../http/authenticate';
import type { RateGuard } from '../../http/authenticate';
import { ProxyError, sendError } from '../../http/errors';
import { scopeOf } from '../../http/request-scope';
import type { KeyResolver } from '../../keys';
import type { Logger } from '../../log';

export interface RestAuthorizeOptions {
  readonly resolver: KeyResolver;
  readonly logger: Logger;
  readonly allowPublic: boolean;
  readonly apiPrefix: string;
  readonly rate?: RateGuard;
}

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Normalizes the path, works out what the request needs and checks the key for it. The request is
 * forwarded with the normalized path, so the upstream routes exactly what was checked.
 * Returns the steps in order: classify and authenticate (before any body is read), then decide.
 */
export function restAuthorize(options: RestAuthorizeOptions): { identify: RequestHandler[]; decide: RequestHandler } {
  const keyCheck = authenticate({ resolver: options.resolver, logger: options.logger, dialect: 'rest', allowPublic: options.allowPublic, rate: options.rate });
  const prefix = options.apiPrefix.split('/').filter(Boolean);

  const classify: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const normalized = normalizePath(req.originalUrl);
    if (!normalized.ok) return sendError(res, new ProxyError('BAD_REQUEST', `unsupported path: ${normalized.reason}`), 'rest');
    req.url = normalized.path + normalized.query;
    const underApi = prefix.every((p, i) => normalized.segments[i]?.toLowerCase() === p.toLowerCase());
    const local = res.locals as RestLocals;
    if (!underApi) {
      // The web UI's static files: public, read-only.
      if (!READ_METHODS.has(req.method)) return sendError(res, new ProxyError('METHOD_NOT_ALLOWED', 'only GET outside the API'), 'rest');
      local.requirement = { kind: 'public' };
      scopeOf(req).route = 'ui';
      return next();
    }
    const segments = normalized.segments.slice(prefix.length);
    const requirement = classifyRest(req.method, segments, normalized.trailingSlash);
    local.segments = segments;
    local.requirement = requirement;
    scopeOf(req).route = requirement.kind === 'permissions' ? (requirement.matched ? requirement.route : 'unmatched') : `/${segments.join('/')}`;
    local.path = `/${normalized.segments.join('/')}`;
    local.wantsSecretByQuery = queryWantsSecrets(new URLSearchParams(normalized.query));
    next();
  };

  const needKey: RequestHandler = (req, res, next) => {
    if ((res.locals as RestLocals).requirement?.kind === 'public') return next();
    return keyCheck(req, res, next);
  };

  const decide: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    const local = res.locals as RestLocals;
    const requirement = local.requirement;
    if (!requirement || requirement.kind !== 'permissions') return next();
    const scope = scopeOf(req);
    const needed: Permission[] = [...requirement.permissions];
    const secret = secretPermission(local.segments ?? []);
    if (secret && (local.wantsSecretByQuery || local.wantsSecretByBody)) needed.push(secret);
    const principal = scope.principal;
    const missing = principal ? needed.filter((p) => !isAllowed(principal.scopes, p)) : [];
    const allowed = missing.length === 0;
    scope.summary = `${req.method} ${requirement.route}`;
    if (!allowed || !READ_METHODS.has(req.method) && needed[0]?.[0] !== 'read') {
      recordDecision(req, {
        outcome: allowed ? 'ALLOWED' : 'BLOCKED',
        dialect: 'rest',
        operationType: req.method,
        operationName: requirement.route,
        fields: [local.path ?? req.path],
        permissions: (allowed ? needed : missing).map(formatPermission),
      });
    }
    if (allowed) return next();
    const who = principal ? `API key of user ${principal.userId}` : 'this request';
    sendError(res, new ProxyError('FORBIDDEN', `${who} lacks permission: ${missing.map(formatPermission).join(', ')}`), 'rest');
  };

  return { identify: [classify, needKey], decide };
}

export interface RestLocals {
  requirement?: ReturnType<typeof classifyRest>;
  segments?: readonly string[];
  path?: string;
  wantsSecretByQuery?: boolean;
  wantsSecretByBody?: boolean;
}

/** Bodies of block-document requests are read before deciding: `include_secrets` may be in them. */
export function inspectSecretBody(req: Request, res: Response, next: NextFunction): void {
  const local = res.locals as RestLocals;
  const segments = local.segments ?? [];
  if (!secretPermission(segments) || READ_METHODS.has(req.method)) return next();
  const raw = (req.body instanceof Buffer ? req.body : undefined) as Buffer | undefined;
  if (raw && raw.length > 0) {
    try {
      local.wantsSecretByBody = bodyWantsSecrets(JSON.parse(raw.toString('utf8')));
    } catch {
      // What the proxy cannot read, it cannot clear: treat it as asking for secrets.
      local.wantsSecretByBody = true;
    }
  }
  next();
}
