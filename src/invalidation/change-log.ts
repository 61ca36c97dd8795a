import { HASH_PREFIX, sha256Hex } from '../keys';
import type { Invalidation } from './messages';

/** Rows older than this are deleted; a poller away for half of it resets its cache instead of trusting the log. */
export const CHANGE_RETENTION_SECONDS = 3600;

export interface ChangeRow {
  readonly id: number;
  readonly kind: string;
  readonly subject: string | null;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** What a row asks for. A row this version cannot read (a newer kind, a damaged subject) means: forget everything. */
export function rowToInvalidation(row: Pick<ChangeRow, 'kind' | 'subject'>): Invalidation {
  if (row.kind === 'user' && row.subject) return { kind: 'user', userId: row.subject };
  if (row.kind === 'key' && row.subject && HEX64.test(row.subject)) return { kind: 'key', keyHash: row.subject };
  if (row.kind === 'session' && row.subject && HEX64.test(row.subject)) return { kind: 'session', sessionHash: row.subject };
  return { kind: 'all' };
}

/** A key, or its `sha256:<hex>` form, as the change that forgets it; undefined for anything that cannot be cached. */
export function keyInvalidation(keyOrHash: string): Invalidation | undefined {
  const keyHash = keyOrHash.toLowerCase().startsWith(HASH_PREFIX) ? keyOrHash.slice(HASH_PREFIX.length).toLowerCase() : sha256Hex(keyOrHash);
  return HEX64.test(keyHash) ? { kind: 'key', keyHash } : undefined;
}

/**
 * The change table as the poller reads it (storage implements it over the key store; a fake in
 * unit tests). Every method throws when the key store does not answer.
 */
export interface ChangeSource {
  /** The table's name, for the operator's messages. */
  readonly table: string;
  exists(): Promise<boolean>;
  /** The highest id written so far; 0 for an empty table. */
  latestId(): Promise<number>;
  /** Rows with an id above `after` or in `also`, lowest first, at most `limit`. */
  read(after: number, also: readonly number[], limit: number): Promise<ChangeRow[]>;
}

/** Writes one cache change (a reset, an evicted key) for the other instances; false when it could not. */
export type ChangeRecorder = (change: Invalidation) => Promise<boolean>;
