import type { Config } from '../config';
import type { Logger } from '../log';
import type { ProxyMetrics } from '../metrics';
import type { InvalidationBus } from './bus';
import type { ChangeSource } from './change-log';
import type { ChangePoller } from './change-poller';
import { createChangePoller } from './change-poller';
import type { Invalidation } from './messages';
import { applyInvalidation } from './messages';

export interface WatchChangesDeps {
  readonly config: Config;
  /** The key store's change table. */
  readonly source: ChangeSource;
  /** This instance's own cache: what the log asks to forget is never published again. */
  readonly local: Parameters<typeof applyInvalidation>[0];
  readonly metrics: Pick<ProxyMetrics, 'invalidation' | 'setInvalidationConnected'>;
  readonly logger: Logger;
  readonly bus: InvalidationBus | undefined;
}

/**
 * Polls the change table when KEY_CHANGE_POLL_INTERVAL is set: the only channel when no bus is
 * configured, a safety net beside one (a dropped notification is applied at the next poll; applying
 * one twice is harmless). Resolves once the start position is read, so that no key is cached
 * before it: a change between the two would be skipped.
 */
export async function watchKeyChanges(deps: WatchChangesDeps): Promise<ChangePoller | undefined> {
  const { config, logger, bus, metrics, local } = deps;
  const ttl = `KEY_CACHE_TTL (${config.keyCache.ttlMs / 1000} s)`;
  if (config.keyChangePollMs === 0) {
    if (!bus) logger.warn(`KEY_CHANGE_POLL_INTERVAL is 0 and CACHE_INVALIDATION is off: a key revoked with the CLI or on another instance keeps working here for up to ${ttl}`);
    return undefined;
  }
  // Beside a bus, the bus owns the metrics; the poller would count each change a second time.
  const counted = !bus;
  const poller = createChangePoller({
    source: deps.source,
    intervalMs: config.keyChangePollMs,
    logger,
    apply(invalidation: Invalidation) {
      applyInvalidation(local, invalidation);
      if (counted) metrics.invalidation('remote', invalidation.kind);
    },
    reset: () => local.reset(),
    missingTableImpact: bus
      ? `Until then key changes reach this instance through CACHE_INVALIDATION=${bus.transport} only.`
      : `Until then a key revoked with the CLI or on another instance keeps working here for up to ${ttl}.`,
    ...(counted ? { onHealthChange: (healthy: boolean) => metrics.setInvalidationConnected(healthy) } : {}),
  });
  await poller.start();
  return poller;
}
