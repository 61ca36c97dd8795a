import type { Invalidation } from './messages';

export interface BusHandlers {
  /** A message from another instance (own messages are filtered out). */
  onInvalidation(invalidation: Invalidation): void;
  /**
   * The listener was disconnected and is back: messages may have been missed meanwhile, so the
   * caller must assume the worst and forget everything.
   */
  onGap(): void;
  onConnectionChange(connected: boolean): void;
}

/** Carries key cache invalidations between the instances of one deployment. */
export interface InvalidationBus {
  readonly transport: 'postgres' | 'redis';
  publish(invalidation: Invalidation): Promise<void>;
  /** Starts listening; reconnects by itself until closed. */
  listen(handlers: BusHandlers): Promise<void>;
  close(): Promise<void>;
}

export const CHANNEL = 'prefect_auth_proxy_cache';
