import express from 'express';
import type { Request, Response, Router } from 'express';
import type { AuditReader } from '../audit';
import type { Permission } from '../authz';
import type { Config, LogLevel } from '../config';
import { LOG_LEVELS } from '../config';
import { ProxyError, scopeOf, sendError } from '../http';
import type { ChangeRecorder } from '../invalidation';
import { keyInvalidation } from '../invalidation';
import type { KeyAdmin, KeyResolver } from '../keys';
import type { Logger } from '../log';
import type { ProxyMetrics } from '../metrics';
import { createAuditRoutes } from './audit-routes';
import { createKeyRoutes } from './key-routes';
import type { PeopleDeps } from './people-routes';
import { createPeopleRoutes } from './people-routes';
import { checkReadiness, createReadinessReporter, describeNotReady } from './readiness';
import { requireDecided } from './require-permission';

export interface AdminDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly resolver: KeyResolver;
  /** Key management on /admin/keys. */
  readonly keyAdmin: KeyAdmin;
  /** Reads the durable audit trail for /admin/audit. */
  readonly queryAudit: AuditReader;
  /** Writes a cache change (POST /cache/reset, DELETE /cache/:key) to the change table the other instances poll. */
  readonly recordChange: ChangeRecorder;
  /** Resolves when the key store answers (/readyz). */
  readonly pingKeyStore: () => Promise<void>;
  /** SIGN_IN: what keeps sign-in from working (provider unreachable, session table missing), for /readyz. */
  readonly signInProblem?: () => Promise<string | undefined>;
  readonly metrics?: ProxyMetrics;
  /** True once SIGTERM arrived: /readyz turns 503 so load balancers stop sending traffic. */
  readonly draining?: () => boolean;
  /** SIGN_IN: /admin/people (disable people, end their sessions). */
  readonly people?: Omit<PeopleDeps, 'requireScope' | 'resolver' | 'recordChange' | 'logger'>;
}

/** Paths the proxy answers itself in every mode; they never reach the upstream. */
export const ADMIN_PATHS = ['/healthcheck', '/readyz', '/metrics', '/logs', '/logs/*rest', '/cache', '/cache/*rest', '/admin/keys', '/admin/keys/*rest', '/admin/audit', '/admin/people/*rest'];

/** The proxy's own routes. All but the health check need a key with an `admin/...` scope. */
export function createAdminRouter(deps: AdminDeps): Router {
  const { config, logger, resolver } = deps;
  const router = express.Router();
  const requireScope = (permission: Permission) => [requireDecided(permission)];

  router.get('/healthcheck', (_req, res) => {
    res.type('text/plain').send('All OK');
  });

  // Readiness for load balancers and Kubernetes: public, like /healthcheck. It says which dependency
  // is down; why (driver errors name database users, hosts, ports) goes to the log only.
  const reportReadiness = createReadinessReporter(logger);
  router.get('/readyz', async (_req: Request, res: Response) => {
    if (deps.draining?.()) return res.status(503).json({ detail: 'not ready: shutting down', status: 'draining' });
    const readiness = await checkReadiness(config, deps.pingKeyStore, deps.signInProblem);
    reportReadiness(readiness);
    res.status(readiness.ready ? 200 : 503).json(readiness.ready
      ? { status: 'ready', ...readiness.checks }
      : { detail: describeNotReady(readiness), ...readiness.checks });
  });

  // With METRICS_PORT set, metrics live there only; here they would need a key anyway.
  const metrics = deps.metrics;
  if (metrics && config.metrics.port === undefined) {
    router.get('/metrics', ...requireScope(['admin', 'metrics']), async (_req: Request, res: Response) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  } else {
    router.get('/metrics', (_req: Request, res: Response) => {
      sendError(res, new ProxyError('NOT_FOUND', 'metrics are served on METRICS_PORT'), 'rest');
    });
  }

  router.post('/logs/:level', ...requireScope(['admin', 'logs']), (req: Request, res: Response) => {
    const level = String(req.params.level).toLowerCase() as LogLevel;
    if (!LOG_LEVELS.includes(level)) {
      return sendError(res, new ProxyError('BAD_REQUEST', `unknown log level; use one of ${LOG_LEVELS.join(', ')}`), 'rest');
    }
    const seconds = config.log.overrideDurationMs / 1000;
    logger.overrideLevel(level, config.log.overrideDurationMs);
    logger.notice(`log level set to ${level} for ${seconds} s`, { requestId: scopeOf(req).id, user: scopeOf(req).principal?.userId });
    res.json({ detail: `log level set to ${level} for ${seconds} s`, level, seconds });
  });

  // `recorded`: written to the change table, so every other instance forgets it too at its next poll.
  router.post('/cache/reset', ...requireScope(['admin', 'cache']), async (_req, res) => {
    const evicted = resolver.size;
    resolver.reset();
    const recorded = await deps.recordChange({ kind: 'all' });
    res.json({ detail: 'key cache cleared', evicted, recorded });
  });

  router.delete('/cache/:key', ...requireScope(['admin', 'cache']), async (req: Request, res: Response) => {
    const evicted = resolver.evict(String(req.params.key));
    const change = keyInvalidation(String(req.params.key));
    const recorded = change ? await deps.recordChange(change) : false;
    res.json({ detail: evicted ? 'key evicted from the cache' : 'key was not cached', evicted, recorded });
  });

  router.use('/admin/keys', createKeyRoutes({ ...deps, requireScope }));
  router.use('/admin/audit', createAuditRoutes({ ...deps, requireScope }));
  if (deps.people) router.use('/admin/people', createPeopleRoutes({ ...deps.people, resolver, recordChange: deps.recordChange, logger, requireScope }));

  router.all(ADMIN_PATHS, (_req, res) => {
    sendError(res, new ProxyError('METHOD_NOT_ALLOWED', 'method not allowed on this proxy route'), 'rest');
  });
  return router;
}
