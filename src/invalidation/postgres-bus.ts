import { Client } from 'pg';
import type { ClientConfig } from 'pg';
import type { NetworkConnection } from '../config';
import type { Logger } from '../log';
import type { BusHandlers, InvalidationBus } from './bus';
import { CHANNEL } from './bus';
import type { Invalidation } from './messages';
import { decodeInvalidation, encodeInvalidation } from './messages';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;

/** `select pg_notify(channel, payload)` on the key store's pool (storage provides it). */
export type Notify = (channel: string, payload: string) => Promise<void>;

/**
 * LISTEN/NOTIFY on the key store itself: no extra service for PostgreSQL deployments.
 * Publishing goes through the pool (NOTIFY is delivered at commit, i.e. at once outside a
 * transaction); listening needs a connection of its own, kept open and re-opened when it drops:
 * a plain `pg` client, since a pooled connection would be handed back and its LISTEN lost.
 */
export function createPostgresBus(notify: Notify, connection: string | NetworkConnection, origin: string, logger: Logger): InvalidationBus {
  const clientConfig: ClientConfig = typeof connection === 'string'
    ? { connectionString: connection }
    : { host: connection.host, port: connection.port, user: connection.user, password: connection.password, database: connection.database };
  let client: Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async (handlers: BusHandlers, attempt: number, everConnected: boolean): Promise<void> => {
    if (closed) return;
    const next = new Client({ ...clientConfig, connectionTimeoutMillis: 5000, keepAlive: true });
    let lost = false;
    const onLost = (reason: string) => {
      if (lost || closed) return;
      lost = true;
      client = undefined;
      handlers.onConnectionChange(false);
      logger.warn('cache invalidation listener disconnected; reconnecting', { transport: 'postgres', reason });
      next.end().catch(() => undefined);
      schedule(handlers, 1, true);
    };
    next.on('error', (err) => onLost((err as NodeJS.ErrnoException).code ?? err.message));
    next.on('end', () => onLost('connection closed'));
    next.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      const envelope = decodeInvalidation(message.payload);
      if (envelope && envelope.origin !== origin) handlers.onInvalidation(envelope.invalidation);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      lost = true;
      next.end().catch(() => undefined);
      if (attempt === 1) logger.warn('cache invalidation listener cannot connect; retrying', { transport: 'postgres', reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
      schedule(handlers, attempt + 1, everConnected);
      return;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    handlers.onConnectionChange(true);
    // Keys may have been cached while nobody listened: after any failed start, assume a gap too.
    if (everConnected || attempt > 1) {
      logger.notice('cache invalidation listener reconnected; clearing the key cache in case a revocation was missed', { transport: 'postgres' });
      handlers.onGap();
    }
  };

  const schedule = (handlers: BusHandlers, attempt: number, everConnected: boolean) => {
    if (closed) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt - 1, 5));
    retryTimer = setTimeout(() => void connect(handlers, attempt, everConnected), delay);
    retryTimer.unref();
  };

  return {
    transport: 'postgres',
    async publish(invalidation: Invalidation) {
      await notify(CHANNEL, encodeInvalidation(origin, invalidation));
    },
    listen: (handlers) => connect(handlers, 1, false),
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
