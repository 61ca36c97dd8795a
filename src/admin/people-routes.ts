import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Permission } from '../authz';
import { ProxyError, scopeOf, sendError } from '../http';
import type { ChangeRecorder } from '../invalidation';
import type { KeyResolver } from '../keys';
import type { Logger } from '../log';
import type { OwnKeyStore } from '../selfservice';
import type { SessionStore } from '../sessions';

export interface PeopleDeps {
  readonly ownKeys: OwnKeyStore;
  readonly sessions: SessionStore;
  readonly resolver: KeyResolver;
  /** Forgets a session's cached principal on this instance. */
  readonly forgetSession: (hash: string) => void;
  readonly recordChange: ChangeRecorder;
  readonly logger: Logger;
  readonly requireScope: (permission: Permission) => RequestHandler[];
}

const PEOPLE: Permission = ['admin', 'people'];

/**
 * `/admin/people/:user/...`: what `prefect-auth-proxy people` does, over HTTP (scope `admin/people`).
 * The person is named as sign-in names them (their email, usually).
 */
export function createPeopleRoutes(deps: PeopleDeps): Router {
  const router = express.Router();
  router.use(...deps.requireScope(PEOPLE));
  router.use(express.json({ limit: '16kb' }));
  const person = (req: Request): string => {
    const user = String(req.params.user);
    if (user.length === 0 || user.length > 255) throw new ProxyError('BAD_REQUEST', 'a person is named by 1 to 255 characters');
    return user;
  };
  const by = (req: Request) => scopeOf(req).principal?.userId ?? 'admin';
  const endSessions = async (user: string): Promise<number> => {
    const hashes = await deps.sessions.endForUser(user, 'revoked');
    for (const hash of hashes) {
      deps.forgetSession(hash);
      await deps.recordChange({ kind: 'session', sessionHash: hash });
    }
    return hashes.length;
  };
  const handle = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) =>
    fn(req, res).catch((err: unknown) => {
      if (err instanceof ProxyError) return sendError(res, err, 'rest');
      deps.logger.error('people management failed', { requestId: scopeOf(req).id, error: err instanceof Error ? err.message : String(err) });
      sendError(res, new ProxyError('SERVICE_UNAVAILABLE', 'the key store is unavailable; try again shortly'), 'rest');
      void next;
    });

  router.post('/:user/disable', handle(async (req, res) => {
    const user = person(req);
    const reason = typeof req.body?.reason === 'string' ? req.body.reason.slice(0, 500) : undefined;
    const { stoppedKeys } = await deps.ownKeys.setDisabled(user, true, { by: by(req), ...(reason ? { reason } : {}) });
    for (const keyUser of stoppedKeys) deps.resolver.evictUser(keyUser);
    res.json({ user, disabled: true, endedSessions: await endSessions(user), stoppedKeys });
  }));

  router.post('/:user/enable', handle(async (req, res) => {
    const user = person(req);
    await deps.ownKeys.setDisabled(user, false, { by: by(req) });
    res.json({ user, disabled: false });
  }));

  router.post('/:user/end-sessions', handle(async (req, res) => {
    const user = person(req);
    res.json({ user, endedSessions: await endSessions(user) });
  }));
  return router;
}
