import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Permission } from '../authz';
import { expandRoles, objectScopesCover, splitScopes } from '../authz';
import { formatRateLimit, limitCovers, rateLimitFor } from '../ratelimit';
import type { Config } from '../config';
import { bodyErrorHandler, ProxyError, scopeOf, sendError } from '../http';
import type { KeyAdmin, KeyResolver, Principal } from '../keys';
import { KeyAdminError, parseExpiry } from '../keys';
import type { Logger } from '../log';
import { describeDbError, isDbError } from '../storage';

interface KeyRouteDeps {
  readonly config: Config;
  readonly resolver: KeyResolver;
  readonly keyAdmin: KeyAdmin;
  readonly logger: Logger;
  readonly requireScope: (permission: Permission) => RequestHandler[];
}

const BY_MAX = 11;

type CoverProblem =
  | { readonly kind: 'not-held' | 'deny-missing'; readonly scope: string }
  | { readonly kind: 'limit'; readonly held: string; readonly wanted: string };

/** `/admin/keys`: key management over HTTP, for operators without shell access. Needs `admin/keys`. */
export function createKeyRoutes(deps: KeyRouteDeps): Router {
  const { config, resolver, keyAdmin: admin } = deps;
  const router = express.Router();
  router.use(...deps.requireScope(['admin', 'keys']));
  router.use(express.json({ limit: '64kb' }));

  const principalOf = (req: Request) => scopeOf(req).principal as Principal;
  const by = (req: Request) => principalOf(req).userId.slice(0, BY_MAX);
  const body = (req: Request) => (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
  const text = (value: unknown, name: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new KeyAdminError('INVALID', `"${name}" must be a string`);
    return value;
  };
  const requestedScopes = (req: Request): string => {
    const scopes = text(body(req).scopes, 'scopes');
    const role = text(body(req).role, 'role');
    if (!scopes && !role) throw new KeyAdminError('INVALID', 'give "scopes" or "role"');
    return [scopes, role && `role:${role}`].filter(Boolean).join(', ');
  };
  /** A key may never hand out more than it holds itself. */
  const mustCover = (req: Request, scopes: string): void => {
    const problem = coverProblem(principalOf(req), scopes);
    if (!problem) return;
    throw new ProxyError('FORBIDDEN', problem.kind === 'limit'
      ? `your key is limited to ${problem.held} requests/s and cannot grant a looser limit (${problem.wanted})`
      : problem.kind === 'not-held'
        ? `your key cannot grant "${problem.scope}": it does not hold it`
        : `your key carries "${problem.scope}", so every key it grants must carry it too`);
  };
  /**
   * Revoking, re-enabling, re-scoping or rotating a key is power over its holder: only a key that
   * covers everything the target holds now may do it, or a key admin could revoke (or demote, or
   * take over) the owners above it.
   */
  const mustCoverTarget = async (req: Request, target: string): Promise<void> => {
    const problem = coverProblem(principalOf(req), (await admin.show(target)).scopes);
    if (!problem) return;
    throw new ProxyError('FORBIDDEN', problem.kind === 'limit'
      ? `your key cannot change the key of "${target}": it is limited to ${problem.held} requests/s, that key to ${problem.wanted}`
      : problem.kind === 'not-held'
        ? `your key cannot change the key of "${target}": that key holds "${problem.scope}", yours does not`
        : `your key cannot change the key of "${target}": yours carries "${problem.scope}", that key does not`);
  };
  const coverProblem = (holder: Principal, scopes: string): CoverProblem | undefined => {
    const expanded = expandRoles(splitScopes(scopes), config.roles).scopes;
    // Selectors count: a narrowed grant is handed out only within what the holder's grants cover.
    const verdict = objectScopesCover(holder.effectiveScopes, expanded);
    if (!verdict.ok) return { kind: verdict.reason, scope: verdict.scope };
    const limit = rateLimitFor(splitScopes(scopes), expanded, config.rateLimit);
    if (!limitCovers(holder.rateLimit, limit)) return { kind: 'limit', held: formatRateLimit(holder.rateLimit), wanted: formatRateLimit(limit) };
    return undefined;
  };
  const handle = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) =>
    fn(req, res).catch((err: unknown) => {
      if (err instanceof KeyAdminError) {
        const code = err.code === 'NOT_FOUND' ? 'NOT_FOUND' : err.code === 'CONFLICT' ? 'CONFLICT' : 'BAD_REQUEST';
        return sendError(res, new ProxyError(code, err.message), 'rest');
      }
      if (err instanceof ProxyError) return sendError(res, err, 'rest');
      if (isDbError(err)) {
        // The code only: a driver's message may quote what it was given.
        deps.logger.error('key management failed: key store error', { requestId: scopeOf(req).id, reason: describeDbError(err) });
        return sendError(res, new ProxyError('SERVICE_UNAVAILABLE', 'the key store is unavailable; try again shortly'), 'rest');
      }
      next(err);
    });
  const user = (req: Request) => String(req.params.user);

  router.get('/', handle(async (req, res) => {
    const unused = req.query.unused_days;
    if (unused === undefined) return void res.json(await admin.list());
    res.json(await admin.listUnused(Number(unused)));
  }));

  router.post('/expire-unused', handle(async (req, res) => {
    const days = body(req).days;
    if (typeof days !== 'number') throw new KeyAdminError('INVALID', 'give "days": a whole number');
    const dryRun = body(req).dry_run === true;
    // As for revoke: a key admin cannot expire keys that hold more than theirs.
    for (const target of await admin.listUnused(days)) {
      if (coverProblem(principalOf(req), target.scopes)) throw new ProxyError('FORBIDDEN', `your key cannot expire the key of "${target.user}": it holds more than yours; ask an owner`);
    }
    const { users } = await admin.expireUnused(days, { dryRun, by: by(req) });
    if (!dryRun) for (const u of users) resolver.evictUser(u);
    res.json({ users, dry_run: dryRun });
  }));

  router.post('/', handle(async (req, res) => {
    const scopes = requestedScopes(req);
    mustCover(req, scopes);
    const expires = text(body(req).expires, 'expires');
    const userId = text(body(req).user, 'user') ?? '';
    const { info, key } = await admin.create({ user: userId, scopes, by: by(req), ...(expires ? { expires: parseExpiry(expires) } : {}) });
    res.status(201).json({ ...info, key });
  }));

  router.get('/:user', handle(async (req, res) => {
    res.json(await admin.show(user(req)));
  }));

  router.post('/:user/rotate', handle(async (req, res) => {
    await mustCoverTarget(req, user(req));
    const expires = text(body(req).expires, 'expires');
    const { info, key } = await admin.rotate(user(req), { by: by(req), ...(expires ? { expires: parseExpiry(expires) } : {}) });
    resolver.evictUser(info.user);
    res.json({ ...info, key });
  }));

  router.post('/:user/revoke', handle(async (req, res) => {
    await mustCoverTarget(req, user(req));
    const { info } = await admin.revoke(user(req), by(req));
    resolver.evictUser(info.user);
    res.json(info);
  }));

  router.put('/:user/scopes', handle(async (req, res) => {
    const scopes = requestedScopes(req);
    mustCover(req, scopes);
    await mustCoverTarget(req, user(req));
    const { info } = await admin.setScopes(user(req), scopes, by(req));
    resolver.evictUser(info.user);
    res.json(info);
  }));

  router.put('/:user/expiry', handle(async (req, res) => {
    const at = text(body(req).at, 'at');
    if (!at) throw new KeyAdminError('INVALID', 'give "at": 90d, now, or a date');
    const expiry = parseExpiry(at);
    await mustCoverTarget(req, user(req));
    const { info } = await admin.expire(user(req), expiry, by(req));
    resolver.evictUser(info.user);
    res.json(info);
  }));

  router.use(bodyErrorHandler('rest'));
  return router;
}
