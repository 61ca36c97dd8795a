import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyApp } from './app';
import { createApp } from './app';
import { createLogAuditSink } from './audit';
import type { Config } from './config';
import type { KeyStore } from './keys';
import { createDatabase, createKeyResolver, createKnexKeyStore, ensureSqliteKeysTable } from './keys';
import type { Logger } from './log';
import { createLogger } from './log';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: KeyStore;
  readonly proxy: ProxyApp;
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes the key store. */
  stop(graceMs?: number): Promise<void>;
}

/** Builds every part from a validated configuration and listens. */
export async function startRuntime(config: Config, warnings: readonly string[] = [], logger?: Logger): Promise<Runtime> {
  const log = logger ?? createLogger({ level: config.log.level, format: config.log.format, env: config.env });
  for (const warning of warnings) log.warn(warning);

  const db = createDatabase(config.db, log);
  if (config.db.type === 'sqlite') await ensureSqliteKeysTable(db);
  const store = createKnexKeyStore(db, config.db.type, config.db.timeoutMs);
  const resolver = createKeyResolver(store, { ...config.keyCache, warn: (m, meta) => log.warn(m, meta) });
  const proxy = createApp({ config, logger: log, resolver, audit: createLogAuditSink(log) });

  const server = proxy.app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Longer than typical load-balancer idle timeouts, so the balancer closes first, never us mid-request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const port = (server.address() as AddressInfo).port;
  log.notice('prefect-auth-proxy listening', {
    address: `${config.host}:${port}`,
    upstream: config.apiServiceUrl.origin + config.apiServiceUrl.pathname,
    keyStore: config.db.type,
    publicAccess: config.allowPublicAccess,
  });

  const stop = async (graceMs = 10_000): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    proxy.close();
    await store.close();
  };
  return { config, logger: log, store, proxy, server, port, stop };
}
