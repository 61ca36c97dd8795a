import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyApp } from './app';
import { createApp } from './app';
import type { AuditSink } from './audit';
import { combineAuditSinks, createAuthFailureRecorder, createLogAuditSink } from './audit';
import type { Config } from './config';
import type { KeyStore } from './keys';
import { createKeyResolver } from './keys';
import type { Logger } from './log';
import { createLogger } from './log';
import type { InvalidationBus, LocalCaches } from './invalidation';
import { applyInvalidation, createInvalidationBus, createRedisClient, watchKeyChanges, withInvalidation } from './invalidation';
import type { ProxyMetrics } from './metrics';
import { createMetrics, startMetricsServer } from './metrics';
import { createAppContext } from './app-context';
import type { RateLimiter } from './ratelimit';
import { createMemoryLimiter, createRedisLimiter } from './ratelimit';
import { guardServer } from './http';
import { deriveTokenKey } from './sessions';
import type { SignIn } from './signin';
import { createSignIn } from './signin';
import { createTokenVerifier } from './tokens';
import type { DbAuditSink, Storage } from './storage';
import { AUDIT_TABLE, openStorage } from './storage';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: KeyStore;
  readonly audit: AuditSink;
  readonly proxy: ProxyApp;
  readonly server: Server;
  readonly port: number;
  readonly metrics: ProxyMetrics;
  /** The separate metrics port, when METRICS_PORT is set. */
  readonly metricsPort: number | undefined;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`, default SHUTDOWN_GRACE_PERIOD), then closes the key store. */
  stop(graceMs?: number): Promise<void>;
}

/** Builds every part from a validated configuration and listens. */
export async function startRuntime(config: Config, warnings: readonly string[] = [], logger?: Logger): Promise<Runtime> {
  const log = logger ?? createLogger({ level: config.log.level, format: config.log.format, env: config.env });
  for (const warning of warnings) log.warn(warning);

  const signInConfig = config.signIn;
  const storage = openStorage(config.db, {
    roles: config.roles, logger: log,
    ...(signInConfig ? { sessions: { idleTimeoutMs: signInConfig.idleTimeoutMs, ...(signInConfig.secret ? { tokenKey: deriveTokenKey(signInConfig.secret) } : {}) } } : {}),
  });
  // The embedded store is the proxy's own: keep its schema current. Shared databases are migrated by an operator (`db migrate`).
  if (config.db.type === 'sqlite') await storage.migrate();
  else if (signInConfig) {
    // Sessions, and the keys people make, live in tables of this version: without them sign-in would fail at the first person.
    const { pending } = await storage.migrationStatus();
    if (pending.length > 0) throw new Error(`SIGN_IN needs the key store's tables of this version: run \`prefect-auth-proxy db migrate\` (pending: ${pending.join(', ')})`);
  }
  const store = storage.keyStore;
  const metrics = createMetrics({ perUser: config.metrics.perUser });
  const keyUsage = storage.createKeyUsage(config.keyUsageFlushMs);
  const localResolver = createKeyResolver(store, {
    ...config.keyCache, roles: config.roles, defaultRateLimit: config.rateLimit, observer: metrics, warn: (m, meta) => log.warn(m, meta),
    onUse: keyUsage.used,
  });
  const redis = config.redisUrl ? createRedisClient(config.redisUrl, log) : undefined;
  const bus = createInvalidationBus(config, storage.notify, redis, randomUUID(), log);
  const resolver = bus ? withInvalidation(localResolver, bus, { logger: log, onLocal: (i) => metrics.invalidation('local', i.kind) }) : localResolver;
  // Sessions are cached apart from keys; the same invalidations reach both (sign-in is built below).
  let signIn: SignIn | undefined;
  let sessionPurge: NodeJS.Timeout | undefined;
  const local: LocalCaches = {
    evict: (keyOrHash) => localResolver.evict(keyOrHash),
    evictUser: (userId) => localResolver.evictUser(userId),
    reset: () => localResolver.reset(),
    get size() {
      return localResolver.size;
    },
    get sessions() {
      return signIn?.sessions;
    },
  };
  if (bus) listenForInvalidations(bus, local, metrics);
  const keyChanges = await watchKeyChanges({ config, source: storage.changeSource, local, metrics, logger: log, bus });
  const limiter = createLimiter(redis, log);
  const durable = await createDurableAudit(config, storage, log);
  const audit = combineAuditSinks(durable ? [createLogAuditSink(log), durable] : [createLogAuditSink(log)]);
  metrics.watch({ keyCacheSize: () => localResolver.size, audit: () => durable?.stats() });
  let draining = false;
  const rate = { limiter, onRateLimited: metrics.rateLimited };
  const authFailures = createAuthFailureRecorder(audit);
  if (signInConfig) {
    signIn = createSignIn({ config, logger: log, store: storage.sessions, keys: resolver, audit, failures: authFailures, recordChange: storage.recordChange, ownKeys: storage.ownKeys });
    // An unreachable provider does not stop the proxy (keys keep working); /readyz says so until it answers.
    await signIn.start();
    // Ended and expired sessions are kept a week (who signed out, and why), then deleted.
    sessionPurge = setInterval(() => {
      storage.sessions.purgeExpired(Date.now() - SESSION_KEEP_MS).catch((err: unknown) => log.warn('cannot delete old sessions', { reason: (err as Error).message }));
    }, HOUR_MS);
    sessionPurge.unref();
  }
  const tokens = config.trustedIssuers.length > 0 ? createTokenVerifier({
    issuers: config.trustedIssuers, roles: config.roles, fetchTimeoutMs: config.trustedIssuersTimeoutMs, warn: (m, meta) => log.warn(m, meta),
  }) : undefined;
  // An issuer that cannot be reached now may be later: said at start, never a reason not to start.
  if (tokens) {
    for (const check of await tokens.checkIssuers()) {
      if (!check.ok) log.error('trusted issuer cannot be reached: its tokens get 503 until it can', { issuer: check.issuer, reason: check.error });
    }
  }
  const context = createAppContext(config);
  const proxy = createApp({
    config, context, logger: log, resolver, audit, rate, authFailures, metrics, draining: () => draining,
    keyAdmin: storage.keyAdmin, queryAudit: storage.queryAudit, recordChange: storage.recordChange, pingKeyStore: () => store.ping(),
    ...(signIn ? {
      signIn, signInProblem: signInProblem(signIn, storage),
      people: { ownKeys: storage.ownKeys, sessions: storage.sessions, forgetSession: (hash: string) => signIn?.sessions.evict(hash) },
    } : {}),
    ...(tokens ? { tokens } : {}),
  });

  const server = http.createServer(proxy.handler);
  guardServer(server, log);
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  if (config.apiKind === 'rest') server.on('upgrade', proxy.upgrade);
  const metricsServer = config.metrics.port === undefined ? undefined : await startMetricsServer(metrics.registry, config.host, config.metrics.port, log);
  // Longer than typical load-balancer idle timeouts, so the balancer closes first, never us mid-request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const port = (server.address() as AddressInfo).port;
  log.notice('prefect-auth-proxy listening', {
    address: `${config.host}:${port}`,
    upstream: config.apiServiceUrl.origin + config.apiServiceUrl.pathname,
    apiKind: config.apiKind,
    keyStore: config.db.type,
    publicAccess: config.allowPublicAccess,
    cacheInvalidation: config.cacheInvalidation,
    ...(metricsServer ? { metricsPort: metricsServer.port } : {}),
  });

  const stop = async (graceMs = config.shutdownGraceMs): Promise<void> => {
    draining = true;
    clearInterval(sessionPurge);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const socketsClosed = proxy.closeSockets(graceMs);
    // Connections turn idle as their requests finish: close them then, not when clients give up on them.
    server.closeIdleConnections();
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await Promise.all([closed, socketsClosed]);
    clearInterval(sweeper);
    clearTimeout(timer);
    proxy.close();
    await bus?.close();
    await keyChanges?.stop();
    await metricsServer?.close();
    redis?.disconnect();
    // Requests are done: what they audited is queued; write it before the pool closes.
    authFailures.stop();
    await durable?.flush(Math.max(1000, graceMs));
    durable?.stop();
    await keyUsage.close();
    await store.close();
  };
  return { config, logger: log, store, audit, proxy, server, port, metrics, metricsPort: metricsServer?.port, stop };
}

const HOUR_MS = 3_600_000;
const SESSION_KEEP_MS = 7 * 24 * HOUR_MS;

/** Sign-in works when the provider was discovered and the session table answers. */
function signInProblem(signIn: SignIn, storage: Storage): () => Promise<string | undefined> {
  return async () => {
    const provider = signIn.notReady();
    if (provider) return provider;
    return storage.sessions.ping().then(() => undefined, (err: unknown) => (err instanceof Error ? err.message : 'error'));
  };
}

/** Other instances' evictions apply to the local cache only: re-publishing them would echo forever. */
function listenForInvalidations(bus: InvalidationBus, local: Parameters<typeof applyInvalidation>[0], metrics: ProxyMetrics): void {
  void bus.listen({
    onInvalidation(invalidation) {
      applyInvalidation(local, invalidation);
      metrics.invalidation('remote', invalidation.kind);
    },
    onGap: () => local.reset(),
    onConnectionChange: (connected) => metrics.setInvalidationConnected(connected),
  });
}

/** Shared buckets through Redis when configured, else per instance. */
function createLimiter(redis: ReturnType<typeof createRedisClient> | undefined, log: Logger): RateLimiter {
  const memory = createMemoryLimiter();
  if (!redis) return memory;
  let lastReport = 0;
  return createRedisLimiter(redis, memory, (err) => {
    if (Date.now() - lastReport < 60_000) return;
    lastReport = Date.now();
    log.warn('rate limits decided per instance: Redis did not answer', { reason: (err as NodeJS.ErrnoException).code ?? err.message });
  });
}

/** The audit table, when AUDIT_DB asks for it or (auto) when it exists. */
async function createDurableAudit(config: Config, storage: Storage, log: Logger): Promise<DbAuditSink | undefined> {
  const mode = config.audit.db;
  if (mode === 'false') return undefined;
  let exists: boolean | undefined;
  try {
    exists = await storage.hasAuditTable();
  } catch {
    exists = undefined;
  }
  if (exists === false) {
    if (mode === 'true') throw new Error(`AUDIT_DB=true but table ${AUDIT_TABLE} does not exist: run \`prefect-auth-proxy db migrate\``);
    log.notice(`audit trail in logs only: run \`prefect-auth-proxy db migrate\` to create ${AUDIT_TABLE}`);
    return undefined;
  }
  if (exists === undefined) log.warn('key store unreachable at start: audit events wait in memory until it answers');
  const { queueMax, flushIntervalMs, retentionDays } = config.audit;
  return storage.createAuditSink({ logger: log, queueMax, flushIntervalMs, retentionDays });
}
