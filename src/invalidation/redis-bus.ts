import type Redis from 'ioredis';
import type { Logger } from '../log';
import type { InvalidationBus } from './bus';
import { CHANNEL } from './bus';
import { decodeInvalidation, encodeInvalidation } from './messages';

/**
 * Redis pub/sub, for deployments whose key store cannot notify (MySQL, MariaDB). Publishing uses
 * the shared client; listening needs a connection of its own, which ioredis re-opens and
 * re-subscribes by itself.
 */
export function createRedisBus(redis: Redis, origin: string, logger: Logger): InvalidationBus {
  let subscriber: Redis | undefined;
  return {
    transport: 'redis',
    async publish(invalidation) {
      await redis.publish(CHANNEL, encodeInvalidation(origin, invalidation));
    },
    async listen(handlers) {
      const sub = redis.duplicate({ enableOfflineQueue: true });
      subscriber = sub;
      // Any failure before a 'ready' means messages may have been missed meanwhile.
      let missed = false;
      let up = false;
      sub.on('message', (channel: string, payload: string) => {
        if (channel !== CHANNEL) return;
        const envelope = decodeInvalidation(payload);
        if (envelope && envelope.origin !== origin) handlers.onInvalidation(envelope.invalidation);
      });
      sub.on('ready', () => {
        up = true;
        handlers.onConnectionChange(true);
        if (missed) {
          logger.notice('cache invalidation listener reconnected; clearing the key cache in case a revocation was missed', { transport: 'redis' });
          handlers.onGap();
        }
        missed = false;
      });
      sub.on('close', () => {
        missed = true;
        if (!up) return;
        up = false;
        handlers.onConnectionChange(false);
        logger.warn('cache invalidation listener disconnected; reconnecting', { transport: 'redis' });
      });
      sub.on('error', () => {
        missed = true;
      });
      // Queued until connected; ioredis subscribes again after every reconnect.
      sub.subscribe(CHANNEL).catch((err: Error) => logger.warn('cache invalidation subscription failed', { transport: 'redis', reason: err.message }));
    },
    async close() {
      subscriber?.disconnect();
      subscriber = undefined;
    },
  };
}
